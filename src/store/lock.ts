/**
 * I5: at most one writer per account. The writer holds an exclusive flock(2) on
 * `<account root>/.mailkeep.lock`; readers (local show, restore, copy) hold it shared. The
 * kernel drops the lock when the holder's file is closed, including when the process dies
 * (kill -9, power loss needs no cleanup), so there is no stale-lock detection to get wrong.
 *
 * A writer creates the lock file (0600) when it is missing, and it is never deleted: a process
 * that opened the file just before another deleted it would lock an orphaned inode while a third
 * process locks a new file of the same name, and both would believe they were alone. A reader
 * never creates it (a read-only command creates nothing): when it is missing, no mailkeep writer
 * has ever locked this account, and the reader goes on without a lock, as it would if the
 * account's directory were read-only (its reads are of atomically replaced or append-only files).
 *
 * This module is the one adapter for `fs-ext` (docs/design.md, "Layers"). Its quirks:
 * - It is CommonJS with no type declarations, so it is loaded with `createRequire` and given
 *   the small `FsExt` type below, covering only what is used here.
 * - `flock(fd, flags, cb)` runs flock(2) on a libuv thread-pool thread. A blocking request
 *   (without LOCK_NB) would hold one of the pool's four threads until the lock is free,
 *   starving file I/O and DNS, so only LOCK_NB requests are ever made.
 * - Its errors carry `code` (`EAGAIN` for a held lock on Linux, where EWOULDBLOCK is the same
 *   number; `EWOULDBLOCK` is accepted too) but no `path`, and `syscall` is the meaningless
 *   "EIO_After"; they are re-raised with the lock path.
 * - It takes a raw fd, so the fd of a Node FileHandle is passed; the FileHandle owns it and
 *   closing it (also by garbage collection of a forgotten lock, with a warning) releases the
 *   lock.
 * - flock locks belong to the open file description, not the process: two opens of the file in
 *   one process conflict like two processes do, which is what keeps two runs in one process
 *   (tests, a future daemon) apart. Node opens with O_CLOEXEC, so child processes do not
 *   inherit the lock.
 * - flock does not lock across machines on every network file system (NFS emulates it with
 *   fcntl locks on Linux ≥ 2.6.12, others not at all); ENOLCK is reported as such.
 */
import {constants, open, stat, type FileHandle} from 'node:fs/promises'
import {createRequire} from 'node:module'
import {join} from 'node:path'
import {DamagedError, errnoCode, LocalIoError, localIoError, LockedError} from '../shared/errors.js'
import {describeKind, notRegular} from './safe-path.js'
import {writeAll} from '../shared/write-all.js'

interface FsExt {
  flock(fd: number, flags: number, callback: (error: NodeJS.ErrnoException | null) => void): void
  constants: {LOCK_SH: number; LOCK_EX: number; LOCK_NB: number; LOCK_UN: number}
}

const fsExt = createRequire(import.meta.url)('fs-ext') as FsExt
const {LOCK_SH, LOCK_EX, LOCK_NB, LOCK_UN} = fsExt.constants

export const LOCK_FILE_NAME = '.mailkeep.lock'

export type LockMode = 'exclusive' | 'shared'

export interface AcquireOptions {
  /** Waiting for the lock is not supported: a held lock is refused at once with LockedError. */
  wait?: false
  /** Another lock file in the root (default LOCK_FILE_NAME), e.g. the upload lock of upload-map.ts. */
  fileName?: string
}

export interface AccountLock {
  readonly path: string
  readonly mode: LockMode
  /** Unlocks and closes the lock file. Idempotent; concurrent calls share one release. */
  release(): Promise<void>
}

/**
 * Takes the account's lock without waiting.
 *
 * @throws LockedError when another process (or another AccountLock of this process) holds a
 *   conflicting lock: it names the writer's pid, or says that readers hold it.
 * @throws DamagedError if the lock file is a symlink; LocalIoError if it cannot be opened.
 */
export async function acquireAccountLock(root: string, mode: LockMode, options: AcquireOptions = {}): Promise<AccountLock> {
  const path = join(root, options.fileName ?? LOCK_FILE_NAME)
  const handle = await openLockFile(root, path, mode)
  if (handle === undefined) return new AbsentLock(path)
  try {
    const taken = await tryFlock(handle, mode === 'exclusive' ? LOCK_EX : LOCK_SH, path)
    if (!taken) throw await refusal(handle, mode, path)
    if (mode === 'exclusive') await writePid(handle, path)
  } catch (error) {
    await handle.close().catch(() => undefined) // closing also drops a lock we may have taken
    throw error
  }
  return new HeldLock(handle, path, mode)
}

class HeldLock implements AccountLock {
  private released: Promise<void> | undefined

  constructor(
    private readonly handle: FileHandle,
    readonly path: string,
    readonly mode: LockMode,
  ) {}

  release(): Promise<void> {
    this.released ??= this.unlockAndClose()
    return this.released
  }

  private async unlockAndClose(): Promise<void> {
    try {
      // Clear the pid while still exclusive, so that a later refusal does not name a process
      // that has finished. Best effort: the pid is only ever shown in a message, and failing
      // to clear it must not keep the lock held.
      if (this.mode === 'exclusive') await this.handle.truncate(0).catch(() => undefined)
      await flock(this.handle.fd, LOCK_UN)
    } catch {
      // Closing below releases the lock anyway; an unlock error changes nothing for the user.
    } finally {
      await this.handle.close()
    }
  }
}

/** A shared lock on an account whose lock file does not exist: nothing to hold (see the file comment). */
class AbsentLock implements AccountLock {
  readonly mode = 'shared'

  constructor(readonly path: string) {}

  release(): Promise<void> {
    return Promise.resolve()
  }
}

/** The lock file opened for `mode`; undefined for a reader when it does not exist (it is not created). */
async function openLockFile(root: string, path: string, mode: LockMode): Promise<FileHandle | undefined> {
  // A reader only needs to read the pid; opening it read-only lets `local` commands work on a
  // backup the user can read but not write. Only a writer creates the file.
  const access = mode === 'exclusive' ? constants.O_RDWR | constants.O_CREAT : constants.O_RDONLY
  let handle: FileHandle
  try {
    // O_NONBLOCK: a FIFO put where the lock file belongs must not hang the open (read-only, it
    // would wait for a writer forever); the fstat below then refuses it. No effect on a file.
    handle = await open(path, access | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o600)
  } catch (error) {
    const code = errnoCode(error)
    if (code === 'ENOENT' && mode === 'shared' && (await isDirectory(root))) return undefined
    if (code === 'ELOOP' || code === 'EMLINK') {
      throw new DamagedError(`'${path}' is a symlink; mailkeep does not follow links inside the backup directory`, {cause: error})
    }
    if (code === 'ENOENT') throw new LocalIoError(`cannot create the lock file '${path}': the backup directory '${root}' does not exist`, {cause: error})
    if (code === 'ENXIO' || code === 'ENODEV') throw notRegular(path, 'a named pipe, socket or device', error)
    throw localIoError(error, 'open the lock file', path)
  }
  try {
    const info = await handle.stat()
    if (!info.isFile()) throw notRegular(path, describeKind(info))
  } catch (error) {
    await handle.close().catch(() => undefined)
    throw localIoError(error, 'inspect the lock file', path)
  }
  return handle
}

/** true if taken, false if a conflicting lock is held; other failures throw. */
async function tryFlock(handle: FileHandle, operation: number, path: string): Promise<boolean> {
  try {
    await flock(handle.fd, operation | LOCK_NB)
    return true
  } catch (error) {
    const code = errnoCode(error)
    if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return false
    if (code === 'ENOLCK') throw new LocalIoError(`cannot lock '${path}': the file system does not support locks`, {cause: error})
    throw localIoError(error, 'lock', path)
  }
}

/**
 * Says who holds the lock. A refused shared request means a writer holds it (readers never
 * conflict with each other). A refused exclusive request is probed with a shared request: if
 * that succeeds, only readers hold it (their pids are not recorded, since they cannot all write
 * one file); if not, the writer does. The probe is dropped at once.
 */
async function refusal(handle: FileHandle, mode: LockMode, path: string): Promise<LockedError> {
  if (mode === 'exclusive' && (await tryFlock(handle, LOCK_SH, path))) {
    await flock(handle.fd, LOCK_UN).catch(() => undefined) // closing the handle drops it anyway
    return new LockedError(path, undefined, {
      hint: 'the backup is being read by another mailkeep process (such as local show, restore or copy); try again when it has finished',
    })
  }
  return new LockedError(path, await readPid(handle))
}

/** The writer's pid, or undefined while it has not written it yet (or wrote garbage). */
async function readPid(handle: FileHandle): Promise<number | undefined> {
  try {
    const buffer = Buffer.alloc(32)
    const {bytesRead} = await handle.read(buffer, 0, buffer.length, 0)
    const match = /^(\d{1,10})\n?$/.exec(buffer.toString('ascii', 0, bytesRead))
    return match === null ? undefined : Number(match[1])
  } catch {
    return undefined // the pid only decorates the message; the refusal itself is certain
  }
}

/** `<pid>\n`, so that a refused process can name us. Not fsynced: only live processes read it. */
async function writePid(handle: FileHandle, path: string): Promise<void> {
  try {
    await handle.truncate(0)
    await writeAll(handle, `${process.pid}\n`, 0)
  } catch (error) {
    throw localIoError(error, 'write', path)
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory()
  } catch {
    return false
  }
}

function flock(fd: number, operation: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fsExt.flock(fd, operation, (error) => (error === null || error === undefined ? resolve() : reject(error)))
  })
}
