/**
 * Step 2 of folder-upload.ts, and the intent's bookkeeping the appends rely on: a pending intent
 * (an earlier run stopped between APPEND and recording it) is resolved by looking for those
 * messages on the destination, at or above the intent's lower bound (docs/upload-maps.md,
 * "After a crash").
 */
import {locateCopies, type MatchSubject} from './match.js'
import {subjectFromBackup} from './adopt.js'
import type {UploadAttempt} from './upload-attempt.js'
import {sleep} from '../access/retry.js'

export async function resolvePending(attempt: UploadAttempt): Promise<void> {
  const pending = attempt.map.entry(attempt.user, attempt.dest)?.pending
  if (pending === undefined) return
  const entryMap = attempt.entryMap
  const uids = pending.uids.filter((u) => attempt.source.has(u) && !entryMap.has(u))
  if (uids.length > 0) {
    const subjects: MatchSubject[] = []
    for (const uid of uids) {
      const subject = await subjectFromBackup(attempt.source, uid)
      if (subject !== undefined) subjects.push(subject)
    }
    const found = await locateCopies(attempt.session, subjects, {
      from: pending.from,
      candidates: attempt.destUids,
      taken: (d) => attempt.reverse.has(d),
      proof: false,
      signal: attempt.input.signal,
    })
    adoptFound(attempt, found)
    const missing = subjects.filter((s) => !found.has(s.uid))
    if (missing.length > 0) {
      // The intent stays until they are looked for again (lookAgain).
      attempt.uncertain = {from: pending.from, subjects: missing, lookedAt: Date.now()}
      return
    }
  }
  attempt.map.clearPending(attempt.user, attempt.dest)
}

/**
 * The second look for the uncertain messages, just before they would be appended: at least
 * `pendingGraceMs` after the first. A connection that died in the middle of an APPEND can still
 * have the whole message in the server's socket buffer (or a proxy's), and the server then
 * stores it a moment after the client is gone, possibly after this run's first look: appending
 * it again at once would make a second copy (found by the kill -9 reliability suite). The
 * server processes a connection's commands in order and that one has no more, so a message not
 * there after the grace was not appended. Returns the source UIDs still to append.
 */
export async function lookAgain(attempt: UploadAttempt): Promise<number[]> {
  const held = attempt.uncertain!
  const {tuning, signal} = attempt.input
  const wait = held.lookedAt + tuning.pendingGraceMs - Date.now()
  if (wait > 0) {
    attempt.logger.info(`waiting ${wait} ms before looking again for ${held.subjects.length} message(s) an interrupted run may have appended to '${attempt.dest}'`)
    await sleep(wait, signal)
  }
  // A session sees messages other sessions added once the server tells it (RFC 3501 §6.1.2:
  // NOOP polls for them); Dovecot's UID SEARCH alone runs on the view it had.
  await attempt.session.noop()
  const found = await locateCopies(attempt.session, held.subjects, {from: held.from, taken: (d) => attempt.reverse.has(d), proof: false, signal})
  adoptFound(attempt, found)
  attempt.uncertain = undefined
  return held.subjects.filter((s) => !found.has(s.uid)).map((s) => s.uid)
}

function adoptFound(attempt: UploadAttempt, found: ReadonlyMap<number, number>): void {
  attempt.record([...found])
  attempt.report.adopted += found.size
  if (found.size > 0) attempt.logger.info(`found ${found.size} message(s) that an interrupted run had uploaded to '${attempt.dest}'`)
}

/**
 * An intent that also names the messages still in doubt: an interrupted run's not found yet
 * (`uncertain`) and this run's appended but not found again (`unfound`), so that a crash now
 * leaves them for the next run to look for.
 */
export function withHeld(attempt: UploadAttempt, intent: {from: number; uids: number[]}): {from: number; uids: number[]} {
  let {from, uids} = intent
  if (attempt.uncertain !== undefined) {
    from = Math.min(from, attempt.uncertain.from)
    uids = [...attempt.uncertain.subjects.map((s) => s.uid), ...uids]
  }
  if (attempt.unfound !== undefined) {
    from = Math.min(from, attempt.unfound.from)
    uids = [...attempt.unfound.uids, ...uids]
  }
  return {from, uids}
}

/** The intent is done with, unless it still names messages in doubt (then it stays as it is). */
export function clearPending(attempt: UploadAttempt): void {
  if (attempt.uncertain === undefined && attempt.unfound === undefined) attempt.map.clearPending(attempt.user, attempt.dest)
}
