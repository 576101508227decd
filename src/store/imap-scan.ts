/**
 * Reads a `.imap` file written in mailkeep's own layout (metadata.ts serializeMetadataChunks)
 * straight from its bytes: the message list and the exactness records are checked byte by byte
 * and, when a table is given, put into its columns, without a JSON parse that makes an object per
 * message (most of the time it took to open a 100,000-message folder, docs/performance.md).
 *
 * It accepts only exactly that layout: `{"uid":U,"offset":O,"length":L,"flags":[…]}` entries with
 * offsets ascending and entries not overlapping, then `],"mailkeep_messages":[…]}` with records
 * `[uid,size,date|null,appended,eol]` (a record of another form is checked by a JSON parse of the
 * record list). Anything else, valid or not, gives undefined, and the caller parses the whole file
 * as JSON (parseMetadata), which reads every valid file and names what is wrong with the others.
 * For every file it accepts, the result is what parseMetadata gives (imap-scan.test.ts).
 *
 * Used by the skip check of a backup (folder-peek.ts, no table) and by opening a folder
 * (folder-store.ts), which also keeps where the lists lie in the file: a commit that only
 * appended writes those bytes back as they are (metadata.ts, `Pristine`).
 */
import {isExactTuple, parseMetadata, type FolderMetadata, type LegacyV2Metadata, type Pristine} from './metadata.js'
import {MessageTable} from './message-table.js'

export const HEAD_START = Buffer.from('{"version":3,"uid_validity":')
export const MESSAGES_KEY = Buffer.from(',"messages":[')
const UID_KEY = Buffer.from('{"uid":')
const OFFSET_KEY = Buffer.from(',"offset":')
const LENGTH_KEY = Buffer.from(',"length":')
const FLAGS_KEY = Buffer.from(',"flags":')
const RECORDS_KEY = Buffer.from('],"mailkeep_messages":[')
const NULL = Buffer.from('null')
const [OPEN_LIST, CLOSE_LIST, CLOSE_OBJECT, COMMA, QUOTE, BACKSLASH, MINUS] = [0x5b, 0x5d, 0x7d, 0x2c, 0x22, 0x5c, 0x2d]
/** The characters JSON allows after a backslash, but `u`. */
const ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74])

export interface ScannedBody {
  /** Where the last entry starts in the mbox (undefined: no entry). */
  offset: number | undefined
  /** Where the entries end in the mbox. */
  end: number
  /** Where the lists lie in the file (metadata.ts, `Pristine`). */
  spans: Omit<Pristine, 'rows' | 'records'>
}

/**
 * The whole file, when it is in mailkeep's layout: its metadata (messages in a table) and where
 * its lists lie; undefined otherwise. A head that parseMetadata refuses (damaged, a newer format)
 * throws as parseMetadata does.
 */
export function scanMetadata(bytes: Buffer, path: string): {meta: FolderMetadata; pristine: Pristine} | undefined {
  const head = headOf(bytes, path)
  if (head === undefined || 'version' in head.parsed) return undefined
  const table = new MessageTable(countEntries(bytes, head.listStart))
  const body = scanImapBody(bytes, head.listStart, table)
  // UIDs listed twice (imap-backup's bug, compat §5.5) match records by UID in parseMetadata.
  if (body === undefined || table.duplicateUids().length > 0) return undefined
  table.markUnchanged()
  return {meta: {...head.parsed, messages: table}, pristine: {...body.spans, rows: table.length, records: table.recordCount}}
}

/**
 * The head of a file in mailkeep's layout, parsed and checked as a whole file is (with an empty
 * message list), and where the message list starts; undefined for another layout.
 */
export function headOf(bytes: Buffer, path: string): {parsed: FolderMetadata | LegacyV2Metadata; listStart: number} | undefined {
  if (!bytes.subarray(0, HEAD_START.length).equals(HEAD_START)) return undefined
  const at = bytes.indexOf(MESSAGES_KEY)
  if (at < 0) return undefined
  // The key cannot be met inside a string first: there its quotes are escaped (`,\"messages\":[`).
  const parsed = parseMetadata(`${bytes.toString('utf8', 0, at)},"messages":[]}`, path)
  return {parsed, listStart: at + MESSAGES_KEY.length}
}

/** The shortest entry: `{"uid":1,"offset":0,"length":1,"flags":[]}` and its comma. */
const SHORTEST_ENTRY = 45

/**
 * At least as many entries as the message list holds, for the table's size (a count of them
 * would be another pass over the file): its length over the length of the shortest entry.
 */
function countEntries(bytes: Buffer, start: number): number {
  const end = bytes.indexOf(RECORDS_KEY, start)
  return Math.ceil(((end < 0 ? bytes.length : end) - start) / SHORTEST_ENTRY)
}

/**
 * Checks the rest of the file, from the first message entry on, as parseMetadata and
 * structuralProblems would; with `into`, puts the entries and records into it. Returns where the
 * last entry starts and where the entries end, or undefined when the bytes are not exactly what
 * mailkeep writes.
 */
export function scanImapBody(bytes: Buffer, start: number, into?: MessageTable): ScannedBody | undefined {
  let i = start
  let end = 0
  let lastOffset: number | undefined
  // Byte by byte, without a Buffer or string per field: this runs once per message.
  const expect = (literal: Buffer): boolean => {
    const n = literal.length
    if (i + n > bytes.length) return false
    for (let k = 0; k < n; k++) if (bytes[i + k] !== literal[k]) return false
    i += n
    return true
  }
  const integer = (): number | undefined => {
    const from = i
    let value = 0
    for (let c = bytes[i]; c !== undefined && c >= 0x30 && c <= 0x39; c = bytes[++i]) value = value * 10 + (c - 0x30)
    if (i === from || i - from > 15 || (bytes[from] === 0x30 && i - from > 1)) return undefined
    return value
  }
  // The flags of consecutive entries are mostly the same text: compared byte by byte, not decoded.
  let flagsFrom = 0
  let flagsTo = 0
  let flagId = 0
  if (bytes[i] !== CLOSE_LIST) {
    for (;;) {
      if (!expect(UID_KEY)) return undefined
      const uid = integer()
      if (uid === undefined || uid < 1 || !expect(OFFSET_KEY)) return undefined
      const offset = integer()
      if (offset === undefined || offset < end || !expect(LENGTH_KEY)) return undefined
      const length = integer()
      if (length === undefined || length < 1 || !expect(FLAGS_KEY)) return undefined
      const after = skipStringArray(bytes, i)
      if (after === undefined) return undefined
      if (into !== undefined) {
        if (!sameBytes(bytes, i, after, flagsFrom, flagsTo)) {
          flagId = into.flagIdOfJson(bytes.toString('utf8', i, after))
          flagsFrom = i
          flagsTo = after
        }
        into.pushRowFlagId(uid, offset, length, flagId)
      }
      i = after
      if (bytes[i++] !== CLOSE_OBJECT) return undefined
      lastOffset = offset
      end = offset + length
      if (bytes[i] === COMMA) i++
      else break
    }
  }
  const messagesEnd = i
  if (!expect(RECORDS_KEY)) return undefined
  const close = bytes.length - 2
  // `]}` ends the file; any other top-level key (kept from another writer) is for the full parse.
  if (close < i - 1 || bytes[close] !== CLOSE_LIST || bytes[close + 1] !== CLOSE_OBJECT) return undefined
  const recordsStart = i
  const spans = {bytes, messages: [start, messagesEnd], recordList: [recordsStart, close]} as ScannedBody['spans']
  // Records as written: `[uid,size,date|null,appended,eol]`, eol a number or a list of numbers.
  const signed = (): number | undefined => {
    const negative = bytes[i] === MINUS
    if (negative) i++
    const value = integer()
    return value === undefined ? undefined : negative ? -value : value
  }
  let plain = true
  let index = 0
  if (bytes[i] !== CLOSE_LIST) {
    for (;;) {
      const recordStart = i
      if (bytes[i++] !== OPEN_LIST) {
        i = recordStart
        plain = false
        break
      }
      const uid = integer()
      if (uid === undefined || uid < 1 || bytes[i++] !== COMMA) return undefined
      const size = integer()
      if (size === undefined || bytes[i++] !== COMMA) return undefined
      const date = expect(NULL) ? null : signed()
      if (date === undefined || bytes[i++] !== COMMA) return undefined
      const appended = integer()
      if (appended === undefined || appended > 2 || bytes[i++] !== COMMA) return undefined
      let eol: unknown
      if (bytes[i] === OPEN_LIST) {
        const listStart = i
        i++
        if (bytes[i] !== CLOSE_LIST) {
          for (;;) {
            if (integer() === undefined) return undefined
            if (bytes[i] !== COMMA) break
            i++
          }
        }
        if (bytes[i++] !== CLOSE_LIST) return undefined
        if (into !== undefined) eol = JSON.parse(bytes.toString('latin1', listStart, i))
      } else {
        eol = integer()
        if (eol === undefined) {
          i = recordStart
          plain = false
          break
        }
      }
      if (bytes[i++] !== CLOSE_LIST) return undefined
      if (into !== undefined) record(into, index, uid, size, date, appended, eol)
      index++
      if (bytes[i] !== COMMA) break
      i++
    }
  }
  if (plain) return i === close ? {offset: lastOffset, end, spans} : undefined
  // A record this scan does not know (an eol value of another form): the JSON parse decides.
  let records: unknown
  try {
    records = JSON.parse(`[${bytes.toString('utf8', i, close)}]`)
  } catch {
    return undefined
  }
  if (!Array.isArray(records) || !records.every(isExactTuple)) return undefined
  if (into !== undefined) for (const r of records) record(into, index++, r[0], r[1], r[2], r[3], r[4])
  return {offset: lastOffset, end, spans}
}

/** As parseMetadata's addRecords: to the entry with its UID, normally the one at its position. */
function record(into: MessageTable, index: number, uid: number, size: number, date: number | null, appended: number, eol: unknown): void {
  const row = index < into.length && into.uidAt(index) === uid ? index : into.indexOf(uid)
  if (row >= 0) into.setRecordAt(row, size, date, appended, eol)
}

/** Whether `bytes[a, aEnd)` and `bytes[b, bEnd)` are the same bytes. */
function sameBytes(bytes: Buffer, a: number, aEnd: number, b: number, bEnd: number): boolean {
  if (aEnd - a !== bEnd - b) return false
  for (let k = 0; k < aEnd - a; k++) if (bytes[a + k] !== bytes[b + k]) return false
  return true
}

/** Past a JSON array of strings starting at `i`, or undefined. */
function skipStringArray(bytes: Buffer, i: number): number | undefined {
  if (bytes[i++] !== OPEN_LIST) return undefined
  if (bytes[i] === CLOSE_LIST) return i + 1
  for (;;) {
    if (bytes[i++] !== QUOTE) return undefined
    for (;;) {
      const c = bytes[i++]
      if (c === undefined || c < 0x20) return undefined
      if (c === QUOTE) break
      if (c === BACKSLASH) {
        const e = bytes[i++]
        if (e === 0x75) {
          // \uXXXX
          for (let k = 0; k < 4; k++) if (!isHex(bytes[i++])) return undefined
        } else if (e === undefined || !ESCAPES.has(e)) return undefined
      }
    }
    const c = bytes[i++]
    if (c === CLOSE_LIST) return i
    if (c !== COMMA) return undefined
  }
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66))
}
