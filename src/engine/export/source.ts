/**
 * The backup an export reads: the account's store opened read-only (shared lock, nothing
 * written; docs/design.md I5) and its folders. Shared by both export use-cases.
 */
import {lstat} from 'node:fs/promises'
import {requireLocalPath, type Account, type Config} from '../../config/index.js'
import type {RunContext} from '../../shared/context.js'
import {errnoCode, localIoError, MailkeepError} from '../../shared/errors.js'
import type {AccountStore, LocalFolder} from '../../store/account-store.js'
import {findAccount, openAccountStore} from '../access/account-access.js'

export interface ExportSource {
  account: Account
  store: AccountStore
  folders: LocalFolder[]
}

/**
 * Finds the account and opens its backup for reading. The caller closes `store`.
 *
 * @throws ConfigError `<email> is not a configured account`; MailkeepError `No serialized
 *   folders were found for account '<email>'` (imap-backup's text) when nothing is backed up.
 */
export async function openExportSource(config: Config, email: string, ctx: RunContext): Promise<ExportSource> {
  const account = findAccount(config, email)
  const root = requireLocalPath(config, account)
  const noFolders = new MailkeepError(`No serialized folders were found for account '${account.username}'`, {
    hint: `nothing is backed up in '${root}' yet; run \`mailkeep backup\` first`,
  })
  try {
    await lstat(root)
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') throw noFolders
    throw localIoError(error, 'read', root)
  }
  const store = await openAccountStore(config, account, 'read', ctx)
  try {
    const folders = await store.listFolders()
    if (folders.length === 0) throw noFolders
    return {account, store, folders}
  } catch (error) {
    await store.close()
    throw error
  }
}
