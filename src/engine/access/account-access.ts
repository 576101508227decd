/**
 * Reaching an account, for every use-case that works on one (local/remote commands, stats,
 * restore, copy, repair…): find it in the config, open its backup. A session to its server is
 * opened by account-session.ts, which only the use-cases that connect import: commands that
 * never connect (local *, export, auth status) do not load imapflow (test/cli/bundle-imports.test.ts).
 * Backup has its own loop over accounts (backup/backup.ts) but uses the same pieces.
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
