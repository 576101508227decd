/**
 * The exactness file `<P>.mailkeep` (docs/design.md, "The exactness file"): what it takes to give
 * each message mailkeep stored back byte for byte (docs/mbox-format.md, "The exactness record"),
 * kept beside the folder's `.imap` in a file imap-backup neither reads nor rewrites: its name does
 * not end in `.imap`, so imap-backup's recursive `*.imap` glob never takes it for a folder, and
 * imap-backup drops every key of the `.imap` it does not know when it rewrites that file
 * (compat §"Where mailkeep deliberately differs", item 2).
 *
 * Each row is bound to the entry it describes by UID, offset and length: a row applies only
 * while the `.imap` lists that UID at that offset with that length. When imap-backup appended to
 * the folder, its new entries simply have no row; when it rewrote the folder (mirror-mode
 * deletions, a UIDVALIDITY move, restore's UID rewriting) the moved entries no longer match their
 * rows and are read with imap-backup's rule, never with a record that may not be theirs.
 *
 *   {"mailkeep_exact":1,"uid_validity":V,"journal":"<id>","messages":[
 *     [uid,offset,length,size,internaldate,appended,eol,q],…]}
 *
 * `q` is the quoting rule that wrote the entry: 1 the compat rule (mboxrd/quoting.ts), 0 the
 * strict rule of mailkeep 0.1.0. Pure: parsing, binding and serialisation, no I/O.
 */
import {DamagedError, UnsupportedFormatError} from '../shared/errors.js'
import {isNonNegativeInt, isPositiveInt, parseJsonObject} from './json-guards.js'
import type {QuotingRule} from './mboxrd/quoting.js'
import {ByteScan, CLOSE_LIST, CLOSE_OBJECT, COMMA, MINUS, NULL, OPEN_LIST} from './imap-scan.js'
import {CHUNK_ENTRIES, isExactTuple, type FolderMetadata} from './metadata.js'
import type {MessageTable} from './message-table.js'

export const EXACT_SUFFIX = '.mailkeep'

/** The newest format of the exactness file this mailkeep reads and writes (`mailkeep_exact`). */
export const EXACT_FORMAT = 1

/** `[uid, offset, length, size, internaldate, appended, eol, q]`, shape-checked (eol by the codec, when used). */
export type ExactRow = [uid: number, offset: number, length: number, size: number, internalDate: number | null, appended: 0 | 1 | 2, eol: unknown, q: 0 | 1]

export interface ExactFile {
  uidValidity: number
  journalId?: string
  rows: ExactRow[]
}

/** What binding an exactness file to a folder's entries found (see bindExactFile). */
export interface ExactBinding {
  /** Rows in the file. */
  rows: number
  /** Rows whose record now applies to their entry. */
  bound: number
  /** Rows for an entry that already had a record (from a format-1 `.imap`): nothing lost. */
  superseded: number
  /** UIDs of the rows that match no entry: the folder was rewritten since (by another tool). */
  unmatchedUids: number[]
  /** Set when no row could be used: the file belongs to another UIDVALIDITY of the folder. */
  problem?: string
}

const HEADER_KEY = 'mailkeep_exact'

/** Parses the file's text. DamagedError when malformed, UnsupportedFormatError when newer. Never repairs. */
export function parseExactFile(text: string, path: string): ExactFile {
  const data = parseJsonObject(text, (what, cause) => damaged(path, what, cause))
  const format = data[HEADER_KEY]
  if (typeof format === 'number' && Number.isSafeInteger(format) && format > EXACT_FORMAT) {
    throw new UnsupportedFormatError(`'${path}' was written by a newer mailkeep (exactness format ${format}); it was left untouched`, {hint: 'upgrade mailkeep'})
  }
  if (format !== EXACT_FORMAT) throw damaged(path, `has no valid "${HEADER_KEY}" format number`)
  const uidValidity = data['uid_validity']
  if (!isPositiveInt(uidValidity)) throw damaged(path, 'has an invalid uid_validity')
  const journal = data['journal']
  if (journal !== undefined && typeof journal !== 'string') throw damaged(path, 'has an invalid "journal"')
  const rows = data['messages']
  if (!Array.isArray(rows)) throw damaged(path, 'has no "messages" array')
  for (let i = 0; i < rows.length; i++) if (!isExactRow(rows[i])) throw damaged(path, `has an invalid messages[${i}]`)
  const file: ExactFile = {uidValidity, rows: rows as ExactRow[]}
  if (journal !== undefined) file.journalId = journal
  return file
}

/** A well-formed row (the record's eol is validated by the codec when it is used). */
export function isExactRow(value: unknown): value is ExactRow {
  if (!Array.isArray(value) || value.length !== 8) return false
  const [uid, offset, length, size, internalDate, appended, eol, q] = value as unknown[]
  return isNonNegativeInt(offset) && isPositiveInt(length) && (q === 0 || q === 1) && isExactTuple([uid, size, internalDate, appended, eol])
}

/**
 * Gives each entry of `messages` that has no record yet the record of its row in `file`, where
 * the row's UID, offset and length are the entry's (rows are normally in the entries' order, so
 * this is one pass). A file of another UIDVALIDITY binds nothing.
 */
export function bindExactFile(messages: MessageTable, file: ExactFile, uidValidity: number): ExactBinding {
  const binding: ExactBinding = {rows: file.rows.length, bound: 0, superseded: 0, unmatchedUids: []}
  if (file.uidValidity !== uidValidity) {
    binding.problem = `it describes UIDVALIDITY ${file.uidValidity}, the folder has ${uidValidity}`
    binding.unmatchedUids = file.rows.map((r) => r[0])
    return binding
  }
  let next = 0
  for (const row of file.rows) {
    const [uid, offset, length, size, internalDate, appended, eol, q] = row
    const at = next < messages.length && messages.uidAt(next) === uid ? next : messages.indexOf(uid)
    if (at < 0 || messages.offsetAt(at) !== offset || messages.lengthAt(at) !== length) {
      binding.unmatchedUids.push(uid)
      continue
    }
    next = at + 1
    if (messages.quotingAt(at) !== undefined) {
      binding.superseded++
      continue
    }
    messages.setRecordAt(at, size, internalDate, appended, eol, quotingOf(q))
    binding.bound++
  }
  return binding
}

/**
 * Where the rows of an exactness file read byte by byte lie in its bytes (scanExactFile), when
 * they are exactly the records of the table's first `tableRows` rows, in order: while none of
 * those records is set again (MessageTable.firstRecordChanged), a new file writes these bytes
 * back as they are and formats only the rows after them, as metadata.ts does for `.imap`
 * (`Pristine`). The bytes are those the formatting would give: the scan accepts only rows as
 * serializeExactChunks writes them.
 */
export interface ExactPristine {
  bytes: Buffer
  /** [start, end) of the rows, between the brackets of the list. */
  rows: [number, number]
  /** How many rows that span holds. */
  count: number
  /** The table's rows whose records they are. */
  tableRows: number
}

const EXACT_HEAD_START = Buffer.from(`{"${HEADER_KEY}":${EXACT_FORMAT},"uid_validity":`)
const ROWS_KEY = Buffer.from(',"messages":[')

/**
 * parseExactFile and bindExactFile for a file as serializeExactChunks writes it, straight from its
 * bytes: no object per row. Undefined for any other file, valid or not (the caller then parses it
 * as JSON, which decides, and names what is wrong), and for a file of another UIDVALIDITY. The
 * binding is bindExactFile's (exact-file.test.ts compares the two).
 */
export function scanExactFile(bytes: Buffer, messages: MessageTable, uidValidity: number): {binding: ExactBinding; pristine: ExactPristine | undefined} | undefined {
  if (!bytes.subarray(0, EXACT_HEAD_START.length).equals(EXACT_HEAD_START)) return undefined
  const listStart = bytes.indexOf(ROWS_KEY)
  if (listStart < 0) return undefined
  let head: Record<string, unknown>
  try {
    head = JSON.parse(`${bytes.toString('utf8', 0, listStart)}}`) as Record<string, unknown>
  } catch {
    return undefined
  }
  const keys = Object.keys(head)
  if (head['uid_validity'] !== uidValidity || keys.length > 3 || (keys.length === 3 && typeof head['journal'] !== 'string')) return undefined
  const scan = new ByteScan(bytes, listStart + ROWS_KEY.length)
  const binding: ExactBinding = {rows: 0, bound: 0, superseded: 0, unmatchedUids: []}
  const int = (): number | undefined => scan.integer()
  let next = 0
  if (bytes[scan.i] !== CLOSE_LIST) {
    for (;;) {
      if (!scan.byte(OPEN_LIST)) return undefined
      const uid = int()
      if (uid === undefined || uid < 1 || !scan.byte(COMMA)) return undefined
      const offset = int()
      if (offset === undefined || !scan.byte(COMMA)) return undefined
      const length = int()
      if (length === undefined || length < 1 || !scan.byte(COMMA)) return undefined
      const size = int()
      if (size === undefined || !scan.byte(COMMA)) return undefined
      let date: number | null = null
      if (!scan.expect(NULL)) {
        const negative = bytes[scan.i] === MINUS
        if (negative) scan.i++
        const value = int()
        if (value === undefined) return undefined
        date = negative ? -value : value
      }
      if (!scan.byte(COMMA)) return undefined
      const appended = int()
      if ((appended !== 0 && appended !== 1 && appended !== 2) || !scan.byte(COMMA)) return undefined
      let eol: unknown
      if (bytes[scan.i] === OPEN_LIST) {
        const from = scan.i++
        for (;;) {
          if (int() === undefined) return undefined
          if (bytes[scan.i] !== COMMA) break
          scan.i++
        }
        if (!scan.byte(CLOSE_LIST)) return undefined
        eol = JSON.parse(bytes.toString('latin1', from, scan.i))
      } else {
        eol = int()
        if (eol === undefined) return undefined
      }
      if (!scan.byte(COMMA)) return undefined
      const q = int()
      if ((q !== 0 && q !== 1) || !scan.byte(CLOSE_LIST)) return undefined
      // As bindExactFile: to the entry with its UID, offset and length, normally the next one.
      binding.rows++
      const at = next < messages.length && messages.uidAt(next) === uid ? next : messages.indexOf(uid)
      if (at < 0 || messages.offsetAt(at) !== offset || messages.lengthAt(at) !== length) binding.unmatchedUids.push(uid)
      else {
        next = at + 1
        if (messages.quotingAt(at) !== undefined) binding.superseded++
        else {
          messages.setRecordAt(at, size, date, appended, eol, quotingOf(q))
          binding.bound++
        }
      }
      if (bytes[scan.i] === COMMA) scan.i++
      else break
    }
  }
  const listEnd = scan.i
  if (listEnd !== bytes.length - 2 || bytes[listEnd] !== CLOSE_LIST || bytes[listEnd + 1] !== CLOSE_OBJECT) return undefined
  messages.markRecordsUnchanged()
  // Its rows are the table's records exactly when every record came from them.
  const whole = binding.bound === binding.rows && messages.recordCount === binding.bound
  return {binding, pristine: whole ? {bytes, rows: [listStart + ROWS_KEY.length, listEnd], count: binding.rows, tableRows: messages.length} : undefined}
}

/**
 * The file for these metadata: one row per entry with a record, in entry order, in pieces of a
 * few thousand rows (atomicWriteChunks), so a large folder's text is never held whole. With
 * `pristine`, the rows it holds are written back as they are when their records did not change.
 */
export function* serializeExactChunks(meta: FolderMetadata, pristine?: ExactPristine): Generator<string | Buffer> {
  const head: Record<string, unknown> = {[HEADER_KEY]: EXACT_FORMAT, uid_validity: meta.uidValidity}
  if (meta.journalId !== undefined) head['journal'] = meta.journalId
  yield `${JSON.stringify(head).slice(0, -1)},"messages":[`
  const messages = meta.messages
  const kept = pristine !== undefined && messages.firstRecordChanged >= pristine.tableRows && messages.length >= pristine.tableRows ? pristine : undefined
  let first = true
  if (kept !== undefined && kept.count > 0) {
    yield kept.bytes.subarray(kept.rows[0], kept.rows[1])
    first = false
  }
  for (let start = kept?.tableRows ?? 0; start < messages.length; start += CHUNK_ENTRIES) {
    const part: string[] = []
    messages.visitRecords(start, start + CHUNK_ENTRIES, (row, uid, size, internalDate, appended, eol, quoting) => {
      // eol is 0 or 1 for nearly every message: no JSON.stringify call for those.
      const eolText = eol === 0 || eol === 1 ? eol : JSON.stringify(eol)
      part.push(`[${uid},${messages.offsetAt(row)},${messages.lengthAt(row)},${size},${internalDate},${appended},${eolText},${quoting === 'strict' ? 0 : 1}]`)
    })
    if (part.length === 0) continue
    yield (first ? '' : ',') + part.join(',')
    first = false
  }
  yield ']}'
}

export function serializeExactFile(meta: FolderMetadata): string {
  return [...serializeExactChunks(meta)].map((chunk) => chunk.toString()).join('')
}

export function quotingOf(q: 0 | 1): QuotingRule {
  return q === 0 ? 'strict' : 'compat'
}

function damaged(path: string, what: string, cause?: unknown): DamagedError {
  return new DamagedError(`exactness file '${path}' ${what}`, {
    cause,
    hint: 'the messages it described are read as imap-backup reads them; the next backup sets the file aside and writes a new one',
  })
}
