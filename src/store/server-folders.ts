/**
 * `.mailkeep-server-folders.json` in the account root: the names of the server's selectable
 * folders as the last backup listed them (docs/design.md, "Files of one account"). A backup
 * compares the folders it lists with it to tell which of the folders it does not back up (not
 * selected by `folders` / `folder_blacklist`) are new since the last run, and reports those first
 * (docs/backup.md, "Folders not selected").
 *
 * Not backup data: nothing is lost when it is missing, damaged or rewritten by another tool
 * (every unselected folder then counts as new once). It is written by atomic replace (I2) with
 * mode 0600, only by a backup (which holds the account's exclusive lock, I5), and never names a
 * folder: its name does not end in `.imap` (docs/design.md, "Folder names").
 */
import {atomicWrite} from '../shared/atomic-write.js'
import {DamagedError} from '../shared/errors.js'
import {readIfPresent} from './file-ops.js'
import {isObject} from './json-guards.js'
import {FILE_MODE, resolveInside} from './safe-path.js'

export const SERVER_FOLDERS_FILE = '.mailkeep-server-folders.json'

/** The file's format; a larger one (a newer mailkeep) is read as "nothing recorded". */
const FORMAT = 1

/**
 * The folder names recorded by the last backup, or undefined when none are (no such file, or one
 * of a newer format). @throws DamagedError when the file is not what mailkeep writes.
 */
export async function readServerFolders(root: string): Promise<string[] | undefined> {
  const path = resolveInside(root, SERVER_FOLDERS_FILE)
  const text = await readIfPresent(path)
  if (text === undefined) return undefined
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (error) {
    throw new DamagedError(`'${path}' is not valid JSON (${(error as Error).message})`, {cause: error})
  }
  if (!isObject(data) || typeof data['format'] !== 'number') throw new DamagedError(`'${path}' is not a list of server folders`)
  if (data['format'] > FORMAT) return undefined
  const folders = data['folders']
  if (!Array.isArray(folders) || !folders.every((f) => typeof f === 'string')) throw new DamagedError(`'${path}' is not a list of server folders`)
  return folders
}

/** Records the folders the server lists now (the account's exclusive lock is held). */
export async function writeServerFolders(root: string, folders: readonly string[]): Promise<void> {
  await atomicWrite(resolveInside(root, SERVER_FOLDERS_FILE), `${JSON.stringify({format: FORMAT, folders})}\n`, {mode: FILE_MODE})
}
