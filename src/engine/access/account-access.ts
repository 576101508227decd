/**
 * Reaching an account, for every use-case that works on one (local/remote commands, stats,
 * restore, copy, repair…): find it in the config, open its backup, open a session to its
 * server. Backup has its own loop over accounts (backup/backup.ts) but uses the same pieces.
 */
import {requireConnection, requireLocalPath, selectAccounts, type Account, type Config} from '../../config/index.js'
import {connect as realConnect} from '../../imap/index.js'
import type {Connect, ImapSession} from '../../imap/types.js'
import type {RunContext} from '../../shared/context.js'
import {AccountStore} from '../../store/account-store.js'
import type {OpenMode} from '../../store/folder-store.js'
import type {RetryPolicy} from './types.js'
import {accountCredentials} from './credentials.js'
import {mailkeepClientId} from './client-id.js'
import {DEFAULT_RETRY} from './retry.js'
import {SessionPool} from './session-pool.js'

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

export interface SessionOptions {
  connect?: Connect
  retry?: Partial<RetryPolicy>
}

/**
 * A logged-in session to the account's server, transient failures retried with backoff. The
 * caller ends it with `logout()` (or `close()` when interrupted).
 */
export async function openAccountSession(config: Config, account: Account, ctx: RunContext, options: SessionOptions = {}): Promise<ImapSession> {
  const endpoint = requireConnection(config, account)
  const credentials = await accountCredentials(account, ctx.signal)
  const logger = ctx.logger.child({account: account.username})
  const pool = new SessionPool({
    connect: options.connect ?? realConnect,
    connectOptions: {endpoint, credentials, logger, signal: ctx.signal, clientId: mailkeepClientId()},
    retry: {...DEFAULT_RETRY, ...options.retry},
    signal: ctx.signal,
    logger,
  })
  return pool.open()
}
