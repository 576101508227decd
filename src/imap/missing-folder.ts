/**
 * Whether a NO to a command naming a folder means "no such folder": the engine tells a folder
 * that is gone (MissingFolderError: skipped, reported) from one the server refuses for another
 * reason (the NO itself).
 */
import {MissingFolderError} from '../shared/errors.js'
import {listMailboxes} from './commands/list.js'
import type {MailboxNames} from './commands/mailbox-name.js'
import type {FlowInternals} from './flow-internals.js'
import {responseCode} from './response.js'

/** MissingFolderError for a NO that means "no such folder" (RFC 5530 NONEXISTENT, or LIST says so); else `error`. */
export async function missingOr(flow: FlowInternals, names: MailboxNames, error: unknown, folder: string): Promise<unknown> {
  if ((error as {responseStatus?: unknown}).responseStatus !== 'NO') return error
  const response = (error as {response?: unknown}).response
  const code = typeof response === 'object' && response !== null ? responseCode(response)?.code : undefined
  if (code === 'NONEXISTENT') return new MissingFolderError(folder, {cause: error})
  if (code !== undefined) return error
  // A NO without a response code: LIST the name, and a folder it does not show is missing.
  const wire = names.wire(folder)
  try {
    const {entries} = await listMailboxes(flow, {reference: '', mailbox: wire})
    const same = (w: string): boolean => w === wire || (wire.toUpperCase() === 'INBOX' && w.toUpperCase() === 'INBOX')
    const found = entries.find((e) => same(e.wire))
    if (found === undefined || found.flags.some((f) => f.toUpperCase() === '\\NONEXISTENT')) return new MissingFolderError(folder, {cause: error})
  } catch {
    // The LIST failed too: report the original NO.
  }
  return error
}
