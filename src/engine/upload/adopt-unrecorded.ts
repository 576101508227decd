/**
 * Step 6 of folder-upload.ts: destination messages that are byte-identical copies of unmapped
 * source messages (adopt.ts) are recorded in the map instead of being uploaded again. A message
 * of several entries (U7) is looked for once.
 */
import {findCopies} from './adopt.js'
import type {UploadAttempt} from './upload-attempt.js'
import {toAppend} from '../../store/message-identity.js'

export async function adoptUnrecorded(attempt: UploadAttempt): Promise<void> {
  const entryMap = attempt.entryMap
  const unmappedDest = attempt.destUids.filter((d) => !attempt.reverse.has(d))
  if (unmappedDest.length === 0) return
  const unmappedSource = toAppend(attempt.uniqueSourceUids(), attempt.identity(), attempt.mappedIn(entryMap))
  if (unmappedSource.length === 0) return
  const found = await findCopies(attempt.session, attempt.source, unmappedSource, unmappedDest, (d) => attempt.reverse.has(d), attempt.input.signal)
  attempt.record([...found])
  attempt.report.adopted += found.size
  if (found.size > 0) attempt.logger.info(`${found.size} message(s) were already in '${attempt.dest}' (byte-identical): recorded, not uploaded again`)
}
