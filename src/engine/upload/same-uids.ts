/**
 * Step 5 of folder-upload.ts: a restore into the folder the backup came from, under the same
 * UIDVALIDITY. The same UID is the same message (compat §7 step 1), checked against the recorded
 * size where it is known.
 */
import {compactUidSet} from '../../imap/index.js'
import {knownUploadSize} from './message.js'
import type {UploadAttempt} from './upload-attempt.js'
import {ascending, slices} from '../access/uid-lists.js'

const SUMMARY_SLICE = 5000

export async function matchSameUids(attempt: UploadAttempt): Promise<void> {
  const {source, destSet, reverse} = attempt
  const entryMap = attempt.entryMap
  const common = source.messages.distinctUids().filter((u) => !entryMap.has(u) && destSet.has(u) && !reverse.has(u))
  if (common.length === 0) return
  const pairs: Array<[number, number]> = []
  for (const slice of slices(common.sort(ascending), SUMMARY_SLICE)) {
    for await (const summary of attempt.session.fetchSummaries(compactUidSet(slice))) {
      const known = knownUploadSize(source, summary.uid)
      // imap-backup's rule (equal UIDs are the same message), checked where the size is known.
      if (known === undefined || known === summary.size) pairs.push([summary.uid, summary.uid])
    }
  }
  attempt.record(pairs)
}
