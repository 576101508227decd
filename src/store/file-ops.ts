/**
 * Small file operations of the store for files that may be absent: a missing file is an answer
 * (undefined, false, nothing to do), any other failure a LocalIoError naming the file
 * (docs/exit-codes.md). Files inside the backup are looked at with `lstat`: a symlink there is
 * refused, never followed (docs/design.md I8).
 */
import {constants, copyFile, link, lstat, open, readFile, unlink} from 'node:fs/promises'
import {dirname} from 'node:path'
import {fsyncDirectory} from '../shared/atomic-write.js'
import {DamagedError, errnoCode, localIoError} from '../shared/errors.js'

/** The file's text (UTF-8), or undefined if it does not exist. @throws DamagedError for a symlink. */
export async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    const info = await lstat(path)
    if (info.isSymbolicLink()) throw new DamagedError(`'${path}' is a symlink; mailkeep does not follow links inside the backup directory`)
    return await readFile(path, 'utf8')
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

/** `20261122T101112Z`: the UTC time in the names of files set aside. */
export function setAsideTimestamp(at: Date): string {
  return at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')
}

/** `path`, or `path-1`, `path-2`, … if taken: nothing set aside is ever overwritten. */
export async function freeName(path: string): Promise<string> {
  for (let n = 0; ; n++) {
    const candidate = n === 0 ? path : `${path}-${n}`
    if (!(await exists(candidate))) return candidate
  }
}

/**
 * Keeps the current content of `path` under `<path><suffix>-<timestamp>` (a free name) while
 * `path` itself stays, durably, before the caller replaces `path`: a hard link (no copy, atomic),
 * or a copy where the file system has no hard links. A crash at any point leaves `path` as it
 * was. Returns the name used.
 */
export async function keepCopyAside(path: string, suffix: string, at: Date = new Date()): Promise<string> {
  const target = await freeName(`${path}${suffix}-${setAsideTimestamp(at)}`)
  try {
    await link(path, target)
  } catch (error) {
    const code = errnoCode(error)
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV' && code !== 'EMLINK') throw localIoError(error, 'set aside', path)
    try {
      await copyFile(path, target, constants.COPYFILE_EXCL)
      const handle = await open(target, 'r+')
      try {
        await handle.sync()
      } finally {
        await handle.close()
      }
    } catch (copyError) {
      throw localIoError(copyError, 'set aside', path)
    }
  }
  await fsyncDirectory(dirname(target))
  return target
}
