/**
 * I8: no file is created or written outside the account root (docs/design.md, "Folder names").
 *
 * Folder paths from encodeFolderPath cannot climb out by name; this module makes sure they do
 * not climb out through the file system either. Every directory between the root and a folder
 * file is checked with `lstat`, and a symlink or non-directory there is refused rather than
 * followed; the file itself is opened with O_NOFOLLOW. The root may be a symlink: that is the
 * user's choice of where the backup lives.
 *
 * The checks are not race-free against someone swapping a directory for a symlink between the
 * `lstat` and the `open` (Node has no `openat`). They do not have to be: whoever can write
 * inside the account root can already change the backup; what they prevent is mailkeep
 * following a link left there (a restored backup, a sync tool, a user's experiment) and writing
 * somewhere the user never pointed it at.
 */
import type {Stats} from 'node:fs'
import {constants, lstat, mkdir, open, stat, type FileHandle} from 'node:fs/promises'
import {basename, isAbsolute, join, relative, resolve, sep} from 'node:path'
import {DamagedError, errnoCode, localIoError, LocalIoError, UnusablePathError} from '../shared/errors.js'

/** Mode of every directory mailkeep creates under the account root. */
export const DIRECTORY_MODE = 0o700
/** Mode of every file mailkeep creates under the account root. */
export const FILE_MODE = 0o600

/**
 * The absolute path of `relativePath` under `root`.
 *
 * @throws DamagedError if the path is empty, absolute, or climbs out of the root (`..`).
 */
export function resolveInside(root: string, relativePath: string): string {
  const base = resolve(root)
  const target = resolve(base, relativePath)
  const inside = relative(base, target)
  if (relativePath === '' || inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
    throw new DamagedError(`'${relativePath}' is not a path inside the backup directory '${base}'; mailkeep does not write outside it`)
  }
  return target
}

/**
 * Creates the missing directories between `root` and the file `relativeFilePath` (mode 0700)
 * and returns the file's absolute path. The root itself must exist.
 *
 * Existing directories keep their mode: mailkeep cannot tell the ones it created from ones
 * the user (or imap-backup, or a restore from another machine) made, and changing the
 * permissions of a user's directory behind their back is worse than leaving a looser mode
 * that they chose. New directories get 0700 (subject only to a umask stricter than 077).
 *
 * @throws DamagedError if a symlink or a non-directory is in the way.
 */
export async function ensureFolderDirectory(root: string, relativeFilePath: string): Promise<string> {
  return walkDirectories(root, relativeFilePath, true)
}

/**
 * The check of ensureFolderDirectory without creating anything, for readers: returns the
 * file's absolute path. A missing directory is not an error here (the file then does not
 * exist, and opening it reports ENOENT as usual).
 *
 * @throws DamagedError if a symlink or a non-directory is in the way.
 */
export async function checkNoSymlinks(root: string, relativeFilePath: string): Promise<string> {
  return walkDirectories(root, relativeFilePath, false)
}

/**
 * Opens a folder file without following a symlink at its last component (the directories
 * above it are the job of ensureFolderDirectory / checkNoSymlinks). `flags` are numeric
 * `fs.constants` (O_RDONLY, O_WRONLY | O_CREAT | O_APPEND, …).
 *
 * O_NONBLOCK is added so that a FIFO planted at the path cannot hang the open (a FIFO opened for
 * reading without it waits for a writer, forever, and ignores SIGINT meanwhile); it has no effect
 * on regular files. Anything but a regular file is then refused by fstat of the open descriptor,
 * not by an lstat before the open, so nothing can be swapped in between: callers may rely on
 * `handle.stat()` describing a plain file. Use that `handle.stat()`, not `stat(path)`, which
 * would follow a link.
 *
 * @throws DamagedError if the path is a symlink or a special file (FIFO, socket, device), naming
 *   what it is; UnusablePathError if it is a directory, its name is too long, or a component of
 *   it is not a directory (docs/design.md, "Folder names"); LocalIoError for the I/O failures
 *   localIoError knows; other errors (ENOENT, EEXIST) unchanged, for callers to test.
 */
export async function openNoFollow(path: string, flags: number, mode: number = FILE_MODE): Promise<FileHandle> {
  let handle: FileHandle
  try {
    handle = await open(path, flags | constants.O_NOFOLLOW | constants.O_NONBLOCK, mode)
  } catch (error) {
    // Linux and macOS answer O_NOFOLLOW on a symlink with ELOOP, FreeBSD with EMLINK.
    const code = errnoCode(error)
    if (code === 'ELOOP' || code === 'EMLINK') throw symlinkRefused(path, error)
    // A FIFO opened for writing with O_NONBLOCK and no reader, or a UNIX socket (open(2)).
    if (code === 'ENXIO' || code === 'ENODEV') throw notRegular(path, 'a named pipe, socket or device', error)
    if (code === 'EISDIR') throw directoryInTheWay(path, error)
    if (code === 'ENAMETOOLONG' || code === 'ENOTDIR') throw unusablePath(error, 'open', path)
    throw localIoError(error, 'open', path)
  }
  try {
    const info = await handle.stat()
    if (info.isDirectory()) throw directoryInTheWay(path)
    if (!info.isFile()) throw notRegular(path, describeKind(info))
  } catch (error) {
    await handle.close().catch(() => undefined) // the error above is the one worth reporting
    throw localIoError(error, 'inspect', path)
  }
  return handle
}

/** What a non-regular file is, in words: for messages that name it. */
export function describeKind(info: Stats): string {
  if (info.isFIFO()) return 'a named pipe (FIFO)'
  if (info.isSocket()) return 'a socket'
  if (info.isCharacterDevice()) return 'a character device'
  if (info.isBlockDevice()) return 'a block device'
  if (info.isDirectory()) return 'a directory'
  if (info.isSymbolicLink()) return 'a symlink'
  return 'not a regular file'
}

/** A special file where mailkeep expects one of its files: never opened for reading or writing. */
export function notRegular(path: string, what: string, cause?: unknown): DamagedError {
  return new DamagedError(`'${path}' is ${what}, not a regular file; mailkeep does not read or write it`, {
    hint: 'nothing was changed; move it out of the backup directory (mailkeep never removes a file it did not write)',
    ...(cause === undefined ? {} : {cause}),
  })
}

async function walkDirectories(root: string, relativeFilePath: string, create: boolean): Promise<string> {
  const file = resolveInside(root, relativeFilePath)
  const base = resolve(root)
  if (create) await requireRoot(base)
  // Walk the normalised path, so that `a/../b` (which resolveInside accepted) checks `b` only.
  const directories = relative(base, file).split(sep).slice(0, -1)
  let directory = base
  for (const name of directories) {
    directory = join(directory, name)
    const kind = await kindOf(directory)
    if (kind === 'directory') continue
    if (kind !== 'missing') throw inTheWay(directory, kind)
    if (!create) return file
    try {
      await mkdir(directory, {mode: DIRECTORY_MODE})
    } catch (error) {
      const code = errnoCode(error)
      if (code === 'ENAMETOOLONG' || code === 'ENOTDIR') throw unusablePath(error, 'create the directory', directory)
      if (code !== 'EEXIST') throw localIoError(error, 'create the directory', directory)
      // Someone created it between our lstat and mkdir: check what it is now.
      const now = await kindOf(directory)
      if (now !== 'directory') throw inTheWay(directory, now)
    }
  }
  return file
}

type Kind = 'missing' | 'directory' | 'symlink' | 'other'

async function kindOf(path: string): Promise<Kind> {
  try {
    const info = await lstat(path)
    if (info.isSymbolicLink()) return 'symlink'
    return info.isDirectory() ? 'directory' : 'other'
  } catch (error) {
    const code = errnoCode(error)
    if (code === 'ENOENT') return 'missing'
    if (code === 'ENAMETOOLONG' || code === 'ENOTDIR') throw unusablePath(error, 'inspect', path)
    throw localIoError(error, 'inspect', path)
  }
}

/** The root is followed (it may be a symlink) but must lead to an existing directory. */
async function requireRoot(root: string): Promise<void> {
  try {
    const info = await stat(root)
    if (!info.isDirectory()) throw new LocalIoError(`the backup directory '${root}' is not a directory`)
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') throw new LocalIoError(`the backup directory '${root}' does not exist`, {cause: error})
    throw localIoError(error, 'inspect', root)
  }
}

function inTheWay(path: string, kind: 'symlink' | 'other' | 'missing'): DamagedError | UnusablePathError {
  if (kind === 'symlink') return symlinkRefused(path)
  const owner = folderOwning(path)
  return new UnusablePathError(
    `'${path}' is a file, not a directory, and the folders whose names start with '${basename(path)}/' need a directory there${owner === undefined ? '' : ` (it is a file of the folder stored as '${owner}')`}`,
    {hint: `these folders cannot be stored beside it: leave them out of the backup ("folders" or "folder_blacklist" in the config) or rename them on the server; or move the file away if it is not mailkeep's`},
  )
}

/**
 * A directory where one of the folder's files must be: imap-backup's layout (which mailkeep
 * keeps) makes `A.imap/` the directory of folder `A.imap/x` and `A.imap` the metadata of folder
 * `A`, so the two folders cannot both be stored.
 */
export function directoryInTheWay(path: string, cause?: unknown): UnusablePathError {
  return new UnusablePathError(`'${path}' is a directory (of the folders whose names start with '${basename(path)}/'), where this folder's file must be`, {
    hint: 'this folder cannot be stored beside those folders: leave one of them out of the backup ("folders" or "folder_blacklist" in the config) or rename it on the server',
    ...(cause === undefined ? {} : {cause}),
  })
}

/** A name too long for the file system, or a component of the path that is not a directory. */
function unusablePath(error: unknown, action: string, path: string): UnusablePathError {
  const io = localIoError(error, action, path)
  const message = io instanceof Error ? io.message : `cannot ${action} '${path}'`
  return new UnusablePathError(message, {
    cause: error,
    hint:
      errnoCode(error) === 'ENAMETOOLONG'
        ? "the folder's name is too long for this file system: leave it out of the backup (\"folders\" or \"folder_blacklist\" in the config) or rename it on the server"
        : 'a file is where a directory must be: see the message; leave the folder out of the backup or rename it on the server',
  })
}

/** The base of a folder file's path (`…/A` for `…/A.mbox`), shown relative as the file's name, or undefined. */
function folderOwning(path: string): string | undefined {
  const name = basename(path)
  for (const suffix of ['.mbox', '.imap', '.imap.journal', '.mirror', '.rename', '.restore']) {
    if (name.endsWith(suffix) && name.length > suffix.length) return name.slice(0, -suffix.length)
  }
  return undefined
}

function symlinkRefused(path: string, cause?: unknown): DamagedError {
  return new DamagedError(`'${path}' is a symlink; mailkeep does not follow links inside the backup directory`, {
    hint: 'replace the link with the directory or file it points to, or move the whole backup there',
    ...(cause === undefined ? {} : {cause}),
  })
}
