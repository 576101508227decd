/**
 * Reaching an account's server, for every use-case that works on one (remote commands, setup,
 * repair…): a logged-in session, with the account's credentials and the retry policy. Finding
 * the account and opening its backup are in local-account.ts, which does not load the IMAP layer.
 * Backup has its own loop over accounts (backup/backup.ts) but uses the same pieces.
 */
import {requireConnection, type Account, type Config} from '../../config/index.js'
import {connect as realConnect} from '../../imap/index.js'
import type {Connect, ImapSession} from '../../imap/types.js'
import type {RunContext} from '../../shared/context.js'
import type {RetryPolicy} from './types.js'
import {accountCredentials} from './credentials.js'
import {mailkeepClientId} from './client-id.js'
import {DEFAULT_RETRY} from './retry.js'
import {SessionPool} from './session-pool.js'

// Kept here too for the use-cases that import both from this file.
export {findAccount, openAccountStore} from './local-account.js'

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
