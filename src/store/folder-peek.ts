/**
 * The server state a folder's metadata records (UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, naming),
 * read from the head of its `.imap` without loading the message list: what a backup needs to
 * decide that an unchanged folder can be skipped (docs/backup.md, "Unchanged folders"). A
 * 100,000-message `.imap` is 8 MB, and parsing it was most of a no-op run's time.
 *
 * Only where that is as safe as opening the folder (docs/design.md, "Recovery on open"): no
 * journal (a transaction that did not end: recovery must run), no rename intent or unfinished
 * rewrite (`.compact` files), the mbox there
 * as a regular file, and the `.imap` in mailkeep's own layout, whose header comes first
 * (`{"version":3,"uid_validity":…,"mailkeep":{…},"messages":[`, metadata.ts). Anything else
 * (an imap-backup file, a damaged or newer one) gives undefined, and the caller opens the folder,
 * which recovers or reports as usual. Nothing is written.
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

/** More than any header mailkeep writes (a prefix is at most 1,000 characters). */
const HEAD_BYTES = 16 * 1024
const HEAD_START = '{"version":3,"uid_validity":'
const MESSAGES_KEY = ',"messages":['

export async function peekFolderState(root: string, name: string): Promise<PeekedFolder | undefined> {
  const relativePath = encodeFolderPath(name)
  const paths = folderPaths(root, relativePath)
  await checkNoSymlinks(root, `${relativePath}.mbox`)
  // Step 1 and 3 of recovery would have work to do: an unfinished rename or rewrite, a journal.
  for (const path of [paths.journal, paths.renameIntent, paths.imapCompact, paths.mboxCompact]) if (await exists(path)) return undefined
  try {
    if ((await sizeIfPresent(paths.mbox)) === undefined) return undefined
  } catch {
    return undefined // a symlink or a directory: opening the folder says what is wrong
  }
  const head = await readHead(paths.imap)
  if (head === undefined || !head.startsWith(HEAD_START)) return undefined
  const end = head.indexOf(MESSAGES_KEY)
  if (end < 0) return undefined
  let parsed
  try {
    // The header with an empty message list, parsed and checked as a whole file is. The key
    // cannot be met inside a string first: there its quotes are escaped (`,\"messages\":[`).
    parsed = parseMetadata(`${head.slice(0, end)},"messages":[]}`, paths.imap)
  } catch {
    return undefined
  }
  if ('version' in parsed) return undefined // version 2: migrated on open
  const {uidValidity, uidNext, highestModseq, delimiter, prefix} = parsed
  // No UIDNEXT recorded (imap-backup's files, a run that never completed): nothing to skip on.
  if (uidNext === undefined) return undefined
  return {uidValidity, uidNext, highestModseq, delimiter, prefix}
}

async function readHead(path: string): Promise<string | undefined> {
  let handle
  try {
    handle = await openNoFollow(path, constants.O_RDONLY, 0o600)
  } catch {
    return undefined // missing, a symlink, unreadable: opening the folder says which
  }
  try {
    const buffer = Buffer.alloc(HEAD_BYTES)
    const {bytesRead} = await handle.read(buffer, 0, HEAD_BYTES, 0)
    return buffer.toString('utf8', 0, bytesRead)
  } catch (error) {
    throw localIoError(error, 'read', path)
  } finally {
    await handle.close()
  }
}
