/**
 * The backup of one account: its root directory (`local_path`), its lock, and its folders.
 *
 * Opening for 'write' takes the exclusive lock (I5) and creates the root with mode 0700;
 * opening for 'read' takes the shared lock, and writes nothing. The read-only `local` commands
 * open it `withoutLock`: they read each folder's last committed state (read-snapshot.ts), so a
 * backup under way neither stops them nor is stopped by them.
 */
import {chmod, lstat, mkdir, readdir, unlink} from 'node:fs/promises'
import {dirname, join, relative, sep} from 'node:path'
import {DamagedError, errnoCode, InternalError, localIoError, UsageError} from '../shared/errors.js'
import {fsyncDirectory} from '../shared/atomic-write.js'
import type {Logger} from '../shared/logger.js'
import {acquireAccountLock, LOCK_FILE_NAME, type AccountLock} from './lock.js'
import {decodeFolderPath} from './folder-path.js'
import {FolderStore, type OpenMode} from './folder-store.js'
import {removeStaleTempFiles} from './temp-files.js'

export interface LocalFolder {
  /** The server's folder name (decoded from the file name). */
  name: string
  /** Path of the folder's files relative to the root, without extension. */
  relativePath: string
}

export interface OpenAccountOptions {
  mode: OpenMode
  logger: Logger
  /** The account's email, used in messages and repair hints. */
  account?: string
  /**
   * 'read' only: take no lock at all, and read each folder's last committed state even while a
   * backup writes the account (read-snapshot.ts). For the read-only `local` commands, which must
   * neither wait for a backup nor make one fail (a shared lock refuses the writer).
   */
  withoutLock?: boolean
}

export class AccountStore {
  private readonly open = new Set<FolderStore>()

  private constructor(
    readonly root: string,
    readonly mode: OpenMode,
    private readonly logger: Logger,
    private readonly lock: AccountLock,
    readonly account: string | undefined,
  ) {}

  static async open(root: string, options: OpenAccountOptions): Promise<AccountStore> {
    if (options.mode === 'write') await ensureRoot(root, options.logger)
    else await requireRoot(root)
    const lock = options.mode === 'read' && options.withoutLock === true ? noLock(root) : await acquireAccountLock(root, options.mode === 'write' ? 'exclusive' : 'shared')
    if (options.mode === 'write') {
      // Recovery of the whole account: temporary files of a killed run's atomic writes. We hold
      // the exclusive lock, so none of them is being written (temp-files.ts).
      await removeStaleTempFiles(root, options.logger).catch((error: unknown) => {
        options.logger.warn(`could not remove temporary files left by an interrupted run: ${(error as Error).message}`)
      })
    }
    return new AccountStore(root, options.mode, options.logger, lock, options.account)
  }

  /**
   * Opens (and recovers) a folder by its server name; it need not exist yet. Close it when done
   * with it: the account keeps track of open folders only so that close() can roll back a
   * transaction left open, and a closed folder's metadata is freed.
   */
  async folder(name: string): Promise<FolderStore> {
    const folder = await FolderStore.open(this.root, name, {mode: this.mode, logger: this.logger, account: this.account, onClose: (f) => this.open.delete(f)})
    this.open.add(folder)
    return folder
  }

  /**
   * Every backed-up folder: a recursive walk for `*.imap` files, as imap-backup enumerates them
   * (compat §4.1), with the names decoded back to server names. Symlinks are not followed (I8).
   */
  async listFolders(): Promise<LocalFolder[]> {
    const found: LocalFolder[] = []
    const walk = async (dir: string): Promise<void> => {
      let entries
      try {
        entries = await readdir(dir, {withFileTypes: true})
      } catch (error) {
        throw localIoError(error, 'list', dir)
      }
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      for (const entry of entries) {
        const path = join(dir, entry.name)
        if (entry.isDirectory()) await walk(path)
        else if (entry.isFile() && entry.name.endsWith('.imap')) {
          const relativePath = relative(this.root, path).slice(0, -'.imap'.length).split(sep).join('/')
          found.push({name: decodeFolderPath(relativePath), relativePath})
        }
      }
    }
    await walk(this.root)
    return found
  }

  /**
   * Deletes a folder's backup (mirror mode: the folder is gone from the server or no longer
   * selected; compat §6.6). Explicit by design (I6): only the engine's mirror mode calls it. The
   * folder is recovered first, so that an interrupted transaction cannot leave a journal behind;
   * `.imap` goes first, so that a crash in between leaves an mbox without metadata, which is
   * reported rather than taken for a folder; the exactness file last (alone, it is kept aside at
   * the next write of a folder of that name, never used). The `.mirror` file is kept, as
   * imap-backup does.
   */
  async removeFolder(name: string): Promise<void> {
    if (this.mode !== 'write') throw new InternalError('removeFolder needs the account opened for writing')
    const folder = await FolderStore.open(this.root, name, {mode: 'write', logger: this.logger, account: this.account})
    await folder.close()
    for (const path of [folder.paths.imap, folder.paths.mbox, folder.paths.exact]) {
      try {
        await unlink(path)
        this.logger.info(`Deleting '${path}'`, {folder: name})
      } catch (error) {
        if (errnoCode(error) !== 'ENOENT') throw localIoError(error, 'remove', path)
      }
    }
    await fsyncDirectory(dirname(folder.paths.imap))
  }

  async close(): Promise<void> {
    const folders = [...this.open]
    this.open.clear()
    try {
      for (const folder of folders) await folder.close()
    } finally {
      await this.lock.release()
    }
  }
}

/** A reader without a lock: nothing to release. */
function noLock(root: string): AccountLock {
  return {path: join(root, LOCK_FILE_NAME), mode: 'shared', release: async () => {}}
}

async function ensureRoot(root: string, logger: Logger): Promise<void> {
  try {
    await mkdir(root, {recursive: true, mode: 0o700})
    const info = await lstat(root)
    if (info.isSymbolicLink()) return // the user's choice (e.g. a NAS mount); its target is theirs
    if (!info.isDirectory()) throw new DamagedError(`backup path '${root}' is not a directory`)
    if ((info.mode & 0o077) !== 0) {
      try {
        await chmod(root, 0o700)
      } catch (error) {
        // Some NAS shares refuse chmod (imap-backup issue #50): warn, do not fail the backup.
        logger.warn(`could not set mode 0700 on backup path '${root}' (${errnoCode(error) ?? 'error'}); other users may be able to read it`)
      }
    }
  } catch (error) {
    if (error instanceof DamagedError) throw error
    throw localIoError(error, 'create backup directory', root)
  }
}

async function requireRoot(root: string): Promise<void> {
  try {
    const info = await lstat(root)
    if (!info.isDirectory() && !info.isSymbolicLink()) throw new DamagedError(`backup path '${root}' is not a directory`)
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') throw new UsageError(`there is no backup at '${root}' yet`, {hint: 'run `mailkeep backup` first'})
    throw localIoError(error, 'read', root)
  }
}
