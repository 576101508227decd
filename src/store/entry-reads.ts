/**
 * Reading a folder's stored messages (FolderStore's readers): the header block of each entry in
 * windows, and a whole message decoded to what the server sent (mailkeep's entries, through their
 * exactness record) or to its stored text (imap-backup's, as imap-backup reads it).
 */
import type {DamagedError} from '../shared/errors.js'
import {decodeEntry, fromExactnessTuple, MboxrdDecoder, type QuotingRule} from './mboxrd/index.js'
import type {MboxReader} from './mbox-reader.js'
import type {ExactTuple, ReadonlyMessageTable} from './message-table.js'

export interface StoredMessage {
  bytes: Buffer
  /** True when the bytes are exactly what the server sent (mailkeep-written entries). */
  exact: boolean
}

/** Largest read of entryHeads(). */
const HEAD_WINDOW = 1024 * 1024
/** Entries above this size are decoded while they are read (readLargeExact). */
export const COPY_CHUNK = 1024 * 1024

export interface EntrySource {
  reader: MboxReader
  messages: ReadonlyMessageTable
  /** For messages: the exactness file and the mbox. */
  exactPath: string
  mboxPath: string
  damaged(message: string, cause?: unknown): DamagedError
}

/**
 * At most the first `maxBytes` of every entry, in metadata order, reading neighbouring entries
 * together in windows of at most 1 MiB: a folder of small messages costs one read per window, a
 * large message never more than `maxBytes`. A yielded head is valid until the next one is asked for.
 */
export async function* entryHeads(reader: MboxReader, messages: ReadonlyMessageTable, maxBytes: number): AsyncGenerator<{uid: number; head: Buffer}, void, undefined> {
  for (let i = 0; i < messages.length; ) {
    const start = messages.offsetAt(i)
    let end = start + Math.min(messages.lengthAt(i), maxBytes)
    let j = i + 1
    for (; j < messages.length; j++) {
      const offset = messages.offsetAt(j)
      const headEnd = offset + Math.min(messages.lengthAt(j), maxBytes)
      if (offset < end || headEnd - start > HEAD_WINDOW) break
      end = headEnd
    }
    const window = await reader.readRange(start, end - start)
    for (let k = i; k < j; k++) {
      const from = messages.offsetAt(k) - start
      yield {uid: messages.uidAt(k), head: window.subarray(from, from + Math.min(messages.lengthAt(k), maxBytes))}
    }
    i = j
  }
}

/** The message of row `row`: decoded with its exactness record when it has one. */
export async function readStoredMessage(source: EntrySource, row: number): Promise<StoredMessage> {
  const {messages} = source
  const uid = messages.uidAt(row)
  const tuple = messages.exactnessAt(row)
  const quoting = messages.quotingAt(row) ?? 'compat'
  if (tuple !== undefined && messages.lengthAt(row) > COPY_CHUNK) return readLargeExact(source, row, tuple, quoting)
  const raw = await source.reader.readRange(messages.offsetAt(row), messages.lengthAt(row))
  try {
    const record = tuple === undefined ? undefined : fromExactnessTuple(tuple, `${source.exactPath}, UID ${uid}`).record
    return {bytes: decodeEntry(raw, record, quoting), exact: record !== undefined}
  } catch (error) {
    throw undecodable(source, uid, error)
  }
}

function undecodable(source: EntrySource, uid: number, error: unknown): DamagedError {
  return source.damaged(`message UID ${uid} in '${source.mboxPath}' cannot be decoded: ${(error as Error).message}`, error)
}

/**
 * A large entry written by mailkeep: decoded while it is read in chunks, into one buffer of the
 * record's size, so the whole entry is never held beside the message (restore of a 50 MB message
 * holds one copy of it here, not two). Same result, same checks.
 */
async function readLargeExact(source: EntrySource, row: number, tuple: ExactTuple, quoting: QuotingRule): Promise<StoredMessage> {
  const {messages} = source
  const uid = messages.uidAt(row)
  const offset = messages.offsetAt(row)
  const length = messages.lengthAt(row)
  let decoder: MboxrdDecoder
  let out: Buffer
  try {
    const {record} = fromExactnessTuple(tuple, `${source.exactPath}, UID ${uid}`)
    decoder = new MboxrdDecoder(record, quoting)
    out = Buffer.allocUnsafe(record.size)
  } catch (error) {
    throw undecodable(source, uid, error)
  }
  let filled = 0
  // The decoder refuses to produce more than record.size bytes, so `out` cannot overflow.
  const put = (pieces: Buffer[]): void => {
    for (const piece of pieces) filled += piece.copy(out, filled)
  }
  for (let done = 0; done < length; done += COPY_CHUNK) {
    const chunk = await source.reader.readRange(offset + done, Math.min(COPY_CHUNK, length - done))
    try {
      put(decoder.push(chunk))
    } catch (error) {
      throw undecodable(source, uid, error)
    }
  }
  try {
    put(decoder.end())
  } catch (error) {
    throw undecodable(source, uid, error)
  }
  return {bytes: filled === out.length ? out : out.subarray(0, filled), exact: true}
}
