/**
 * LIST of every folder (RFC 3501 §6.3.8), with their STATUS when asked: inline through LIST-STATUS
 * (RFC 5819) where the server offers it, else one STATUS per folder. Remembers each folder's wire
 * name (commands/mailbox-name.ts), so that later commands name it as the server listed it.
 */
import type {Logger} from '../shared/logger.js'
import {listMailboxes, type ListResult} from './commands/list.js'
import type {MailboxNames} from './commands/mailbox-name.js'
import {statusCommand} from './commands/status.js'
import {distinctNames} from './distinct-names.js'
import type {FlowInternals} from './flow-internals.js'
import type {Capabilities, RemoteFolder} from './types.js'

const SPECIAL_USE = new Set(['\\ALL', '\\ARCHIVE', '\\DRAFTS', '\\FLAGGED', '\\JUNK', '\\SENT', '\\TRASH', '\\IMPORTANT'])

/** The STATUS items every folder status holds; HIGHESTMODSEQ with CONDSTORE (RFC 7162 §3.1.6). */
export function statusItems(capabilities: Capabilities): string[] {
  return ['UIDVALIDITY', 'UIDNEXT', 'MESSAGES', ...(capabilities.condstore ? ['HIGHESTMODSEQ'] : [])]
}

export interface FolderListParts {
  flow: FlowInternals
  names: MailboxNames
  capabilities: Capabilities
  logger: Logger
  /** Tells the link watch that one STATUS of the listing completed. */
  progress: () => void
}

export class FolderList {
  /** The server refused LIST … RETURN (STATUS …) once: use STATUS per folder from now on. */
  private statusRefused = false

  constructor(private readonly parts: FolderListParts) {}

  async list(options: {status?: boolean} = {}): Promise<RemoteFolder[]> {
    const {flow, capabilities, logger} = this.parts
    const items = statusItems(capabilities)
    const inline = options.status === true && capabilities.listStatus && !this.statusRefused
    const all = '*'
    let result: ListResult
    try {
      result = await listMailboxes(flow, {reference: '', mailbox: all}, inline ? {statusItems: items, specialUse: capabilities.all.has('SPECIAL-USE')} : {})
    } catch (error) {
      // RFC 9051 §6.3.9: BAD is how a server refuses RETURN options it does not know.
      if (!inline || (error as {responseStatus?: unknown}).responseStatus !== 'BAD') throw error
      logger.debug('LIST RETURN (STATUS) refused: falling back to STATUS per folder')
      this.statusRefused = true
      result = await listMailboxes(flow, {reference: '', mailbox: all})
    }
    const folders: RemoteFolder[] = []
    // Names that decode alike get distinct ones (distinct-names.ts): each is its own folder.
    const names = distinctNames(result.entries)
    for (const [i, entry] of result.entries.entries()) {
      const name = names[i]!
      this.parts.names.remember(name, entry.wire)
      const upper = entry.flags.map((f) => f.toUpperCase())
      const noselect = upper.includes('\\NOSELECT') || upper.includes('\\NONEXISTENT')
      const special = entry.flags.find((f) => SPECIAL_USE.has(f.toUpperCase()))
      const folder: RemoteFolder = {name, delimiter: entry.delimiter, flags: entry.flags, noselect}
      if (name !== entry.name) folder.decodesAs = entry.name
      if (special !== undefined) folder.specialUse = special
      if (options.status === true && !noselect) {
        const inlineStatus = result.status.get(entry.wire)
        if (inlineStatus !== undefined) folder.status = inlineStatus
        else await this.statusOf(folder, items)
      }
      folders.push(folder)
    }
    return folders
  }

  private async statusOf(folder: RemoteFolder, items: string[]): Promise<void> {
    try {
      folder.status = await statusCommand(this.parts.flow, this.parts.names.node(folder.name), items)
      this.parts.progress() // one STATUS per folder in one operation: each completes
    } catch (error) {
      // The folder went away between LIST and STATUS, or cannot be examined: it is listed
      // without status, and EXAMINE will say what is wrong with it.
      if ((error as {responseStatus?: unknown}).responseStatus !== 'NO') throw error
      this.parts.logger.debug('STATUS refused for a listed folder', {folder: folder.name})
    }
  }
}
