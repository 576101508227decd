/**
 * The server state a folder's metadata records (UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, naming),
 * read without opening the folder: what a backup needs to decide that an unchanged folder can be
 * skipped (docs/backup.md, "Unchanged folders"). Opening a 100,000-message folder (its `.imap`
 * is 8 MB) was most of a no-op run's time.
 *
 * Only where that is as safe as opening the folder (docs/design.md, "Recovery on open"): no
 * journal (a transaction that did not end: recovery must run), no rename intent or unfinished
 * rewrite (`.compact` files), the mbox there as a regular file, and the `.imap` in mailkeep's own
 * layout (`{"version":3,"uid_validity":…`, metadata.ts). And the same checks as opening it: the
 * whole `.imap` parses and is consistent, the mbox ends exactly where the last message does
 * (neither a torn tail nor bytes after it), and the last message starts with a `From ` line. So a
 * damaged folder is never reported unchanged: anything else (an imap-backup file, a damaged or
 * newer one) gives undefined, and the caller opens the folder, which recovers or reports as
 * usual. Nothing is written.
 */
import {constants} from 'node:fs/promises'
import {localIoError} from '../shared/errors.js'
import {exists, sizeIfPresent} from './file-ops.js'
import {encodeFolderPath} from './folder-path.js'
import {folderPaths} from './folder-store.js'
import {isExactTuple, parseMetadata, type FolderServerState} from './metadata.js'
import {checkNoSymlinks, openNoFollow} from './safe-path.js'

export interface PeekedFolder extends FolderServerState {
  uidValidity: number
}

const HEAD_START = Buffer.from('{"version":3,"uid_validity":')
const MESSAGES_KEY = Buffer.from(',"messages":[')
const UID_KEY = Buffer.from('{"uid":')
const OFFSET_KEY = Buffer.from(',"offset":')
const LENGTH_KEY = Buffer.from(',"length":')
const FLAGS_KEY = Buffer.from(',"flags":')
const RECORDS_KEY = Buffer.from('],"mailkeep_messages":[')
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
  const {uidValidity, uidNext, highestModseq, flagsModseq, mirrorModseq, delimiter, prefix} = parsed
  // No UIDNEXT recorded (imap-backup's files, a run that never completed): nothing to skip on.
  if (uidNext === undefined) return undefined
  const last = checkBody(bytes, listStart + MESSAGES_KEY.length)
  if (last === undefined || last.end !== mboxSize) return undefined
  if (last.offset !== undefined && !(await startsWithFrom(paths.mbox, last.offset))) return undefined
  return {uidValidity, uidNext, highestModseq, flagsModseq, mirrorModseq, delimiter, prefix}
}

/**
 * Checks the rest of the file, from the first message entry on, as parseMetadata and
 * structuralProblems would, without building anything: it accepts only exactly what
 * serializeMetadataChunks writes (`{"uid":U,"offset":O,"length":L,"flags":[…]}` entries, offsets
 * ascending, then `],"mailkeep_messages":[…]}`), and anything else, valid or not, gives undefined
 * (the caller then opens the folder, which decides). Parsing the message list as JSON made an
 * object per message: most of a no-op run's time on a 100,000-message folder.
 * Returns where the last entry starts and where the entries end.
 */
export function checkBody(bytes: Buffer, start: number): {offset: number | undefined; end: number} | undefined {
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
      i = after
      if (bytes[i++] !== CLOSE_OBJECT) return undefined
      lastOffset = offset
      end = offset + length
      if (bytes[i] === COMMA) i++
      else break
    }
  }
  if (!expect(RECORDS_KEY)) return undefined
  const close = bytes.length - 2
  // `]}` ends the file; any other top-level key (kept from another writer) is for the full open.
  if (close < i - 1 || bytes[close] !== CLOSE_LIST || bytes[close + 1] !== CLOSE_OBJECT) return undefined
  const recordsStart = i - 1
  // Records as written: `[uid,size,date|null,appended,eol]`, eol a number or a list of numbers.
  const signed = (): boolean => {
    if (bytes[i] === MINUS) i++
    return integer() !== undefined
  }
  let plain = true
  if (bytes[i] !== CLOSE_LIST) {
    for (;;) {
      if (bytes[i++] !== OPEN_LIST) {
        plain = false
        break
      }
      const uid = integer()
      if (uid === undefined || uid < 1 || bytes[i++] !== COMMA || integer() === undefined || bytes[i++] !== COMMA) return undefined
      if (!(expect(NULL) || signed()) || bytes[i++] !== COMMA) return undefined
      const appended = integer()
      if (appended === undefined || appended > 2 || bytes[i++] !== COMMA) return undefined
      if (bytes[i] === OPEN_LIST) {
        i++
        if (bytes[i] !== CLOSE_LIST) {
          for (;;) {
            if (integer() === undefined) return undefined
            if (bytes[i] !== COMMA) break
            i++
          }
        }
        if (bytes[i++] !== CLOSE_LIST) return undefined
      } else if (integer() === undefined) {
        plain = false
        break
      }
      if (bytes[i++] !== CLOSE_LIST) return undefined
      if (bytes[i] !== COMMA) break
      i++
    }
  }
  if (plain) return i === close ? {offset: lastOffset, end} : undefined
  // A record this scan does not know (an eol value of another form): the JSON parse decides.
  let records: unknown
  try {
    records = JSON.parse(bytes.toString('utf8', recordsStart, close + 1))
  } catch {
    return undefined
  }
  if (!Array.isArray(records) || !records.every(isExactTuple)) return undefined
  return {offset: lastOffset, end}
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
