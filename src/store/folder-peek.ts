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
import {headOf, scanImapBody} from './imap-scan.js'
import type {FolderServerState} from './metadata.js'
import {checkNoSymlinks, openNoFollow} from './safe-path.js'

export interface PeekedFolder extends FolderServerState {
  uidValidity: number
}

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
  if (bytes === undefined) return undefined
  let head
  try {
    head = headOf(bytes, paths.imap)
  } catch {
    return undefined
  }
  if (head === undefined || 'version' in head.parsed) return undefined // version 2: migrated on open
  const {uidValidity, uidNext, highestModseq, delimiter, prefix} = head.parsed
  // No UIDNEXT recorded (imap-backup's files, a run that never completed): nothing to skip on.
  if (uidNext === undefined) return undefined
  // The whole file checked as opening it would, without a table (imap-scan.ts).
  const last = scanImapBody(bytes, head.listStart)
  if (last === undefined || last.end !== mboxSize) return undefined
  if (last.offset !== undefined && !(await startsWithFrom(paths.mbox, last.offset))) return undefined
  return {uidValidity, uidNext, highestModseq, delimiter, prefix}
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
