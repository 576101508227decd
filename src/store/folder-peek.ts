/**
 * The server state a folder's metadata records (UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, naming),
 * read without opening the folder: what a backup needs to decide that an unchanged folder can be
 * skipped (docs/backup.md, "Unchanged folders"). Opening a 100,000-message folder (its `.imap`
 * is 8 MB) was most of a no-op run's time.
 *
 * Only where that is as safe as opening the folder (docs/design.md, "Recovery on open"): no
 * journal (a transaction that did not end: recovery must run), no rename intent or unfinished
 * rewrite (`.compact` files), the mbox there as a regular file, and the `.imap` in mailkeep's own
 * current layout (`{"version":3,"uid_validity":…`, format 2, metadata.ts; a format-1 file is
 * opened, which moves its exactness records out). And the same checks as opening it: the whole
 * `.imap` parses and is consistent, the mbox ends exactly where the last message does (neither a
 * torn tail nor bytes after it), the last message starts with a `From ` line, and the exactness
 * file is the one this `.imap` was written with: same UIDVALIDITY and journal, as many rows as
 * `.imap` says, each bound to its entry (UID, offset, length; exact-file.ts), read in step with
 * the message list. So a damaged folder, or one whose exactness data another tool made stale, is
 * never reported unchanged: anything else (an imap-backup file, a damaged or newer one) gives
 * undefined, and the caller opens the folder, which recovers or reports as usual. Nothing is
 * written.
 */
import {constants} from 'node:fs/promises'
import {localIoError} from '../shared/errors.js'
import {exists, sizeIfPresent} from './file-ops.js'
import {encodeFolderPath} from './folder-path.js'
import {folderPaths} from './folder-store.js'
import {parseMetadata, type FolderServerState} from './metadata.js'
import {checkNoSymlinks, openNoFollow} from './safe-path.js'

export interface PeekedFolder extends FolderServerState {
  uidValidity: number
}

/** Called for each message entry of `.imap`, in order; false makes the check fail. */
export type EntryVisitor = (uid: number, offset: number, length: number) => boolean

const HEAD_START = Buffer.from('{"version":3,"uid_validity":')
const MESSAGES_KEY = Buffer.from(',"messages":[')
const EXACT_HEAD_START = Buffer.from('{"mailkeep_exact":1,"uid_validity":')
const UID_KEY = Buffer.from('{"uid":')
const OFFSET_KEY = Buffer.from(',"offset":')
const LENGTH_KEY = Buffer.from(',"length":')
const FLAGS_KEY = Buffer.from(',"flags":')
const NULL = Buffer.from('null')
const [OPEN_LIST, CLOSE_LIST, CLOSE_OBJECT, COMMA, QUOTE, BACKSLASH, MINUS] = [0x5b, 0x5d, 0x7d, 0x2c, 0x22, 0x5c, 0x2d]
/** The characters JSON allows after a backslash, but `u`. */
const ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74])
const FROM_ = Buffer.from('From ')

export async function peekFolderState(root: string, name: string): Promise<PeekedFolder | undefined> {
  const relativePath = encodeFolderPath(name)
  const paths = folderPaths(root, relativePath)
  await checkNoSymlinks(root, `${relativePath}.mbox`)
  // Step 1 and 3 of recovery would have work to do: an unfinished rename or rewrite, a journal.
  for (const path of [paths.journal, paths.renameIntent, paths.imapCompact, paths.mboxCompact]) if (await exists(path)) return undefined
  let mboxSize
  try {
    mboxSize = await sizeIfPresent(paths.mbox)
  } catch {
    return undefined // a symlink or a directory: opening the folder says what is wrong
  }
  if (mboxSize === undefined) return undefined
  if (await exists(paths.exactCompact)) return undefined
  const bytes = await readBytes(paths.imap)
  if (bytes === undefined || !bytes.subarray(0, HEAD_START.length).equals(HEAD_START)) return undefined
  const listStart = bytes.indexOf(MESSAGES_KEY)
  if (listStart < 0) return undefined
  let parsed
  try {
    // The header with an empty message list, parsed and checked as a whole file is. The key
    // cannot be met inside a string first: there its quotes are escaped (`,\"messages\":[`).
    parsed = parseMetadata(`${bytes.toString('utf8', 0, listStart)},"messages":[]}`, paths.imap)
  } catch {
    return undefined
  }
  if ('version' in parsed) return undefined // version 2: migrated on open
  const {uidValidity, uidNext, highestModseq, flagsModseq, mirrorModseq, delimiter, prefix, exactCount, journalId} = parsed
  // No UIDNEXT recorded (imap-backup's files, a run that never completed): nothing to skip on.
  // No exactness count: not the current format (a format-1 file is migrated on open).
  if (uidNext === undefined || exactCount === undefined) return undefined
  let rows: ExactRows | undefined
  if (exactCount > 0) {
    const exactBytes = await readBytes(paths.exact)
    if (exactBytes === undefined) return undefined
    rows = ExactRows.open(exactBytes, uidValidity, journalId)
    if (rows === undefined) return undefined
  }
  const visit = rows === undefined ? undefined : rows.visitor()
  const last = checkBody(bytes, listStart + MESSAGES_KEY.length, visit)
  if (last === undefined || last.end !== mboxSize) return undefined
  if (rows !== undefined && !rows.finished(exactCount)) return undefined
  if (last.offset !== undefined && !(await startsWithFrom(paths.mbox, last.offset))) return undefined
  return {uidValidity, uidNext, highestModseq, flagsModseq, mirrorModseq, delimiter, prefix}
}

/**
 * Checks the rest of the file, from the first message entry on, as parseMetadata and
 * structuralProblems would, without building anything: it accepts only exactly what
 * serializeMetadataChunks writes (`{"uid":U,"offset":O,"length":L,"flags":[…]}` entries, offsets
 * ascending, then `]}`), and anything else, valid or not, gives undefined (the caller then opens
 * the folder, which decides). Parsing the message list as JSON made an object per message: most
 * of a no-op run's time on a 100,000-message folder. `visit` sees each entry (the exactness
 * rows are checked against them in step). Returns where the last entry starts and where the
 * entries end.
 */
export function checkBody(bytes: Buffer, start: number, visit?: EntryVisitor): {offset: number | undefined; end: number} | undefined {
  const scan = new ByteScan(bytes, start)
  let end = 0
  let lastOffset: number | undefined
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
      scan.i = after
      if (bytes[scan.i++] !== CLOSE_OBJECT) return undefined
      if (visit !== undefined && !visit(uid, offset, length)) return undefined
      lastOffset = offset
      end = offset + length
      if (bytes[scan.i] === COMMA) scan.i++
      else break
    }
  }
  // `]}` ends the file; any other top-level key (a format-1 file's records, a key kept from
  // another writer) is for the full open.
  if (scan.i !== bytes.length - 2 || bytes[scan.i] !== CLOSE_LIST || bytes[scan.i + 1] !== CLOSE_OBJECT) return undefined
  return {offset: lastOffset, end}
}

/** A cursor over bytes of JSON written by us: literals and plain integers, one byte at a time. */
class ByteScan {
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

/**
 * The rows of an exactness file (exact-file.ts), read in step with the `.imap` message list:
 * every row must be the one of the next entry with its UID, at the same offset with the same
 * length. Rows exactly as serializeExactChunks writes them; anything else fails the peek.
 */
class ExactRows {
  private count = 0
  private failed = false
  /** The UID of the row under the cursor, 0 at the end of the list. */
  private nextUid = 0

  private constructor(private readonly scan: ByteScan) {}

  static open(bytes: Buffer, uidValidity: number, journalId: string | undefined): ExactRows | undefined {
    if (!bytes.subarray(0, EXACT_HEAD_START.length).equals(EXACT_HEAD_START)) return undefined
    const listStart = bytes.indexOf(MESSAGES_KEY)
    if (listStart < 0) return undefined
    let head: unknown
    try {
      head = JSON.parse(`${bytes.toString('utf8', 0, listStart)}}`)
    } catch {
      return undefined
    }
    const h = head as Record<string, unknown>
    if (h['uid_validity'] !== uidValidity || h['journal'] !== journalId || Object.keys(h).length !== (journalId === undefined ? 2 : 3)) return undefined
    const rows = new ExactRows(new ByteScan(bytes, listStart + MESSAGES_KEY.length))
    if (bytes[rows.scan.i] === CLOSE_LIST) rows.nextUid = 0
    else rows.readUid()
    return rows
  }

  visitor(): EntryVisitor {
    return (uid, offset, length) => {
      if (this.failed) return false
      if (this.nextUid !== uid) return true // an entry without a record (another tool wrote it)
      if (!this.consume(offset, length)) this.failed = true
      return !this.failed
    }
  }

  /** Every row was bound, and there were `expected` of them. */
  finished(expected: number): boolean {
    const {scan} = this
    return !this.failed && this.nextUid === 0 && this.count === expected && scan.i === scan.bytes.length - 2 && scan.bytes[scan.i] === CLOSE_LIST && scan.bytes[scan.i + 1] === CLOSE_OBJECT
  }

  private readUid(): void {
    const {scan} = this
    const uid = scan.byte(OPEN_LIST) ? scan.integer() : undefined
    if (uid === undefined || uid < 1 || !scan.byte(COMMA)) {
      this.failed = true
      this.nextUid = -1
      return
    }
    this.nextUid = uid
  }

  /** The rest of the row under the cursor: its offset and length must be the entry's. */
  private consume(offset: number, length: number): boolean {
    const {scan} = this
    if (scan.integer() !== offset || !scan.byte(COMMA) || scan.integer() !== length || !scan.byte(COMMA)) return false
    if (scan.integer() === undefined || !scan.byte(COMMA)) return false // size
    if (!(scan.expect(NULL) || scan.signed()) || !scan.byte(COMMA)) return false // internaldate
    const appended = scan.integer()
    if (appended === undefined || appended > 2 || !scan.byte(COMMA)) return false
    if (scan.bytes[scan.i] === OPEN_LIST) {
      // eol `[k,d1,…]`: its values are checked by the codec when the message is read.
      scan.i++
      for (;;) {
        if (scan.integer() === undefined) return false
        if (scan.bytes[scan.i] !== COMMA) break
        scan.i++
      }
      if (!scan.byte(CLOSE_LIST)) return false
    } else {
      const eol = scan.integer()
      if (eol !== 0 && eol !== 1) return false
    }
    if (!scan.byte(COMMA)) return false
    const q = scan.integer()
    if ((q !== 0 && q !== 1) || !scan.byte(CLOSE_LIST)) return false
    this.count++
    if (scan.bytes[scan.i] === COMMA) {
      scan.i++
      this.readUid()
    } else {
      this.nextUid = 0
    }
    return !this.failed
  }
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

async function readBytes(path: string): Promise<Buffer | undefined> {
  let handle
  try {
    handle = await openNoFollow(path, constants.O_RDONLY, 0o600)
  } catch {
    return undefined // missing, a symlink, unreadable: opening the folder says which
  }
  try {
    return await handle.readFile()
  } catch (error) {
    throw localIoError(error, 'read', path)
  } finally {
    await handle.close()
  }
}

async function startsWithFrom(path: string, offset: number): Promise<boolean> {
  let handle
  try {
    handle = await openNoFollow(path, constants.O_RDONLY, 0o600)
  } catch {
    return false
  }
  try {
    const head = Buffer.alloc(FROM_.length)
    const {bytesRead} = await handle.read(head, 0, head.length, offset)
    return bytesRead === head.length && head.equals(FROM_)
  } catch (error) {
    throw localIoError(error, 'read', path)
  } finally {
    await handle.close()
  }
}
