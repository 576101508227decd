/** The personal namespace of a destination (or source) server, which folder names are built on. */
import type {Account, Config} from '../../config/index.js'
import type {ImapSession, NamespaceEntry} from '../../imap/types.js'
import {rethrowIfStopped, type RunContext} from '../../shared/context.js'
import {accountSessionPool} from '../access/account-session.js'
import {retryPolicy} from '../access/retry.js'
import type {SessionPool} from '../access/session-pool.js'
import type {LinkOptions} from './link-options.js'

/** The personal namespace of a session's server (RFC 2342), with LIST's delimiter as fallback. */
export async function personalNamespace(session: ImapSession): Promise<{prefix: string; delimiter: string}> {
  const ns: NamespaceEntry | undefined = (await session.namespaces()).personal[0]
  let delimiter = ns?.delimiter ?? null
  if (delimiter === null) delimiter = (await session.listFolders()).find((f) => f.delimiter !== null)?.delimiter ?? null
  return {prefix: ns?.prefix ?? '', delimiter: delimiter ?? ''}
}

/**
 * The namespace of an account's server from one short connection (no retries), for naming
 * folders of a backup whose server is not the destination; undefined when it cannot be reached.
 */
export async function probeNamespace(config: Config, account: Account, ctx: RunContext, options: LinkOptions): Promise<{prefix: string; delimiter: string} | {error: Error}> {
  let pool: SessionPool | undefined
  try {
    pool = await accountSessionPool(config, account, ctx, {...options, retry: retryPolicy({attempts: 0})})
    const session = await pool.open()
    return await personalNamespace(session)
  } catch (error) {
    rethrowIfStopped(error, ctx.signal)
    return {error: error as Error}
  } finally {
    await pool?.release(ctx.signal.aborted)
  }
}
