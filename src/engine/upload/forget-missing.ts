/**
 * Step 3 of folder-upload.ts: copies gone from the destination are forgotten, so that restore and
 * mirror upload them again; copy and migrate leave them gone and say so.
 */
import type {UploadAttempt} from './upload-attempt.js'

export function forgetMissing(attempt: UploadAttempt, reupload: boolean): void {
  const gone = [...attempt.entryMap].filter(([, d]) => !attempt.destSet.has(d))
  if (gone.length === 0) return
  if (!reupload) {
    attempt.input.state.notes.add(`${gone.length} message(s) copied earlier are no longer in '${attempt.dest}'; they are not copied again`)
    return
  }
  for (const [, d] of gone) attempt.reverse.delete(d)
  attempt.map.forget(attempt.user, attempt.dest, gone.map(([s]) => s))
}
