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
 * opened, which moves its exactness records out). And the same rules as opening it, from the
 * same inspection (inspection.ts), which must find nothing: the whole
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
import {folderPaths} from './folder-paths.js'
import {ByteScan, checkBody, CLOSE_LIST, CLOSE_OBJECT, COMMA, headOf, MESSAGES_KEY, NULL, OPEN_LIST, type EntryVisitor} from './imap-scan.js'
import type {FolderServerState} from './metadata.js'
import {checkNoSymlinks, openNoFollow} from './safe-path.js'
import {inspectFolder, type FolderFacts, type InspectOptions} from './inspection.js'

export interface PeekedFolder extends FolderServerState {
  uidValidity: number
}

const EXACT_HEAD_START = Buffer.from('{"mailkeep_exact":1,"uid_validity":')
const FROM_ = Buffer.from('From ')
/** The peek reports nothing: a finding only means "open the folder", which names the repair. */
const NO_REPAIR: InspectOptions = {repair: undefined}

export async function peekFolderState(root: string, name: string): Promise<PeekedFolder | undefined> {
  const peeked = await peekFolderHead(root, name)
  return peeked !== undefined && (await peeked.verify()) ? peeked.state : undefined
}

/**
 * peekFolderState in two steps, for a caller that asks the server before it decides: the recorded
 * state from the head of `.imap` (and the cheap checks: no journal, intent or `.compact` file,
 * the mbox there), then `verify()`, the checks of the whole files, which only a folder about to be
 * skipped needs. A folder the server changed is opened anyway, and opening checks all of it:
 * checking it here too would read both files twice.
 */
export async function peekFolderHead(root: string, name: string): Promise<{state: PeekedFolder; verify(): Promise<boolean>} | undefined> {
  const relativePath = encodeFolderPath(name)
  const paths = folderPaths(root, relativePath)
  await checkNoSymlinks(root, `${relativePath}.mbox`)
  // Step 1 and 3 of recovery would have work to do: an unfinished rename or rewrite, a journal.
  const interrupted: string[] = []
  for (const path of [paths.renameIntent, paths.imapCompact, paths.mboxCompact, paths.exactCompact]) if (await exists(path)) interrupted.push(path)
  const journal = await exists(paths.journal)
  let mboxSize: number | undefined
  try {
    mboxSize = await sizeIfPresent(paths.mbox)
  } catch {
    return undefined // a symlink or a directory: opening the folder says what is wrong
  }
  // The findings these facts show already (the skip requires none): the files of an unfinished
  // operation, a journal. Without the message list, which is read only for a folder to skip.
  if (inspectFolder({paths, interrupted, imapPresent: true, mboxSize, ...(journal ? {journal: {state: 'pending', appended: undefined}} : {})}, NO_REPAIR).length > 0) return undefined
  if (mboxSize === undefined) return undefined // opening the folder decides (created, or missing)
  const bytes = await readBytes(paths.imap)
  if (bytes === undefined) return undefined
  let head
  try {
    head = headOf(bytes, paths.imap)
  } catch {
    return undefined
  }
  if (head === undefined || 'version' in head.parsed) return undefined // version 2: migrated on open
  const {parsed, listStart} = head
  const {uidValidity, uidNext, highestModseq, flagsModseq, mirrorModseq, delimiter, prefix, exactCount, journalId} = parsed
  // No UIDNEXT recorded (imap-backup's files, a run that never completed): nothing to skip on.
  // No exactness count: not the current format (a format-1 file is migrated on open).
  if (uidNext === undefined || exactCount === undefined) return undefined
  const size = mboxSize
  const verify = async (): Promise<boolean> => {
    let rows: ExactRows | undefined
    if (exactCount > 0) {
      const exactBytes = await readBytes(paths.exact)
      if (exactBytes === undefined) return false
      rows = ExactRows.open(exactBytes, uidValidity, journalId)
      if (rows === undefined) return false
    }
    const visit = rows === undefined ? undefined : rows.visitor()
    // The whole file read as opening it would, without a table (imap-scan.ts); a list it does
    // not accept (out of order, another layout) is for opening to judge.
    const last = checkBody(bytes, listStart, visit)
    if (last === undefined) return false
    if (rows !== undefined && !rows.finished(exactCount)) return false
    const heads = last.uid === undefined || last.offset === undefined ? [] : [{uid: last.uid, offset: last.offset, from: await startsWithFrom(paths.mbox, last.offset)}]
    const facts: FolderFacts = {paths, interrupted: [], imapPresent: true, mboxSize: size, list: {count: last.count, end: last.end}, heads}
    return inspectFolder(facts, NO_REPAIR).length === 0
  }
  return {state: {uidValidity, uidNext, highestModseq, flagsModseq, mirrorModseq, delimiter, prefix}, verify}
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
