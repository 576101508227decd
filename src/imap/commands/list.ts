/**
 * LIST "" "*" (RFC 3501 §6.3.8), with `RETURN (STATUS (…))` (RFC 5819 LIST-STATUS, on the
 * extended syntax of RFC 5258) when asked for status and the server announces LIST-STATUS:
 * one round trip for every folder's UIDVALIDITY, UIDNEXT, MESSAGES (and HIGHESTMODSEQ,
 * RFC 7162 §3.1.2.1). `RETURN (SPECIAL-USE …)` (RFC 6154 §5.2) keeps the special-use
 * attributes, which servers may leave out of a LIST that has RETURN options.
 */
import type {ImapResponse} from 'imapflow'
import {RemoteError} from '../../shared/errors.js'
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
  let malformed = 0
  await command(flow, 'LIST', args, {
    LIST: (untagged: ImapResponse) => {
      const [flags, delimiter, name] = untagged.attributes ?? []
      const wire = text(name)
      // RFC 3501 §7.2.2: `LIST (attributes) delimiter mailbox`. An answer without a mailbox name
      // must not be dropped in silence: the folder it was about would look gone (and mirror mode
      // deletes the local copy of folders the server no longer lists).
      if (wire === null || !Array.isArray(flags)) {
        malformed++
        return
      }
      entries.push({wire, name: decodeMailboxName(wire), delimiter: text(delimiter), flags: strings(flags)})
    },
    STATUS: (untagged: ImapResponse) => {
      const [name, items] = untagged.attributes ?? []
      const wire = text(name)
      if (wire !== null) status.set(wire, parseStatusList(items))
    },
  })
  if (malformed > 0) {
    throw new RemoteError(`the server sent ${malformed} LIST answer(s) without a readable folder name, so its folder list cannot be trusted`, {
      hint: 'this is a server problem; rerun later, and report it to the server operator if it persists',
    })
  }
  return {entries, status}
}
