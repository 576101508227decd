/**
 * Writing the files of an export (Thunderbird mailboxes, Maildir, .eml) inside a target
 * directory the user named, with the store's safety rules (docs/design.md I8) carried over:
 *
 * - names come from folder-name mappings that never produce `..`, absolute paths or empty
 *   components; on top of that every directory below the target is checked with `lstat` and a
 *   symlink or non-directory there is refused rather than followed (the target itself may be a
 *   symlink: that is the user's choice of where the export goes);
 * - a file is written under a temporary name in its final directory, then renamed, so an
 *   interrupted export never leaves a partial file under a name a mail program would read;
 * - new directories are 0700 and new files 0600, like the backup itself: an export is mail.
 */
import {randomBytes} from 'node:crypto'
import {constants, lstat, mkdir, open, rename, stat, unlink, type FileHandle} from 'node:fs/promises'
import {join} from 'node:path'
import {errnoCode, localIoError, LocalIoError} from '../../shared/errors.js'
import {writePieces} from '../../shared/write-all.js'

export const EXPORT_DIRECTORY_MODE = 0o700
export const EXPORT_FILE_MODE = 0o600

export type PathKind = 'missing' | 'file' | 'directory' | 'symlink' | 'other'

export interface PathInfo {
  kind: PathKind
  /** Bytes, for files. */
  size: number
}

/** What is at `path`, without following a symlink there. */
export async function pathInfo(path: string): Promise<PathInfo> {
  try {
    const info = await lstat(path)
    if (info.isSymbolicLink()) return {kind: 'symlink', size: 0}
    if (info.isDirectory()) return {kind: 'directory', size: 0}
    return {kind: info.isFile() ? 'file' : 'other', size: info.size}
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return {kind: 'missing', size: 0}
    throw localIoError(error, 'inspect', path)
  }
}

/** The target directory itself: created (0700, with parents) when missing; it may be a symlink. */
export async function ensureTargetDirectory(path: string): Promise<void> {
  try {
    await mkdir(path, {recursive: true, mode: EXPORT_DIRECTORY_MODE})
    if (!(await stat(path)).isDirectory()) throw new LocalIoError(`'${path}' is not a directory`)
  } catch (error) {
    if (error instanceof LocalIoError) throw error
    if (errnoCode(error) === 'EEXIST' || errnoCode(error) === 'ENOTDIR') throw new LocalIoError(`'${path}' is not a directory`, {cause: error})
    throw localIoError(error, 'create the directory', path)
  }
}

/**
 * Walks `components` below `root` (which must exist), creating missing directories when
 * `create` is set; returns the absolute path. With `create` unset a missing directory ends the
 * walk without error (there is then nothing below it).
 *
 * @throws LocalIoError if a symlink or anything but a directory is in the way.
 */
export async function walkDirectories(root: string, components: readonly string[], create: boolean, onCreate?: (path: string) => Promise<void>): Promise<string> {
  let directory = root
  for (let i = 0; i < components.length; i++) {
    directory = join(directory, components[i]!)
    const {kind} = await pathInfo(directory)
    if (kind === 'directory') continue
    if (kind !== 'missing') throw inTheWay(directory, kind)
    if (!create) return join(directory, ...components.slice(i + 1))
    try {
      await mkdir(directory, {mode: EXPORT_DIRECTORY_MODE})
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST') throw localIoError(error, 'create the directory', directory)
      const now = (await pathInfo(directory)).kind
      if (now !== 'directory') throw inTheWay(directory, now)
    }
    await onCreate?.(directory)
  }
  return directory
}

export function inTheWay(path: string, kind: PathKind): LocalIoError {
  if (kind === 'symlink') {
    return new LocalIoError(`'${path}' is a symbolic link; mailkeep does not follow links inside an export`, {
      hint: 'replace the link with the directory it points to, or export somewhere else',
    })
  }
  return new LocalIoError(`'${path}' is in the way: mailkeep needs a directory there`, {hint: 'move it away, or export somewhere else'})
}

/** A fresh hidden name for a temporary file beside `name`. */
export function temporaryName(name: string): string {
  return `.${name}.mailkeep-${randomBytes(6).toString('hex')}.tmp`
}

/** Creates a new file (never an existing one, never through a symlink), mode 0600. */
export async function createExclusive(path: string): Promise<FileHandle> {
  try {
    return await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, EXPORT_FILE_MODE)
  } catch (error) {
    throw localIoError(error, 'create', path)
  }
}

/**
 * Writes `pieces` to the new file `temporary`, sets its modification time (when known), then
 * renames it to `target`, replacing a file there (callers decide beforehand whether they may).
 * The temporary file is removed again if anything fails.
 */
export async function writeThenRename(temporary: string, target: string, pieces: readonly Buffer[], mtime: number | null): Promise<void> {
  const handle = await createExclusive(temporary)
  try {
    try {
      await writePieces(handle, pieces)
      if (mtime !== null) await handle.utimes(new Date(mtime), new Date(mtime))
    } finally {
      await handle.close()
    }
    await rename(temporary, target)
  } catch (error) {
    await removeQuietly(temporary)
    throw localIoError(error, 'write', target)
  }
}

/** Removes a file we created; a failure here must not hide the error being reported. */
export async function removeQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => undefined)
}

/** Removes a regular file if it is there. */
export async function removeIfPresent(path: string): Promise<void> {
  try {
    await unlink(path)
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw localIoError(error, 'remove', path)
  }
}
