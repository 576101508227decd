/**
 * Reading a folder's last committed state while a writer may be at work on it (docs/design.md,
 * "Readers"). The read-only `local` commands take no lock, so a backup is never refused because
 * someone lists a folder, and a listing never waits for a backup.
 *
 * A reader opens the `.imap` file and keeps it open, reads the journal, then opens the mbox; then
 * it checks that the `.imap` path still names the file it read, and that no multi-file operation
 * (a UIDVALIDITY rename, a mirror-mode rewrite) was under way. If so, what it read is one
 * committed state:
 *
 *   - `.imap` is only ever replaced whole (I2), and a commit, a rollback, a rename and a rewrite
 *     each replace it: an unchanged `.imap` means none of them finished while it was read, and
 *     the held file cannot be reused by a later one (it stays open);
 *   - savepoints only append to the journal and to the mbox, journal after mbox (I1): the
 *     journal is read before the mbox's size is taken, so every savepoint it shows has its bytes
 *     in the mbox;
 *   - the mbox is append-only past the committed end; bytes before it are never rewritten in
 *     place (I6, I7), and a rewrite replaces the whole file by rename, which leaves the file
 *     the reader holds as it was. So the held mbox answers every later read of that state.
 *
 * Otherwise it reads again, a few times with a short pause; a state that stays in flux (an
 * operation left unfinished by a crash, which only a writer may finish) is reported as the
 * read found it.
 */
import {constants, lstat, type FileHandle} from 'node:fs/promises'
import {BusyError, errnoCode, localIoError} from '../shared/errors.js'
import {exists} from './file-ops.js'
import type {FolderPaths} from './folder-paths.js'
import {openNoFollow} from './safe-path.js'

/** Reads of one folder before it counts as "kept changing". */
export const READ_ATTEMPTS = 8

export interface ReadSnapshot {
  /** The `.imap` file as opened, or undefined when there was none. */
  readonly imap: FileHandle | undefined
  readonly imapIdentity: string | undefined
  /** A rename intent or a complete rewrite waiting to be renamed into place was there. */
  readonly inFlux: boolean
  close(): Promise<void>
}

/** Opens the folder's `.imap` (kept open) and notes the operations under way. */
export async function openSnapshot(paths: FolderPaths): Promise<ReadSnapshot> {
  const inFlux = await operationUnderWay(paths)
  let imap: FileHandle | undefined
  try {
    imap = await openNoFollow(paths.imap, constants.O_RDONLY, 0o600)
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error
  }
  const imapIdentity = imap === undefined ? undefined : identity(await imap.stat())
  return {
    imap,
    imapIdentity,
    inFlux,
    close: async () => {
      await imap?.close().catch(() => undefined)
    },
  }
}

/**
 * Whether what was read through `snapshot` is one committed state: the `.imap` path still names
 * the file read (or is still absent), and no multi-file operation was under way before or after.
 */
export async function stillSame(paths: FolderPaths, snapshot: ReadSnapshot): Promise<boolean> {
  if (snapshot.inFlux || (await operationUnderWay(paths))) return false
  let now: string | undefined
  try {
    now = identity(await lstat(paths.imap))
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw localIoError(error, 'read', paths.imap)
  }
  return now === snapshot.imapIdentity
}

/**
 * A rename intent, or a rewrite that is complete but not renamed into place yet (`.imap.compact`).
 * A lone `.mbox.compact` is a rewrite still being written: it changes nothing committed.
 */
async function operationUnderWay(paths: FolderPaths): Promise<boolean> {
  return (await exists(paths.renameIntent)) || (await exists(paths.imapCompact))
}

function identity(info: {dev: number; ino: number}): string {
  return `${info.dev}:${info.ino}`
}

export function pause(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.min(400, 25 * 2 ** (attempt - 1))))
}

/**
 * Runs `read` on snapshots of the folder until what it read is one committed state (stillSame),
 * at most READ_ATTEMPTS times, calling `between` before each new attempt. A failure of `read`
 * counts only when the state it read was a committed one: a read that met a writer half-way is
 * tried again. `what` names the folder in the error when it never holds still.
 */
export async function readCommittedState(paths: FolderPaths, what: string, read: (snapshot: ReadSnapshot) => Promise<void>, between: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const snapshot = await openSnapshot(paths)
    let failure: unknown
    try {
      await read(snapshot)
    } catch (error) {
      failure = error
    }
    const stable = await stillSame(paths, snapshot).finally(() => snapshot.close())
    if (stable || attempt >= READ_ATTEMPTS) {
      if (failure !== undefined) throw failure
      if (!stable) throw new BusyError(`${what} kept changing while it was read (${paths.base}): a backup is writing it`, {hint: 'try again in a moment'})
      return
    }
    await between()
    await pause(attempt)
  }
}
