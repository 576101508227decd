/**
 * `.mailkeep-not-stored.json` in the account root: the server folders that the last backup of the
 * account could not store locally because their path cannot be used (UnusablePathError: a name
 * too long for the file system, a file where the folder's directory must be, a directory where
 * its file must be). `local check` reads it, so it can report those folders without asking the
 * server (docs/design.md, "Files of one account").
 *
 * It is a status record, not backup data: written by atomic replace (I2) by the backup, under the
 * account's exclusive lock, removed when no folder is left in it; a damaged one is reported by
 * `local check` and replaced by the next backup. Its name ends neither in `.imap` nor in another
 * folder suffix, so no tool takes it for a folder.
 *
 * ```json
 * {"version":1,"folders":[{"name":"Archive.imap/2023","error":"…","hint":"…","since":"2026-12-07T03:00:00.000Z","last":"2026-12-08T03:00:00.000Z"}]}
 * ```
 */
import {join} from 'node:path'
import {atomicWrite} from '../shared/atomic-write.js'
import {DamagedError} from '../shared/errors.js'
import {readIfPresent, removeIfPresent} from './file-ops.js'

export const NOT_STORED_FILE = '.mailkeep-not-stored.json'
const VERSION = 1

export interface NotStoredFolder {
  /** The server's folder name (UTF-8). */
  name: string
  /** Why its path cannot be used (the error of the last attempt). */
  error: string
  /** What to do about it. */
  hint?: string
  /** First backup that could not store it (ISO 8601, UTC). */
  since: string
  /** Last backup that could not store it. */
  last: string
}

export function notStoredPath(root: string): string {
  return join(root, NOT_STORED_FILE)
}

/**
 * The folders the last backup could not store; [] when there is no record.
 *
 * @throws DamagedError naming the file when it is not such a record (or a special file).
 */
export async function readNotStored(root: string): Promise<NotStoredFolder[]> {
  const path = notStoredPath(root)
  const text = await readIfPresent(path)
  if (text === undefined) return []
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = undefined
  }
  const folders = (parsed as {folders?: unknown} | undefined)?.folders
  if ((parsed as {version?: unknown} | undefined)?.version !== VERSION || !Array.isArray(folders) || !folders.every(isEntry)) {
    throw new DamagedError(`'${path}' is not a record of folders that could not be stored`, {hint: 'the next backup of this account replaces it'})
  }
  return folders
}

/** Replaces the record (removes it when `folders` is empty). The caller holds the exclusive lock. */
export async function writeNotStored(root: string, folders: readonly NotStoredFolder[]): Promise<void> {
  const path = notStoredPath(root)
  if (folders.length === 0) await removeIfPresent(path)
  else await atomicWrite(path, `${JSON.stringify({version: VERSION, folders})}\n`, {mode: 0o600})
}

function isEntry(value: unknown): value is NotStoredFolder {
  if (value === null || typeof value !== 'object') return false
  const v = value as Record<string, unknown>
  return (
    typeof v['name'] === 'string' &&
    typeof v['error'] === 'string' &&
    (v['hint'] === undefined || typeof v['hint'] === 'string') &&
    typeof v['since'] === 'string' &&
    typeof v['last'] === 'string'
  )
}
