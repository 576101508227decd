/**
 * One APPEND of step 8 (folder-upload.ts): the message read from the backup, with its flags and
 * INTERNALDATE; a keyword the server refuses is dropped, never the message.
 */
import {DamagedError, RemoteError} from '../../shared/errors.js'
import {keywordsOf, mayConcernKeywords} from './flags.js'
import {messageHashes, rewrittenSizes, type MatchSubject} from './match.js'
import {readUploadMessage, type UploadMessage} from './message.js'
import type {UploadAttempt} from './upload-attempt.js'
import {tooLarge} from './append-batches.js'

/** What one APPEND did: the new UID when the server said it (APPENDUID), and how to find the copy if not. */
export interface Appended {
  uid?: number
  bytes: number
  subject: MatchSubject
}

/** Appends one message; undefined when it was skipped (the reason is recorded). */
export async function appendOne(attempt: UploadAttempt, uid: number, limit: number | undefined): Promise<Appended | undefined> {
  const {session, dest, opened} = attempt
  let message: UploadMessage
  try {
    message = await readUploadMessage(attempt.source, uid)
  } catch (error) {
    if (!(error instanceof DamagedError)) throw error
    attempt.skip(uid, `cannot be read from the backup: ${error.message}`)
    return undefined
  }
  if (limit !== undefined && message.bytes.length > limit) {
    attempt.skip(uid, tooLarge(message.bytes.length, limit))
    return undefined
  }
  const choice = attempt.flags.choose(message.storedFlags)
  const dropped = [...choice.dropped]
  let result
  try {
    result = await session.append(dest, message.bytes, {flags: choice.flags, internalDate: message.internalDate})
  } catch (error) {
    if (!(error instanceof RemoteError)) throw error
    const keywords = keywordsOf(choice.flags)
    if (keywords.length === 0 || !mayConcernKeywords(error)) {
      // Too big, over quota, …: the keywords are not the reason and stay for later messages.
      attempt.skip(uid, `the server refused it: ${error.message}`)
      return undefined
    }
    // Maybe a keyword: try once without them (the message matters more than a label).
    try {
      result = await session.append(dest, message.bytes, {flags: choice.flags.filter((f) => f.startsWith('\\')), internalDate: message.internalDate})
    } catch (second) {
      if (!(second instanceof RemoteError)) throw second
      // Refused without them too: they were not the reason; later messages keep theirs.
      attempt.skip(uid, `the server refused it: ${error.message}${second.message === error.message ? '' : ` (and without its keywords: ${second.message})`}`)
      return undefined
    }
    // Taken without them: the server refuses these keywords; later messages go without them.
    attempt.flags.refuse(keywords)
    dropped.push(...keywords.map((flag) => ({flag, reason: `the server refused it (${error.message})`})))
  }
  if (result.uidValidity !== undefined && result.uidValidity !== opened.uidValidity) {
    throw new RemoteError(`the UIDVALIDITY of '${dest}' changed during the upload (${opened.uidValidity} → ${result.uidValidity})`)
  }
  for (const d of dropped) attempt.dropFlags(uid, [d.flag], d.reason)
  attempt.report.uploaded++
  attempt.report.bytes += message.bytes.length
  // Only a copy without APPENDUID is looked for (by its bytes when need be): hash it now, while
  // the bytes are at hand, so that the batch holds no message bytes.
  const hashes = result.uid === undefined ? messageHashes(message.bytes) : {sent: '', rewritten: []}
  const subject: MatchSubject = {
    uid,
    crlfSize: message.crlfSize,
    rawSize: message.bytes.length,
    internalDate: message.internalDate,
    messageId: message.messageId,
    rewrittenSizes: rewrittenSizes(message.bytes, message.crlfSize),
    hashes: () => Promise.resolve(hashes),
  }
  return {uid: result.uid, bytes: message.bytes.length, subject}
}
