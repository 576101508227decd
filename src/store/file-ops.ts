/**
 * Small file operations of the store for files that may be absent: a missing file is an answer
 * (undefined, false, nothing to do), any other failure a LocalIoError naming the file
 * (docs/exit-codes.md). Files inside the backup are looked at with `lstat`: a symlink there is
 * refused, never followed (docs/design.md I8).
 */
import {constants, copyFile, link, lstat, open, unlink} from 'node:fs/promises'
import {dirname} from 'node:path'
import {fsyncDirectory} from '../shared/atomic-write.js'
import {DamagedError, errnoCode, localIoError} from '../shared/errors.js'
import {describeKind, directoryInTheWay, notRegular, openNoFollow} from './safe-path.js'

/**
 * The file's text (UTF-8), or undefined if it does not exist. Opened with openNoFollow, so the
 * check that it is a regular file is made on the open descriptor: a FIFO, socket or device put
 * there (also between a check and the open) is refused with an error naming it, never read
 * (reading a FIFO would wait for a writer forever).
 *
 * @throws DamagedError for a symlink or a special file; UnusablePathError for a directory.
 */
export async function readIfPresent(path: string): Promise<string | undefined> {
  return (await readBytesIfPresent(path))?.toString('utf8')
}

/** readIfPresent's bytes, not decoded (a `.imap` read byte by byte, imap-scan.ts). */
export async function readBytesIfPresent(path: string): Promise<Buffer | undefined> {
  try {
    return await readRegularBytes(path)
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined
    throw error
  }
}

/** As readIfPresent, for a file that must exist (ENOENT is thrown as it is). */
export async function readRegularFile(path: string): Promise<string> {
  return (await readRegularBytes(path)).toString('utf8')
}

async function readRegularBytes(path: string): Promise<Buffer> {
  const handle = await openNoFollow(path, constants.O_RDONLY)
  try {
    return await handle.readFile()
  } catch (error) {
    throw localIoError(error, 'read', path)
  } finally {
    await handle.close()
  }
}

/**
 * True if a regular file is at `path`, false if nothing is; anything else is an error naming
 * what it is. For files mailkeep would rename or remove: a FIFO left where an interrupted
 * rewrite's file would be is not taken for that file (and renamed over `.imap`).
 *
 * @throws DamagedError for a symlink or a special file.
 */
export async function regularFileIfPresent(path: string): Promise<boolean> {
  try {
    const info = await lstat(path)
    if (info.isSymbolicLink()) throw new DamagedError(`'${path}' is a symlink; mailkeep does not follow links inside the backup directory`)
    if (info.isDirectory()) throw directoryInTheWay(path)
    if (!info.isFile()) throw notRegular(path, describeKind(info))
    return true
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false
    throw localIoError(error, 'read', path)
  }
}

/**
 * The file's size, or undefined if it does not exist.
 *
 * @throws DamagedError for a symlink or a special file; UnusablePathError for a directory.
 */
export async function sizeIfPresent(path: string): Promise<number | undefined> {
  try {
    const info = await lstat(path)
    if (info.isSymbolicLink()) throw new DamagedError(`'${path}' is a symlink; mailkeep does not follow links inside the backup directory`)
    if (info.isDirectory()) throw directoryInTheWay(path)
    if (!info.isFile()) throw notRegular(path, describeKind(info))
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
