/**
 * Reaching an account's backup without its server: find the account in the config, open its
 * backup. Apart from account-access.ts (which opens sessions) so that the commands that never
 * connect (`local list`, `local folders`, `stats`…) do not load the IMAP layer.
 */
import {requireLocalPath, selectAccounts, type Account, type Config} from '../../config/index.js'
import type {RunContext} from '../../shared/context.js'
import {AccountStore} from '../../store/account-store.js'
import type {OpenMode} from '../../store/folder-store.js'

/** The configured account with this username (`<email> is not a configured account`). */
export function findAccount(config: Config, email: string): Account {
  const [account] = selectAccounts(config, [email])
  return account!
}

/**
 * Opens the account's backup: 'read' takes the shared lock, 'write' the exclusive one;
 * `withoutLock` (read only) takes none and reads the last committed state (account-store.ts).
 */
export async function openAccountStore(config: Config, account: Account, mode: OpenMode, ctx: RunContext, options: {withoutLock?: boolean} = {}): Promise<AccountStore> {
  return AccountStore.open(requireLocalPath(config, account), {mode, logger: ctx.logger.child({account: account.username}), account: account.username, ...options})
}
