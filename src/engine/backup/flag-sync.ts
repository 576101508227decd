/**
 * Stored flags follow the server's (docs/backup.md, "Flags"): in mirror mode and with --refresh
 * always, by default wherever the server makes it cheap (CONDSTORE), never with `freeze_flags`
 * (imap-backup's behaviour, compat §6.5). folder-plan.ts `flagsFollow` decides; this module does it.
 *
 * The folder records the HIGHESTMODSEQ up to which its flags follow the server's (`flagsModseq`,
 * docs/design.md). With CONDSTORE and that checkpoint, only messages changed since it are asked
 * for (`UID FETCH 1:<stored UIDNEXT−1> (FLAGS) (CHANGEDSINCE m)`, RFC 7162 §3.1.4); a QRESYNC
 * EXAMINE given that same mod-sequence already carries those FETCH responses (§3.2.5.1), so
 * nothing more is sent. Without a checkpoint (flags never compared: an older mailkeep, a run
 * with `freeze_flags`, or a keep-all run that moved the stored HIGHESTMODSEQ on without looking
 * at flags), the FLAGS of every stored message are fetched once, in UID ranges of a few thousand
 * so that no answer is large; without CONDSTORE, every time (only with --refresh or mirror mode).
 * A flag update is written only when the flags differ.
 */
import type {ImapSession, OpenedFolder} from '../../imap/types.js'
import {throwIfAborted} from '../../shared/context.js'
import type {FolderRun} from './folder-run.js'
import {ascending, slices} from '../access/uid-lists.js'

export interface FlagSyncInput {
  run: FolderRun
  session: ImapSession
  opened: OpenedFolder
  condstore: boolean
  /** The stored UIDNEXT, when the stored state is complete for this UIDVALIDITY. */
  complete: number | undefined
  /** The HIGHESTMODSEQ up to which the stored flags follow the server's (`flagsModseq`). */
  flagsModseq: string | undefined
  /** The mod-sequence the EXAMINE gave QRESYNC, when it did: `opened.changed` is since then. */
  qresyncSince: string | undefined
  /** UIDs stored before this run's downloads (messages fetched now already have current flags). */
  storedBefore: readonly number[]
  signal: AbortSignal
}

export interface FlagSyncResult {
  /** UIDs the server reported expunged since `since` (QRESYNC's VANISHED modifier). */
  vanished: number[]
  /** The mod-sequence `vanished` is counted from; undefined when there is none. */
  since?: string
  /** How the flags were checked, for the debug log and the tests' command counts. */
  method: 'unchanged' | 'qresync' | 'changedsince' | 'full'
}

/** FLAGS answers are at most this many messages. */
const FLAG_SLICE = 5000

export async function syncFlags(input: FlagSyncInput): Promise<FlagSyncResult> {
  const {run, session, opened, complete, flagsModseq} = input
  if (input.condstore && complete !== undefined && flagsModseq !== undefined && opened.highestModseq !== undefined) {
    // Every flag change and expunge raises HIGHESTMODSEQ (RFC 7162 §3.1.1).
    if (opened.highestModseq === flagsModseq) return {vanished: [], method: 'unchanged'}
    if (complete <= 1) return {vanished: [], method: 'unchanged'}
    if (opened.changed !== undefined && input.qresyncSince === flagsModseq) {
      // A QRESYNC EXAMINE already listed the messages changed since then (RFC 7162 §3.2.5.1).
      for (const {uid, flags} of opened.changed) await run.followFlags(uid, flags)
      return {vanished: [], method: 'qresync'}
    }
    const changes = await session.fetchFlags(`1:${complete - 1}`, {changedSince: flagsModseq})
    for (const {uid, flags} of changes.changed) await run.followFlags(uid, flags)
    return changes.vanished === undefined ? {vanished: [], method: 'changedsince'} : {vanished: changes.vanished, since: flagsModseq, method: 'changedsince'}
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
