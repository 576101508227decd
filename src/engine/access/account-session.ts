/**
 * Reaching an account's server, for the use-cases that connect (backup, remote commands, stats,
 * setup's test, restore, copy, repair's server link): its session pool, or one logged-in session,
 * with the account's credentials and the retry policy. Apart from account-access.ts (finding the
 * account, opening its backup) so that the commands that only read the backup do not load the
 * IMAP library (test/cli/bundle-imports.test.ts).
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

export interface SessionOptions {
  connect?: Connect
  retry?: Partial<RetryPolicy>
}

/** How an account's connections are made, beyond the config. */
export interface PoolOptions {
  /** For tests: the IMAP connector (default: src/imap's real one). */
  connect?: Connect
  retry: RetryPolicy
  traceProtocol?: boolean
  /** Messages up to this size are fetched whole: the session's literal limit derives from it (src/imap/limits.ts). */
  wholeMessageBytes?: number
}

/**
 * The account's session pool, the one way every use-case reaches its server: the credentials are
 * resolved now (an OAuth2 token fetched, a password command run), no connection is made yet.
 * RFC 2971 ID is sent after login when the server has it (163.com refuses to work without).
 */
export async function accountSessionPool(config: Config, account: Account, ctx: RunContext, options: PoolOptions): Promise<SessionPool> {
  const endpoint = requireConnection(config, account)
  const credentials = await accountCredentials(account, ctx.signal)
  const logger = ctx.logger.child({account: account.username})
  return new SessionPool({
    connect: options.connect ?? realConnect,
    connectOptions: {
      endpoint,
      credentials,
      logger,
      signal: ctx.signal,
      clientId: mailkeepClientId(),
      ...(options.traceProtocol === undefined ? {} : {traceProtocol: options.traceProtocol}),
      ...(options.wholeMessageBytes === undefined ? {} : {wholeMessageBytes: options.wholeMessageBytes}),
    },
    retry: options.retry,
    signal: ctx.signal,
    logger,
  })
}

/**
 * A logged-in session to the account's server, transient failures retried with backoff. The
 * caller ends it with `logout()` (or `close()` when interrupted).
 */
export async function openAccountSession(config: Config, account: Account, ctx: RunContext, options: SessionOptions = {}): Promise<ImapSession> {
  const pool = await accountSessionPool(config, account, ctx, {
    ...(options.connect === undefined ? {} : {connect: options.connect}),
    retry: {...DEFAULT_RETRY, ...options.retry},
  })
  return pool.open()
}
