/**
 * LIST "" "*" (RFC 3501 §6.3.8), with `RETURN (STATUS (…))` (RFC 5819 LIST-STATUS, on the
 * extended syntax of RFC 5258) when asked for status and the server announces LIST-STATUS:
 * one round trip for every folder's UIDVALIDITY, UIDNEXT, MESSAGES (and HIGHESTMODSEQ,
 * RFC 7162 §3.1.2.1). `RETURN (SPECIAL-USE …)` (RFC 6154 §5.2) keeps the special-use
 * attributes, which servers may leave out of a LIST that has RETURN options.
 */
import type {ImapResponse} from 'imapflow'
import {command, type FlowInternals, type WireNode} from '../flow-internals.js'
import {decodeMailboxName} from '../mutf7.js'
import {parseStatusList, strings, text} from '../response.js'
import type {FolderStatus} from '../types.js'

export interface ListEntry {
  /** The name exactly as the server sent it (modified UTF-7). */
  wire: string
  /** Decoded to UTF-8 (lone surrogates kept). */
  name: string
  delimiter: string | null
  flags: string[]
}

export interface ListResult {
  entries: ListEntry[]
  /** STATUS data from LIST-STATUS, by wire name. */
  status: Map<string, FolderStatus>
}

export async function listMailboxes(
  flow: FlowInternals,
  pattern: {reference: string; mailbox: string},
  options: {statusItems?: string[]; specialUse?: boolean} = {},
): Promise<ListResult> {
  const entries: ListEntry[] = []
  const status = new Map<string, FolderStatus>()
  const args: WireNode[] = [{type: 'STRING', value: pattern.reference}, {type: 'STRING', value: pattern.mailbox}]
  const returns: WireNode[] = []
  if (options.specialUse) returns.push({type: 'ATOM', value: 'SPECIAL-USE'})
  if (options.statusItems && options.statusItems.length > 0) {
    returns.push({type: 'ATOM', value: 'STATUS'}, options.statusItems.map((item): WireNode => ({type: 'ATOM', value: item})))
  }
  if (returns.length > 0) args.push({type: 'ATOM', value: 'RETURN'}, returns)
  await command(flow, 'LIST', args, {
    LIST: (untagged: ImapResponse) => {
      const [flags, delimiter, name] = untagged.attributes ?? []
      const wire = text(name)
      if (wire === null) return
      entries.push({wire, name: decodeMailboxName(wire), delimiter: text(delimiter), flags: strings(flags)})
    },
    STATUS: (untagged: ImapResponse) => {
      const [name, items] = untagged.attributes ?? []
      const wire = text(name)
      if (wire !== null) status.set(wire, parseStatusList(items))
    },
  })
  return {entries, status}
}
