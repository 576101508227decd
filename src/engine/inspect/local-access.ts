/**
 * Opening an account's backup and one of its folders for the `local` commands: read-only,
 * without a lock (the last committed state, design.md "Readers"), server names accepted,
 * `Folder '<f>' not found` as imap-backup says it.
 */
import {lstat} from 'node:fs/promises'
import {requireLocalPath, type Account, type Config} from '../../config/index.js'
import type {RunContext} from '../../shared/context.js'
import {errnoCode, UsageError} from '../../shared/errors.js'
import type {AccountStore} from '../../store/account-store.js'
import {encodeFolderPath} from '../../store/folder-path.js'
import {FolderStore} from '../../store/folder-store.js'
import {liveWriterPid} from '../../store/writer-pid.js'
import {openAccountStore} from '../access/account-access.js'

/**
 * The account's backup opened read-only, or undefined when it has no backup directory yet. No
 * lock is taken: the `local` commands read the last committed state, also while a backup runs
 * (docs/design.md, "Readers"), and never create the lock file.
 */
export async function openStoreIfPresent(config: Config, account: Account, ctx: RunContext): Promise<AccountStore | undefined> {
  try {
    await lstat(requireLocalPath(config, account))
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined
    throw error
  }
  const store = await openAccountStore(config, account, 'read', ctx, {withoutLock: true})
  const writer = await liveWriterPid(store.root)
  if (writer !== undefined && writer !== process.pid) {
    ctx.logger.info(`a backup (pid ${writer}) is writing this account: showing what it has committed so far`, {account: account.username})
  }
  return store
}

/**
 * A backed-up folder by its server name, opened read-only (recovery runs in memory only; a
 * damaged folder throws DamagedError naming the repair command, exit 6).
 */
export async function openLocalFolder(store: AccountStore | undefined, account: Account, name: string, ctx: RunContext): Promise<FolderStore> {
  if (store === undefined) throw folderNotFound(name, account)
  const folder = await FolderStore.open(store.root, name, {mode: 'read', logger: ctx.logger.child({account: account.username}), account: account.username})
  if (!folder.exists) {
    await folder.close()
    throw folderNotFound(name, account)
  }
  return folder
}

/** compat's `Folder '<f>' not found`, with the command that lists the folders. */
export function folderNotFound(name: string, account: Account): UsageError {
  return new UsageError(`Folder '${name}' not found`, {hint: `\`mailkeep local folders ${account.username}\` lists the backed-up folders (by their server names)`})
}

/**
 * The folders a command works on: all of them, or the one named by its server name
 * (`Folder '<f>' not found` when there is no such folder).
 */
export function selectLocalFolders<T extends {relativePath: string}>(folders: T[], name: string | undefined, account: Account): T[] {
  if (name === undefined) return folders
  const wanted = encodeFolderPath(name)
  const selected = folders.filter((f) => f.relativePath === wanted)
  if (selected.length === 0) throw folderNotFound(name, account)
  return selected
}
