/**
 * Step 8 of folder-upload.ts: the messages with no copy yet are appended in batches. Per batch,
 * its intent first (fsynced, docs/upload-maps.md), then each APPEND (append-one.ts), then the new
 * UIDs: from APPENDUID, or found again on the destination without UIDPLUS. The intent before
 * the APPEND is U2 (docs/upload-maps.md): whatever a crash leaves on the destination unrecorded,
 * the next run knows where to look for it.
 */
import {throwIfAborted} from '../../shared/context.js'
import {toAppend} from '../../store/message-identity.js'
import {locateCopies, type MatchSubject} from './match.js'
import {knownUploadSize} from './message.js'
import {appendOne} from './append-one.js'
import {appendBatches, type MessageSize} from './append-batches.js'
import {clearPending, withHeld} from './pending-intent.js'
import type {UploadAttempt} from './upload-attempt.js'

export async function appendRest(attempt: UploadAttempt, sourceUids: readonly number[]): Promise<void> {
  const {source, session, map, user, dest} = attempt
  const signal = attempt.input.signal
  const todo = toAppend(sourceUids, attempt.identity(), attempt.mappedIn(attempt.entryMap))
  if (todo.length === 0) return
  const limit = session.capabilities.appendLimit
  const sizeOf = (uid: number): MessageSize => {
    const known = knownUploadSize(source, uid)
    return {bytes: known ?? source.entry(uid)?.length ?? 0, known: known !== undefined}
  }
  const {batchMessages, batchBytes} = attempt.input.tuning
  const {batches, total} = appendBatches(todo, sizeOf, {batchMessages, batchBytes, appendLimit: limit}, (uid, reason) => attempt.skip(uid, reason))
  if (batches.length === 0) return

  const task = attempt.input.progress.start(`${attempt.report.source} → ${dest}`, {messages: batches.reduce((n, b) => n + b.length, 0), bytes: total})
  try {
    let lowerBound = Math.max(attempt.opened.uidNext, (attempt.destUids[attempt.destUids.length - 1] ?? 0) + 1)
    let carried: {from: number; subjects: MatchSubject[]} | undefined
    for (const batch of batches) {
      throwIfAborted(signal)
      const from = lowerBound
      const intentFrom = carried === undefined ? from : Math.min(carried.from, from)
      await map.intend(user, dest, withHeld(attempt, {from: intentFrom, uids: [...(carried?.subjects.map((s) => s.uid) ?? []), ...batch]}))
      const unresolved: MatchSubject[] = []
      for (const uid of batch) {
        throwIfAborted(signal)
        const outcome = await appendOne(attempt, uid, limit)
        if (outcome === undefined) continue
        task.advance(1, outcome.bytes)
        if (outcome.uid !== undefined) {
          attempt.record([[uid, outcome.uid]])
          lowerBound = Math.max(lowerBound, outcome.uid + 1)
        } else {
          unresolved.push(outcome.subject)
        }
      }
      if (unresolved.length > 0) {
        const found = await locateCopies(session, unresolved, {from, taken: (d) => attempt.reverse.has(d), proof: false, signal})
        attempt.record([...found])
        for (const d of found.values()) lowerBound = Math.max(lowerBound, d + 1)
        const missing = unresolved.filter((s) => !found.has(s.uid))
        carried = missing.length === 0 && carried === undefined ? undefined : {from: intentFrom, subjects: [...(carried?.subjects ?? []), ...missing]}
      }
      if (carried === undefined) clearPending(attempt)
    }
    if (carried !== undefined) {
      // One more look for appended messages not found right after their batch.
      const found = await locateCopies(session, carried.subjects, {from: carried.from, taken: (d) => attempt.reverse.has(d), proof: false, signal})
      attempt.record([...found])
      const missing = carried.subjects.filter((s) => !found.has(s.uid))
      if (missing.length === 0) clearPending(attempt)
      else {
        attempt.unfound = {from: Math.min(attempt.unfound?.from ?? carried.from, carried.from), uids: [...(attempt.unfound?.uids ?? []), ...missing.map((s) => s.uid)]}
        await map.intend(user, dest, withHeld(attempt, {from: carried.from, uids: []}))
        attempt.input.state.unresolved = attempt.unfound.uids.length
        attempt.input.state.notes.add(
          `${missing.length} message(s) were appended but could not be found again on the destination (the server has no UIDPLUS): the next run looks for them before appending anything (source UIDs ${missing
            .slice(0, 10)
            .map((s) => s.uid)
            .join(', ')}${missing.length > 10 ? ', …' : ''})`,
        )
      }
    }
  } finally {
    task.done()
  }
}
