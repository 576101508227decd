/**
 * `stats EMAIL` (compat §2.2): for each folder selected for backup (compat §6.2) that exists on
 * the server, how many UIDs are only on the server (`remote`: still to download), in both places
 * (`both`), and only in the backup (`local`: gone from the server).
 *
 * The backup is read with the shared lock (a running backup is not read half-way; nothing is
 * written, recovery works in memory). Each folder costs one EXAMINE and one `UID SEARCH ALL`
 * (imap-backup lists the server's UIDs twice).
 *
 * A folder whose stored UIDVALIDITY differs from the server's holds UIDs that name other
 * messages: none counts as `both` (the next backup moves it aside and downloads everything).
 *
 * The server folders that exist but are not selected come with the rows (access/unselected-folders.ts),
 * new since the last backup first; nothing is written (the last backup's record is only read).
 */
import {lstat} from 'node:fs/promises'
import {requireLocalPath, selectFolders, type Account, type Config} from '../../config/index.js'
import type {ImapSession} from '../../imap/types.js'
import {FolderStore} from '../../store/folder-store.js'
import type {AccountStore} from '../../store/account-store.js'
import {errnoCode, localIoError, MissingFolderError} from '../../shared/errors.js'
import {throwIfAborted, type RunContext} from '../../shared/context.js'
import type {Logger} from '../../shared/logger.js'
import {findAccount, openAccountStore} from '../access/account-access.js'
import type {UnselectedFolder} from '../access/types.js'
import {withAccountSession, type RemoteQuery} from '../access/remote-session.js'
import {knownServerFolders, logUnselected, unselectedFolders} from '../access/unselected-folders.js'

/** One row of `stats`; the key order is imap-backup's and part of the `--json` output. */
export interface FolderStats {
  folder: string
  /** On the server, not in the backup. */
  remote: number
  /** In both. */
  both: number
  /** In the backup, no longer on the server. */
  local: number
}

export interface AccountStats {
  /** imap-backup's rows, the `--json` output of `stats`. */
  rows: FolderStats[]
  /** Server folders not selected for backup, new since the last backup first. */
  unselected: UnselectedFolder[]
}

export async function accountStats(query: RemoteQuery, ctx: RunContext): Promise<AccountStats> {
  const account = findAccount(query.config, query.email)
  const logger = ctx.logger.child({account: account.username})
  const store = await openBackupIfAny(query.config, account, ctx)
  try {
    return await withAccountSession(query, account, ctx, async (session) => {
      const listed = (await session.listFolders()).filter((f) => !f.noselect)
      const names = selectFolders(
        listed.map((f) => f.name),
        account,
      )
      const known = store === undefined ? undefined : await knownServerFolders(store.root, logger)
      const unselected = unselectedFolders(
        listed.map((f) => f.name),
        names,
        known,
      )
      logUnselected(unselected, logger, 'info')
      const rows: FolderStats[] = []
      for (const name of names) {
        throwIfAborted(ctx.signal)
        const row = await folderStats(session, store, account, name, logger)
        if (row !== undefined) rows.push(row)
      }
      return {rows, unselected}
    })
  } finally {
    await store?.close()
  }
}

/** The account's backup opened read-only, or undefined when there is none yet (nothing stored). */
async function openBackupIfAny(config: Config, account: Account, ctx: RunContext): Promise<AccountStore | undefined> {
  const root = requireLocalPath(config, account)
  try {
    await lstat(root)
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined
    throw localIoError(error, 'read', root)
  }
  return openAccountStore(config, account, 'read', ctx)
}

async function folderStats(session: ImapSession, store: AccountStore | undefined, account: Account, name: string, logger: Logger): Promise<FolderStats | undefined> {
  let opened
  try {
    opened = await session.examine(name)
  } catch (error) {
    // Listed a moment ago and gone now (or not selectable after all): as imap-backup, a folder
    // that does not exist on the server has no row.
    if (!(error instanceof MissingFolderError)) throw error
    logger.debug(`Folder '${name}' does not exist on server`, {folder: name})
    return undefined
  }
  const server = opened.exists === 0 ? [] : await session.searchUids()
  const remoteUids = new Set(server)
  let local: number[] = []
  let sameValidity = true
  if (store !== undefined) {
    // Opened here and closed at once, so that one folder's metadata is in memory at a time.
    const folder = await FolderStore.open(store.root, name, {mode: 'read', logger, account: account.username})
    try {
      if (folder.exists) {
        local = folder.messages.distinctUids()
        sameValidity = folder.uidValidity === opened.uidValidity
      }
    } finally {
      await folder.close()
    }
  }
  const both = sameValidity ? local.filter((uid) => remoteUids.has(uid)).length : 0
  return {folder: name, remote: remoteUids.size - both, both, local: local.length - both}
}
