/**
 * Reads a `.imap` file written in mailkeep's own layout (metadata.ts serializeMetadataChunks)
 * straight from its bytes: the message list is checked byte by byte and, when a table is given,
 * put into its columns, without a JSON parse that makes an object per message (most of the time
 * it took to open a 100,000-message folder, docs/performance.md).
 *
 * It accepts only exactly that layout: `{"uid":U,"offset":O,"length":L,"flags":[…]}` entries with
 * offsets ascending and entries not overlapping, then `]}`. Anything else, valid or not (a key
 * after the list, another spacing, imap-backup's files), gives undefined, and the caller parses
 * the whole file as JSON (parseMetadata), which reads every valid file and names what is wrong
 * with the others. For every file it accepts, the result is what parseMetadata gives
 * (imap-scan.test.ts).
 *
 * Used by the skip check of a backup (folder-peek.ts, no table) and by opening a folder
 * (folder-store.ts), which also keeps where the list lies in the file: a commit that only
 * appended writes those bytes back as they are (metadata.ts, `Pristine`).
 */
import {parseMetadata, type FolderMetadata, type LegacyV2Metadata, type Pristine} from './metadata.js'
import {MessageTable} from './message-table.js'

export const HEAD_START = Buffer.from('{"version":3,"uid_validity":')
export const MESSAGES_KEY = Buffer.from(',"messages":[')
const UID_KEY = Buffer.from('{"uid":')
const OFFSET_KEY = Buffer.from(',"offset":')
const LENGTH_KEY = Buffer.from(',"length":')
const FLAGS_KEY = Buffer.from(',"flags":')
export const NULL = Buffer.from('null')
export const [OPEN_LIST, CLOSE_LIST, CLOSE_OBJECT, COMMA, QUOTE, BACKSLASH, MINUS] = [0x5b, 0x5d, 0x7d, 0x2c, 0x22, 0x5c, 0x2d] as const
/** The characters JSON allows after a backslash, but `u`. */
const ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74])
/** The shortest entry: `{"uid":1,"offset":0,"length":1,"flags":[]}` and its comma. */
const SHORTEST_ENTRY = 45

/** Called for each message entry of `.imap`, in order; false makes the check fail. */
export type EntryVisitor = (uid: number, offset: number, length: number) => boolean

/**
 * The whole file, when it is in mailkeep's layout: its metadata (messages in a table) and where
 * its message list lies; undefined otherwise. A head that parseMetadata refuses (damaged, a newer
 * format) throws as parseMetadata does.
 */
export function scanMetadata(bytes: Buffer, path: string): {meta: FolderMetadata; pristine: Pristine} | undefined {
  const head = headOf(bytes, path)
  if (head === undefined || 'version' in head.parsed) return undefined
  // At least as many rows as entries, without counting them first (another pass).
  const table = new MessageTable(Math.ceil((bytes.length - head.listStart) / SHORTEST_ENTRY))
  const body = checkBody(bytes, head.listStart, undefined, table)
  if (body === undefined) return undefined
  table.markUnchanged()
  return {meta: {...head.parsed, messages: table}, pristine: {bytes, messages: [head.listStart, body.listEnd], rows: table.length}}
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

/**
 * Checks the rest of the file, from the first message entry on, as parseMetadata and the
 * inspection's order rule (inspection.ts firstOverlap) would: it accepts only exactly what serializeMetadataChunks writes, and
 * anything else, valid or not, gives undefined (the caller then parses the file, which decides).
 * `visit` sees each entry (the exactness rows are checked against them in step, folder-peek.ts);
 * `into` gets each entry as a row. Returns how many entries there are, the last one's UID and
 * where it starts, where the entries end in the mbox, and where the list ends in the file.
 */
export function checkBody(bytes: Buffer, start: number, visit?: EntryVisitor, into?: MessageTable): {count: number; uid: number | undefined; offset: number | undefined; end: number; listEnd: number} | undefined {
  const scan = new ByteScan(bytes, start)
  let end = 0
  let count = 0
  let lastUid: number | undefined
  let lastOffset: number | undefined
  // The flags of consecutive entries are mostly the same text: compared byte by byte, not decoded.
  let flagsFrom = 0
  let flagsTo = 0
  let flagId = 0
  if (bytes[scan.i] !== CLOSE_LIST) {
    for (;;) {
      if (!scan.expect(UID_KEY)) return undefined
      const uid = scan.integer()
      if (uid === undefined || uid < 1 || !scan.expect(OFFSET_KEY)) return undefined
      const offset = scan.integer()
      if (offset === undefined || offset < end || !scan.expect(LENGTH_KEY)) return undefined
      const length = scan.integer()
      if (length === undefined || length < 1 || !scan.expect(FLAGS_KEY)) return undefined
      const after = skipStringArray(bytes, scan.i)
      if (after === undefined) return undefined
      if (into !== undefined) {
        if (!sameBytes(bytes, scan.i, after, flagsFrom, flagsTo)) {
          flagId = into.flagIdOfJson(bytes.toString('utf8', scan.i, after))
          flagsFrom = scan.i
          flagsTo = after
        }
        into.pushRowFlagId(uid, offset, length, flagId)
      }
      scan.i = after
      if (bytes[scan.i++] !== CLOSE_OBJECT) return undefined
      if (visit !== undefined && !visit(uid, offset, length)) return undefined
      count++
      lastUid = uid
      lastOffset = offset
      end = offset + length
      if (bytes[scan.i] === COMMA) scan.i++
      else break
    }
  }
  // `]}` ends the file; any other top-level key (a format-1 file's records, the restored copies,
  // a key kept from another writer) is for the full parse.
  if (scan.i !== bytes.length - 2 || bytes[scan.i] !== CLOSE_LIST || bytes[scan.i + 1] !== CLOSE_OBJECT) return undefined
  return {count, uid: lastUid, offset: lastOffset, end, listEnd: scan.i}
}

/** A cursor over bytes of JSON written by us: literals and plain integers, one byte at a time. */
export class ByteScan {
  constructor(
    readonly bytes: Buffer,
    public i: number,
  ) {}

  expect(literal: Buffer): boolean {
    const n = literal.length
    if (this.i + n > this.bytes.length) return false
    for (let k = 0; k < n; k++) if (this.bytes[this.i + k] !== literal[k]) return false
    this.i += n
    return true
  }

  /** A non-negative integer as JSON writes it (no leading zero, at most 15 digits). */
  integer(): number | undefined {
    const bytes = this.bytes
    const from = this.i
    let value = 0
    for (let c = bytes[this.i]; c !== undefined && c >= 0x30 && c <= 0x39; c = bytes[++this.i]) value = value * 10 + (c - 0x30)
    if (this.i === from || this.i - from > 15 || (bytes[from] === 0x30 && this.i - from > 1)) return undefined
    return value
  }

  signed(): boolean {
    if (this.bytes[this.i] === MINUS) this.i++
    return this.integer() !== undefined
  }

  byte(expected: number): boolean {
    return this.bytes[this.i++] === expected
  }
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
