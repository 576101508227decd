/**
 * Stored flags follow the server's (mirror mode, or --refresh in keep-all mode; compat §6.5).
 *
 * With CONDSTORE and a stored HIGHESTMODSEQ, only messages changed since then are asked for
 * (`UID FETCH 1:<stored UIDNEXT−1> (FLAGS) (CHANGEDSINCE m)`, RFC 7162 §3.1.4), and with QRESYNC
 * the same answer lists the UIDs expunged since (VANISHED, §3.2.6). A QRESYNC EXAMINE that was
 * given the stored state already carries those FETCH responses, so nothing more is sent. Otherwise the FLAGS of every
 * stored message are fetched, in UID ranges of a few thousand so that no answer is large.
 * A flag update is written only when the flags differ.
 */
import type {ImapSession, OpenedFolder} from '../imap/types.js'
import {throwIfAborted} from '../shared/context.js'
import type {FolderRun} from './folder-run.js'
import {ascending, slices} from './uid-set.js'

export interface FlagSyncInput {
  run: FolderRun
  session: ImapSession
  opened: OpenedFolder
  condstore: boolean
  /** The stored UIDNEXT, when the stored state is complete for this UIDVALIDITY. */
  complete: number | undefined
  /** The stored HIGHESTMODSEQ (the state the folder was last complete up to). */
  storedModseq: string | undefined
  /** UIDs stored before this run's downloads (messages fetched now already have current flags). */
  storedBefore: readonly number[]
  signal: AbortSignal
}

export interface FlagSyncResult {
  /** UIDs the server reported expunged (QRESYNC), for mirror mode. */
  vanished: number[]
  /** How the flags were checked, for the debug log and the tests' command counts. */
  method: 'unchanged' | 'qresync' | 'changedsince' | 'full'
}

/** FLAGS answers are at most this many messages. */
const FLAG_SLICE = 5000

export async function syncFlags(input: FlagSyncInput): Promise<FlagSyncResult> {
  const {run, session, opened, complete, storedModseq} = input
  if (input.condstore && complete !== undefined && storedModseq !== undefined && opened.highestModseq !== undefined) {
    // Every flag change and expunge raises HIGHESTMODSEQ (RFC 7162 §3.1.1).
    if (opened.highestModseq === storedModseq) return {vanished: [], method: 'unchanged'}
    if (complete <= 1) return {vanished: [], method: 'unchanged'}
    if (opened.changed !== undefined) {
      // A QRESYNC EXAMINE already listed the messages changed since then (RFC 7162 §3.2.5.1).
      for (const {uid, flags} of opened.changed) await run.followFlags(uid, flags)
      return {vanished: [], method: 'qresync'}
    }
    const changes = await session.fetchFlags(`1:${complete - 1}`, {changedSince: storedModseq})
    for (const {uid, flags} of changes.changed) await run.followFlags(uid, flags)
    return {vanished: changes.vanished ?? [], method: 'changedsince'}
  }
  const stored = [...input.storedBefore].sort(ascending)
  for (const slice of slices(stored, FLAG_SLICE)) {
    throwIfAborted(input.signal)
    const first = slice[0]!
    const last = slice[slice.length - 1]!
    const changes = await session.fetchFlags(first === last ? String(first) : `${first}:${last}`)
    for (const {uid, flags} of changes.changed) await run.followFlags(uid, flags)
  }
  return {vanished: [], method: 'full'}
}
