/**
 * Finding the copy of a source message among destination messages, without relying on
 * APPENDUID (docs/upload-maps.md, "Finding a message again"). Used
 *
 * - after an APPEND on a server without UIDPLUS (RFC 4315), and for the messages of a pending
 *   intent (a crash or a broken link between APPEND and recording it): the copy, if it exists,
 *   has a UID at or above the intent's lower bound, so only that range is looked at; a match on
 *   size (RFC822.SIZE), INTERNALDATE and Message-ID (UID SEARCH HEADER, when the range is large)
 *   is enough when it is unique — the bytes are compared only when it is not;
 * - to *adopt* destination messages that are copies of source messages although no map says so
 *   (a map lost or reset, a destination that already had the mail): then the bytes always are
 *   compared, after line-ending normalisation (bare LF = CRLF, as servers store them).
 *
 * Each destination message is matched to at most one source message, lowest UIDs first.
 */
import type {ImapSession, MessageSummary} from '../../imap/types.js'
import {compactUidSet} from '../../imap/index.js'
import {throwIfAborted} from '../../shared/context.js'
import {rewrittenForms} from '../../store/server-rewrites.js'
import {CrlfHash, crlfHash} from '../../store/crlf-hash.js'
import {slices} from '../access/uid-lists.js'

export interface MatchSubject {
  /** Source UID. */
  uid: number
  /** RFC822.SIZE the copy has on a CRLF server. */
  crlfSize: number
  /** Its size as uploaded (a server that keeps bare LFs reports this one). */
  rawSize: number
  /** The INTERNALDATE that was sent with it, if any. */
  internalDate: Date | null
  messageId: string | undefined
  /** CRLF sizes of the forms servers are known to store it in (server-rewrites.ts). */
  rewrittenSizes: readonly number[]
  /** Its hashes, as sent and in those forms (computed only when needed). */
  hashes: () => Promise<MessageHashes>
}

/** SHA-256 of a message with bare LFs made CRLF (CrlfHash), as sent and in each rewritten form. */
export interface MessageHashes {
  sent: string
  rewritten: readonly string[]
}

export function messageHashes(bytes: Buffer): MessageHashes {
  return {sent: crlfHash(bytes), rewritten: rewrittenForms(bytes).map((form) => form.hash())}
}

/** The CRLF sizes of the forms servers are known to store `bytes` in (`crlfSize`: its own). */
export function rewrittenSizes(bytes: Buffer, crlfSize: number): number[] {
  return rewrittenForms(bytes).map((form) => crlfSize + form.sizeDelta)
}

export interface MatchOptions {
  /** The lowest destination UID a copy can have. */
  from: number
  /** The destination UIDs to look at, when already known (else `UID SEARCH UID from:*`). */
  candidates?: readonly number[]
  /** Destination UIDs that are the copy of some other source message already. */
  taken: (destinationUid: number) => boolean
  /** Always compare bytes (adoption); otherwise a unique size/date/Message-ID match is enough. */
  proof: boolean
  signal: AbortSignal
}

/** Above this many candidates, a few subjects are narrowed with UID SEARCH HEADER Message-ID. */
const HEADER_SEARCH_ABOVE = 200
const HEADER_SEARCH_SUBJECTS = 64
const SUMMARY_SLICE = 5000
/** Bodies compared are fetched in groups of at most this many bytes; bigger ones streamed alone. */
const BODY_BATCH_BYTES = 8 * 1024 * 1024

/** Source UID → destination UID for every subject whose copy was found. */
export async function locateCopies(session: ImapSession, subjects: readonly MatchSubject[], options: MatchOptions): Promise<Map<number, number>> {
  const found = new Map<number, number>()
  if (subjects.length === 0) return found
  let candidates = options.candidates !== undefined ? [...options.candidates] : await session.searchUids({uidRange: `${options.from}:*`})
  candidates = candidates.filter((uid) => uid >= options.from && !options.taken(uid))
  if (candidates.length === 0) return found

  // A narrowing set per subject from UID SEARCH HEADER Message-ID, when that is cheaper.
  const narrowed = new Map<number, Set<number>>()
  if (candidates.length > HEADER_SEARCH_ABOVE && subjects.length <= HEADER_SEARCH_SUBJECTS && subjects.every((s) => s.messageId !== undefined)) {
    const inRange = new Set(candidates)
    for (const subject of subjects) {
      throwIfAborted(options.signal)
      const uids = await session.searchUids({uidRange: `${options.from}:*`, header: {field: 'Message-ID', value: subject.messageId!}})
      narrowed.set(subject.uid, new Set(uids.filter((u) => inRange.has(u))))
    }
    candidates = [...new Set([...narrowed.values()].flatMap((s) => [...s]))].sort((a, b) => a - b)
  }

  const summaries = new Map<number, MessageSummary>()
  for (const slice of slices(candidates, SUMMARY_SLICE)) {
    throwIfAborted(options.signal)
    for await (const summary of session.fetchSummaries(compactUidSet(slice))) summaries.set(summary.uid, summary)
  }

  const used = new Set<number>()
  // `uids`: candidates of the size it has as sent; `resized`: of a size only a rewritten form has.
  const needBytes: Array<{subject: MatchSubject; uids: number[]; resized: number[]}> = []
  for (const subject of [...subjects].sort((a, b) => a.uid - b.uid)) {
    const allowed = narrowed.get(subject.uid)
    const fits = (uid: number, sizes: readonly number[]): boolean => {
      const s = summaries.get(uid)
      return s !== undefined && sizes.includes(s.size) && (allowed === undefined || allowed.has(uid))
    }
    const sentSizes = [subject.crlfSize, subject.rawSize]
    const sized = candidates.filter((uid) => fits(uid, sentSizes))
    const resized = candidates.filter((uid) => !fits(uid, sentSizes) && fits(uid, subject.rewrittenSizes))
    if (sized.length === 0 && resized.length === 0) continue
    if (!options.proof) {
      const onDate = (uids: number[]): number[] => (subject.internalDate === null ? uids : uids.filter((uid) => sameSecond(summaries.get(uid)!.internalDate, subject.internalDate)))
      const dated = onDate(sized)
      const free = dated.filter((uid) => !used.has(uid))
      // Unique by size as sent: taken without its bytes. A rewritten size always needs them.
      if (free.length === 1 && (dated.length === 1 || allowed !== undefined)) {
        found.set(subject.uid, free[0]!)
        used.add(free[0]!)
        continue
      }
      const datedResized = onDate(resized)
      if (dated.length === 0 && datedResized.length === 0) continue
      needBytes.push({subject, uids: dated, resized: datedResized})
      continue
    }
    needBytes.push({subject, uids: sized, resized})
  }
  if (needBytes.length === 0) return found

  // Compare bytes: hash each candidate once, then pair in UID order; first every message as it
  // was sent, then what is left in the forms servers rewrite it to (server-rewrites.ts), so that
  // a rewritten form never takes the copy of another message that is there as sent.
  const wanted = [...new Set(needBytes.flatMap((n) => [...n.uids, ...n.resized]))].filter((uid) => !used.has(uid)).sort((a, b) => a - b)
  const hashes = await hashDestination(session, wanted, summaries, options.signal)
  const subjectHashes = new Map<number, MessageHashes>()
  const pair = (subject: MatchSubject, uids: readonly number[], accept: (hash: string) => boolean): void => {
    const match = uids.find((uid) => !used.has(uid) && hashes.has(uid) && accept(hashes.get(uid)!))
    if (match === undefined) return
    found.set(subject.uid, match)
    used.add(match)
  }
  for (const {subject, uids} of needBytes) {
    if (!uids.some((uid) => !used.has(uid) && hashes.has(uid))) continue
    const own = await subject.hashes()
    subjectHashes.set(subject.uid, own)
    pair(subject, uids, (hash) => hash === own.sent)
  }
  for (const {subject, uids, resized} of needBytes) {
    if (found.has(subject.uid)) continue
    const candidatesLeft = [...uids, ...resized].sort((a, b) => a - b)
    if (!candidatesLeft.some((uid) => !used.has(uid) && hashes.has(uid))) continue
    const own = subjectHashes.get(subject.uid) ?? (await subject.hashes())
    if (own.rewritten.length === 0) continue
    pair(subject, candidatesLeft, (hash) => own.rewritten.includes(hash))
  }
  return found
}

/** Normalised SHA-256 of destination messages: small ones a batch at a time, large ones streamed. */
async function hashDestination(session: ImapSession, uids: readonly number[], summaries: ReadonlyMap<number, MessageSummary>, signal: AbortSignal): Promise<Map<number, string>> {
  const hashes = new Map<number, string>()
  let batch: number[] = []
  let bytes = 0
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return
    for await (const message of session.fetchMessages(compactUidSet(batch))) hashes.set(message.uid, new CrlfHash().update(message.source).digest())
    batch = []
    bytes = 0
  }
  for (const uid of uids) {
    throwIfAborted(signal)
    const size = summaries.get(uid)?.size ?? 0
    if (size > BODY_BATCH_BYTES) {
      await flush()
      const download = await session.downloadMessage(uid)
      if (download === null) continue
      const hash = new CrlfHash()
      for await (const chunk of download.chunks) hash.update(chunk)
      hashes.set(uid, hash.digest())
      continue
    }
    if (bytes + size > BODY_BATCH_BYTES) await flush()
    batch.push(uid)
    bytes += size
  }
  await flush()
  return hashes
}

function sameSecond(a: Date | null, b: Date | null): boolean {
  if (a === null || b === null) return a === b
  return Math.floor(a.getTime() / 1000) === Math.floor(b.getTime() / 1000)
}
