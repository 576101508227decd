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
import {constants, lstat, mkdir, open, stat, type FileHandle} from 'node:fs/promises'
import {isAbsolute, join, relative, resolve, sep} from 'node:path'
import {DamagedError, errnoCode, localIoError, LocalIoError} from '../shared/errors.js'

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
 * O_NONBLOCK is added so that a FIFO planted at the path cannot hang the open; it has no effect
 * on regular files. Anything but a regular file is then refused, so callers may rely on
 * `handle.stat()` describing a plain file. Use that `handle.stat()`, not `stat(path)`, which
 * would follow a link.
 *
 * @throws DamagedError if the path is a symlink or not a regular file; LocalIoError for the
 *   I/O failures localIoError knows; other errors (ENOENT, EEXIST) unchanged, for callers to test.
 */
export async function openNoFollow(path: string, flags: number, mode: number = FILE_MODE): Promise<FileHandle> {
  let handle: FileHandle
  try {
    handle = await open(path, flags | constants.O_NOFOLLOW | constants.O_NONBLOCK, mode)
  } catch (error) {
    // Linux and macOS answer O_NOFOLLOW on a symlink with ELOOP, FreeBSD with EMLINK.
    const code = errnoCode(error)
    if (code === 'ELOOP' || code === 'EMLINK') throw symlinkRefused(path, error)
    throw localIoError(error, 'open', path)
  }
  try {
    const info = await handle.stat()
    if (!info.isFile()) throw new DamagedError(`'${path}' is not a regular file; mailkeep expected one of its folder files there`)
  } catch (error) {
    await handle.close().catch(() => undefined) // the error above is the one worth reporting
    throw localIoError(error, 'inspect', path)
  }
  return handle
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
      if (errnoCode(error) !== 'EEXIST') throw localIoError(error, 'create the directory', directory)
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
    if (errnoCode(error) === 'ENOENT') return 'missing'
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

function inTheWay(path: string, kind: 'symlink' | 'other' | 'missing'): DamagedError {
  if (kind === 'symlink') return symlinkRefused(path)
  return new DamagedError(`'${path}' is not a directory; mailkeep needs a directory there for the folders inside it`, {
    hint: 'move the file out of the way (another folder may have a file of that name)',
  })
}

function symlinkRefused(path: string, cause?: unknown): DamagedError {
  return new DamagedError(`'${path}' is a symlink; mailkeep does not follow links inside the backup directory`, {
    hint: 'replace the link with the directory or file it points to, or move the whole backup there',
    ...(cause === undefined ? {} : {cause}),
  })
}
