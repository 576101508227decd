/**
 * Adoption: destination messages that are byte-identical copies of backed-up messages (after
 * line-ending normalisation, or in a form a server is known to rewrite a message to:
 * server-rewrites.ts) are recorded in the map instead of being uploaded again
 * (docs/upload-maps.md, "Adoption"). This is what keeps a lost or reset map, a folder whose
 * UIDVALIDITY the server changed, or a destination that already had the mail from getting the
 * mail twice.
 *
 * Cheap first: RFC822.SIZE of the destination messages, compared with the sizes of the backed-up
 * ones (known from the exactness record without reading the message, for CRLF messages); only
 * messages of equal size are fetched and hashed.
 */
import {compactUidSet} from '../../imap/index.js'
import type {ImapSession} from '../../imap/types.js'
import {DamagedError} from '../../shared/errors.js'
import {throwIfAborted} from '../../shared/context.js'
import type {FolderStore} from '../../store/folder-store.js'
import {recordedSizeDeltas} from '../../store/server-rewrites.js'
import {locateCopies, messageHashes, rewrittenSizes, type MatchSubject} from './match.js'
import {readUploadMessage, type UploadMessage} from './message.js'
import {slices} from '../access/uid-lists.js'

const SUMMARY_SLICE = 5000

/**
 * Source UID → destination UID for the backed-up messages `sourceUids` that have a copy among
 * `destUids` in the folder open on `session`. Each destination message is used once.
 */
export async function findCopies(
  session: ImapSession,
  source: FolderStore,
  sourceUids: readonly number[],
  destUids: readonly number[],
  taken: (destinationUid: number) => boolean,
  signal: AbortSignal,
): Promise<Map<number, number>> {
  const free = destUids.filter((d) => !taken(d))
  if (free.length === 0 || sourceUids.length === 0) return new Map()
  const sizes = await destinationSizes(session, free, signal)
  const present = new Set(sizes.values())
  const subjects: MatchSubject[] = []
  for (const uid of sourceUids) {
    throwIfAborted(signal)
    const record = source.exactness(uid)
    // A record with eol 0 (every line end CRLF) gives the uploaded size without reading, and the
    // sizes of the forms servers rewrite it to (server-rewrites.ts).
    if (record !== undefined && record[4] === 0 && !recordedSizeDeltas(record[3]).some((d) => present.has(record[1] + d))) continue
    const subject = await subjectFromBackup(source, uid)
    if (subject !== undefined && sizesOf(subject).some((size) => present.has(size))) subjects.push(subject)
  }
  if (subjects.length === 0) return new Map()
  const wanted = new Set(subjects.flatMap(sizesOf))
  return locateCopies(session, subjects, {from: 1, candidates: free.filter((d) => wanted.has(sizes.get(d) ?? -1)), taken, proof: true, signal})
}

export async function destinationSizes(session: ImapSession, uids: readonly number[], signal: AbortSignal): Promise<Map<number, number>> {
  const sizes = new Map<number, number>()
  for (const slice of slices([...uids].sort((a, b) => a - b), SUMMARY_SLICE)) {
    throwIfAborted(signal)
    for await (const summary of session.fetchSummaries(compactUidSet(slice))) sizes.set(summary.uid, summary.size)
  }
  return sizes
}

/** What it takes to recognise a backed-up message on the destination; undefined if it cannot be read. */
export async function subjectFromBackup(source: FolderStore, uid: number): Promise<MatchSubject | undefined> {
  let message: UploadMessage
  try {
    message = await readUploadMessage(source, uid)
  } catch (error) {
    if (error instanceof DamagedError) return undefined
    throw error
  }
  const {crlfSize, internalDate, messageId} = message
  return {
    uid,
    crlfSize,
    rawSize: message.bytes.length,
    internalDate,
    messageId,
    rewrittenSizes: rewrittenSizes(message.bytes, crlfSize),
    // Read again when needed, so that a folder's worth of subjects holds no message bytes.
    hashes: async () => messageHashes((await readUploadMessage(source, uid)).bytes),
  }
}

function sizesOf(subject: MatchSubject): number[] {
  return [subject.crlfSize, subject.rawSize, ...subject.rewrittenSizes]
}
