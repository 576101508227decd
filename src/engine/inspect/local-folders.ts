/**
 * `mailkeep local folders EMAIL`: the folders of an account's backup, by their server names
 * (decoded from the file names, unlike imap-backup, which printed the escaped names; compat
 * §4.1), under the shared lock. Nothing is written.
 */
import type {Config} from '../../config/index.js'
import type {RunContext} from '../../shared/context.js'
import {findAccount} from '../access/account-access.js'
import {openStoreIfPresent} from './local-access.js'

export interface LocalFolderName {
  name: string
}

export async function localFolders(config: Config, email: string, ctx: RunContext): Promise<LocalFolderName[]> {
  const account = findAccount(config, email)
  const store = await openStoreIfPresent(config, account, ctx)
  if (store === undefined) return []
  try {
    return (await store.listFolders()).map((f) => ({name: f.name}))
  } finally {
    await store.close()
  }
}
