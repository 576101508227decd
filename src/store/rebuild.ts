/**
 * The store's half of `mailkeep local repair` (docs/repair.md): everything that reads or writes
 * the folder's files. The engine decides which UID and flags each message gets (it is the one
 * that may talk to the server); this module
 *
 * - scans the mbox into entries (scanMbox, mbox-scan.ts), with their header fields
 *   (message-headers.ts);
 * - salvages what a damaged `.imap` (and a left-over journal) still says (salvage.ts);
 * - derives and verifies exactness records (exactnessCandidates, verifyExactness:
 *   entry-exactness.ts);
 * - writes the repaired folder (writeRepair) in an order that never loses a byte (design.md I6):
 *   the torn tail is copied aside and fsynced before the mbox is truncated, the old `.imap` (and
 *   a stale journal) are renamed aside, never deleted, and the new `.imap` is an atomic replace
 *   (I2). The caller holds the account's exclusive lock (I5).
 *
 * This file writes; the others read. It re-exports what the engine's repair needs, so that the
 * repair imports the store's half from one place.
 */
import {constants, rename, type FileHandle} from 'node:fs/promises'
import {dirname} from 'node:path'
import {localIoError} from '../shared/errors.js'
import {writeAll} from '../shared/write-all.js'
import {atomicWrite, atomicWriteChunks, fsyncDirectory} from '../shared/atomic-write.js'
import {exists, freeName, keepCopyAside, setAsideTimestamp} from './file-ops.js'
import {folderPaths} from './folder-paths.js'
import {UNVERIFIED_UID_VALIDITY} from './findings.js'
import {readChunks} from './read-chunks.js'
import {parseExactFile, quotingOf, serializeExactChunks} from './exact-file.js'
import {serializeMetadata, type FolderMetadata} from './metadata.js'
import type {MessageTable} from './message-table.js'
import {openNoFollow} from './safe-path.js'
import {readIfFile} from './salvage.js'

export {UNVERIFIED_UID_VALIDITY}
/** The UTC time in the names of files set aside, `20261122T101112Z`. */
export const repairTimestamp = setAsideTimestamp

export {normaliseDate, normaliseMessageId, parseHeaderFields} from './message-headers.js'
export {scanMbox, type EntryStyle, type ScannedEntry, type ScanOptions} from './mbox-scan.js'
export {exactnessCandidates, readEntryBytes, sizeRange, verifyExactness} from './entry-exactness.js'
export {emptySalvage, salvageExactFile, salvageFolder, salvageJournal, salvageMetadata, type Salvage, type SalvagedEntry} from './salvage.js'

// ---------------------------------------------------------------------------------------------
// Writing the repaired folder

export interface RepairWrite {
  root: string
  relativePath: string
  /** The new metadata; undefined to only set the old files aside (the mbox is gone). */
  metadata: FolderMetadata | undefined
  /** Cut the mbox here after copying the bytes from here to its end aside (a torn tail). */
  truncateAt?: number
  /** UTC time of the repair, used in the names of the files set aside. */
  at: Date
}

export interface RepairWritten {
  /** Where the old `.imap` went (`<P>.imap.damaged-<timestamp>`), if there was one. */
  imapSavedAs?: string
  /** Where a stale journal went. */
  journalSavedAs?: string
  /**
   * Where a copy of the old exactness file was kept (`<P>.mailkeep.replaced-<timestamp>`): only
   * when the new one does not hold every record of it.
   */
  exactSavedAs?: string
  /** Where the torn tail's bytes were copied (`<P>.mbox.torn-<timestamp>`). */
  tornSavedAs?: string
  tornBytes?: number
}


/**
 * Writes a repair (the caller holds the exclusive lock). Order, each step durable before the
 * next: (1) the torn tail is copied to `<P>.mbox.torn-<ts>`; (2) the old `.imap` and a stale
 * journal are renamed aside, and a copy of the old exactness file is kept aside when the new one
 * would not hold all its records (the file itself stays until it is replaced); (3) the mbox is truncated to the end of its last complete entry;
 * (4) the new exactness file, then the new `.imap`, are written atomically. A crash at any point
 * leaves every byte somewhere and a folder that `local check` reports and `local repair` repairs
 * again.
 */
export async function writeRepair(w: RepairWrite): Promise<RepairWritten> {
  const paths = folderPaths(w.root, w.relativePath)
  const stamp = setAsideTimestamp(w.at)
  const written: RepairWritten = {}
  const dir = dirname(paths.base)
  if (w.truncateAt !== undefined) {
    const target = await freeName(`${paths.mbox}.torn-${stamp}`)
    const bytes = await copyTail(paths.mbox, w.truncateAt, target)
    if (bytes > 0) {
      written.tornSavedAs = target
      written.tornBytes = bytes
    }
  }
  if (await exists(paths.imap)) {
    written.imapSavedAs = await freeName(`${paths.imap}.damaged-${stamp}`)
    await renameOrFail(paths.imap, written.imapSavedAs)
  }
  if (await exists(paths.journal)) {
    written.journalSavedAs = await freeName(`${paths.journal}.damaged-${stamp}`)
    await renameOrFail(paths.journal, written.journalSavedAs)
  }
  if (w.metadata !== undefined && (await exactWouldLose(paths.exact, w.metadata))) written.exactSavedAs = await keepCopyAside(paths.exact, '.replaced', w.at)
  await fsyncDirectory(dir)
  if (w.truncateAt !== undefined && written.tornBytes !== undefined) {
    const handle = await openNoFollow(paths.mbox, constants.O_WRONLY)
    try {
      await handle.truncate(w.truncateAt)
      await handle.sync()
    } catch (error) {
      throw localIoError(error, 'truncate', paths.mbox)
    } finally {
      await handle.close()
    }
  }
  if (w.metadata !== undefined) {
    if (w.metadata.messages.recordCount > 0 || (await exists(paths.exact))) await atomicWriteChunks(paths.exact, serializeExactChunks(w.metadata), {mode: 0o600})
    await atomicWrite(paths.imap, serializeMetadata(w.metadata), {mode: 0o600})
  }
  return written
}

/**
 * True when replacing the exactness file at `path` by one for `meta` would drop something: a row
 * whose entry (UID, offset, length) is not in `meta` with the very same record, or a file that
 * cannot be read at all.
 */
async function exactWouldLose(path: string, meta: FolderMetadata): Promise<boolean> {
  const text = await readIfFile(path)
  if (text === undefined) return false
  let file
  try {
    file = parseExactFile(text, path)
  } catch {
    return true
  }
  if (file.rows.length > 0 && file.uidValidity !== meta.uidValidity) return true
  const messages = meta.messages
  for (const [uid, offset, length, size, internalDate, appended, eol, q] of file.rows) {
    const row = messages.indexOf(uid)
    let found = false
    for (let r = row; r >= 0 && r < messages.length && !found; r++) {
      if (messages.uidAt(r) !== uid || messages.offsetAt(r) !== offset || messages.lengthAt(r) !== length) continue
      const tuple = messages.exactnessAt(r)
      found = tuple !== undefined && JSON.stringify(tuple.slice(1)) === JSON.stringify([size, internalDate, appended, eol]) && messages.quotingAt(r) === quotingOf(q)
    }
    if (!found) return true
  }
  return false
}

async function copyTail(mboxPath: string, from: number, target: string): Promise<number> {
  const source = await openNoFollow(mboxPath, constants.O_RDONLY)
  let out: FileHandle | undefined
  try {
    const {size} = await source.stat()
    if (size <= from) return 0
    out = await openNoFollow(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600)
    let position = 0
    for await (const chunk of readChunks(source, from, size)) {
      await writeAll(out, chunk, position)
      position += chunk.length
    }
    await out.sync()
    return position
  } catch (error) {
    throw localIoError(error, 'copy the torn tail of', mboxPath)
  } finally {
    await out?.close()
    await source.close()
  }
}


async function renameOrFail(from: string, to: string): Promise<void> {
  try {
    await rename(from, to)
  } catch (error) {
    throw localIoError(error, 'rename', from)
  }
}

/** A FolderMetadata for writeRepair. */
export function repairedMetadata(uidValidity: number, messages: MessageTable, state: {uidNext?: number; highestModseq?: string} = {}): FolderMetadata {
  const meta: FolderMetadata = {uidValidity, messages, extraKeys: {}}
  if (state.uidNext !== undefined) meta.uidNext = state.uidNext
  if (state.highestModseq !== undefined) meta.highestModseq = state.highestModseq
  return meta
}
