/**
 * The short sessions of the commands that look at an account's server (`remote folders`,
 * `remote capabilities`, `remote namespaces`, `stats`, `utils ignore-history`): find the account,
 * log in (transient failures retried with backoff, a refused login not), run, and always end the
 * session: LOGOUT normally, an immediate close when the run was interrupted.
 */
import type {Account, Config} from '../../config/index.js'
import type {Connect, ImapSession} from '../../imap/types.js'
import type {RunContext} from '../../shared/context.js'
import type {RetryPolicy} from './types.js'
import {findAccount} from './account-access.js'
import {openAccountSession} from './account-session.js'

/** What every remote use-case is asked: which account of which config. */
export interface RemoteQuery {
  config: Config
  /** The account's username (`<email> is not a configured account` otherwise, exit 3). */
  email: string
  /** For tests: the IMAP connector (default: src/imap's real one). */
  connect?: Connect
  /** For tests: the retry policy of the first connection. */
  retry?: Partial<RetryPolicy>
}

/** Runs `use` on a logged-in session of the account, then ends the session whatever happens. */
export async function withRemoteSession<T>(query: RemoteQuery, ctx: RunContext, use: (session: ImapSession, account: Account) => Promise<T>): Promise<T> {
  const account = findAccount(query.config, query.email)
  return withAccountSession(query, account, ctx, (session) => use(session, account))
}

/** As withRemoteSession, for a caller that found the account itself (and e.g. locked its backup). */
export async function withAccountSession<T>(query: RemoteQuery, account: Account, ctx: RunContext, use: (session: ImapSession) => Promise<T>): Promise<T> {
  const options = {...(query.connect === undefined ? {} : {connect: query.connect}), ...(query.retry === undefined ? {} : {retry: query.retry})}
  const session = await openAccountSession(query.config, account, ctx, options)
  try {
    return await use(session)
  } finally {
    if (ctx.signal.aborted) session.close()
    else await session.logout()
  }
}
