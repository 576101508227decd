/**
 * Uploading one backed-up folder into one destination folder, idempotently (docs/upload-maps.md).
 * Shared by restore, copy, mirror and migrate; they differ only in the UploadPolicy
 * (folder-upload-input.ts).
 *
 * One attempt, on one session (upload-attempt.ts; the caller retries on a new connection after a
 * broken link; every step is safe to repeat). The steps, each in its own file:
 *
 * 1. SELECT the destination; the map entry counts only for this source UIDVALIDITY and this
 *    destination UIDVALIDITY, else it starts afresh (compat §8 step 3, without emptying
 *    anything) — upload-attempt.ts;
 * 2. a pending intent (an earlier run stopped between APPEND and recording it) is resolved by
 *    looking for those messages on the destination, at or above the intent's lower bound —
 *    pending-intent.ts;
 * 3. copies gone from the destination are forgotten, so restore and mirror upload them again —
 *    forget-missing.ts;
 * 4. mirror: copies whose source message is gone from the backup are deleted — only those —
 *    delete-gone.ts;
 * 5. restore into the folder the backup came from: the same UID under the same UIDVALIDITY is the
 *    same message (compat §7 step 1), checked against the recorded size — same-uids.ts;
 * 6. destination messages that are byte-identical copies of unmapped source messages are adopted
 *    into the map instead of being uploaded again — adopt-unrecorded.ts;
 * 7. copy, mirror: the flags of mapped copies are set to the stored ones — sync-flags.ts;
 * 8. the rest is appended in batches: the batch's intent first (fsynced), then each APPEND with
 *    its flags and INTERNALDATE, then the new UIDs (APPENDUID, or found again without UIDPLUS) —
 *    append-rest.ts (batches cut by append-batches.ts, each APPEND by append-one.ts).
 *
 * Steps 4, 6 and 8 count a message once however many entries of the backup it has
 * (src/store/message-identity.ts, U7): a copy that a restore made on the account's own server and the next
 * backup downloaded is the same message as the entry it was restored from.
 *
 * The backup is only read. The map records progress through its journal: a batch costs one
 * fsync, never a rewrite of the whole map.
 */
import {throwIfAborted} from '../../shared/context.js'
import type {FolderUploadInput} from './folder-upload-input.js'
import {UploadAttempt} from './upload-attempt.js'
import {lookAgain, resolvePending} from './pending-intent.js'
import {forgetMissing} from './forget-missing.js'
import {deleteGone} from './delete-gone.js'
import {matchSameUids} from './same-uids.js'
import {adoptUnrecorded} from './adopt-unrecorded.js'
import {syncFlags} from './sync-flags.js'
import {appendRest} from './append-rest.js'

export async function uploadFolder(input: FolderUploadInput): Promise<void> {
  const {source, policy, signal} = input
  const attempt = await UploadAttempt.open(input)
  const sourceValidity = source.uidValidity!

  await resolvePending(attempt)
  forgetMissing(attempt, policy.reuploadMissing)
  if (policy.deleteGone) await deleteGone(attempt)
  if (policy.sameUidsAreCopies && sourceValidity === attempt.opened.uidValidity) await matchSameUids(attempt)
  throwIfAborted(signal)
  await adoptUnrecorded(attempt)
  if (policy.syncFlags) await syncFlags(attempt)
  // A message in doubt is held back whole: appending another entry of it now would make a
  // second copy if the dead connection's APPEND lands after all.
  const held = new Set(attempt.uncertain?.subjects.map((s) => s.uid) ?? [])
  const identity = attempt.identity()
  await appendRest(attempt, attempt.uniqueSourceUids().filter((u) => !identity.members(u).some((m) => held.has(m))))
  if (attempt.uncertain !== undefined) await appendRest(attempt, await lookAgain(attempt))
  await attempt.map.sync()
  const final = attempt.identity()
  const mapped = attempt.mappedIn(attempt.entryMap)
  input.state.present = attempt.uniqueSourceUids().filter((u) => final.members(u).some(mapped)).length
}
