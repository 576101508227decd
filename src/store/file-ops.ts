/**
 * Small file operations of the store for files that may be absent: a missing file is an answer
 * (undefined, false, nothing to do), any other failure a LocalIoError naming the file
 * (docs/exit-codes.md). Files inside the backup are looked at with `lstat`: a symlink there is
 * refused, never followed (docs/design.md I8).
 */
import {lstat, readFile, unlink} from 'node:fs/promises'
import {DamagedError, errnoCode, localIoError} from '../shared/errors.js'

/** The file's text (UTF-8), or undefined if it does not exist. @throws DamagedError for a symlink. */
export async function readIfPresent(path: string): Promise<string | undefined> {
  return (await readBytesIfPresent(path))?.toString('utf8')
}

/** The file's bytes, or undefined if it does not exist. @throws DamagedError for a symlink. */
export async function readBytesIfPresent(path: string): Promise<Buffer | undefined> {
  try {
    const info = await lstat(path)
    if (info.isSymbolicLink()) throw new DamagedError(`'${path}' is a symlink; mailkeep does not follow links inside the backup directory`)
    return await readFile(path)
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined
    throw localIoError(error, 'read', path)
  }
}

/** The file's size, or undefined if it does not exist. @throws DamagedError for a symlink or a non-file. */
export async function sizeIfPresent(path: string): Promise<number | undefined> {
  try {
    const info = await lstat(path)
    if (info.isSymbolicLink()) throw new DamagedError(`'${path}' is a symlink; mailkeep does not follow links inside the backup directory`)
    if (!info.isFile()) throw new DamagedError(`'${path}' is not a regular file`)
    return info.size
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined
    throw localIoError(error, 'read', path)
  }
}

/** Whether anything (a file, a directory, a symlink) is at `path`. */
export async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path)
    return true
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false
    throw localIoError(error, 'read', path)
  }
}

/** Removes the file; one that is already gone is fine. */
export async function removeIfPresent(path: string): Promise<void> {
  try {
    await unlink(path)
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw localIoError(error, 'remove', path)
  }
}
