/**
 * The backup of one account (docs/backup.md, "Accounts"): secret, lock, connection, folder
 * list and selection, mirror-mode folder removal, then each folder in server order on the
 * account's one connection. The lock is released and the connection closed whatever happens.
 */
import {requireConnection, requireLocalPath, selectFolders, type Account, type Config} from '../config/index.js'
import type {Connect, ImapSession, RemoteFolder} from '../imap/types.js'
import {AccountStore} from '../store/account-store.js'
import {InterruptedError, LocalIoError, LockedError, MailkeepError, RemoteError} from '../shared/errors.js'
import {throwIfAborted, type RunContext} from '../shared/context.js'
import {ExitCode} from '../shared/exit-codes.js'
import type {Logger} from '../shared/logger.js'
import type {AccountReport, FolderReport, RetryPolicy} from './backup-types.js'
import {mailkeepClientId} from './client-id.js'
import {accountCredentials} from './credentials.js'
import {backupFolder, type FolderEnv} from './folder-backup.js'
import {removeUnselectedFolders} from './mirror-cleanup.js'
import {emptyFolderReport, errorSummary, secondsSince, type FailureLog} from './report.js'
import {backoffDelay, isRetryable, sleep} from './retry.js'
import {SessionPool} from './session-pool.js'

export interface AccountEnv {
  config: Config
  refresh: boolean
  connect: Connect
  retry: RetryPolicy
  traceProtocol: boolean
  /** BackupOptions.skipLocked. */
  skipLocked: boolean
  ctx: RunContext
  failures: FailureLog
}

export interface AccountResult {
  report: AccountReport
  /** A local I/O error (disk full) while writing: the run ends. */
  stop: boolean
}

export async function backupAccount(env: AccountEnv, account: Account): Promise<AccountResult> {
  const started = Date.now()
  const {ctx, config} = env
  const logger = ctx.logger.child({account: account.username})
  const report: AccountReport = {account: account.username, outcome: 'ok', folders: [], seconds: 0}
  let stop = false
  let store: AccountStore | undefined
  let pool: SessionPool | undefined
  logger.info(`Running backup of account '${account.username}'`)
  ctx.progress.begin?.('account', account.username)
  try {
    const root = requireLocalPath(config, account)
    const connection = requireConnection(config, account)
    const credentials = await accountCredentials(account, ctx.signal)
    store = await AccountStore.open(root, {mode: 'write', logger, account: account.username})
    pool = new SessionPool({
      connect: env.connect,
      // RFC 2971 ID after login, when the server has it (163.com refuses to work without).
      // Messages up to large_message_bytes are fetched whole: the session's literal limit
      // derives from it (src/imap/limits.ts).
      connectOptions: {
        endpoint: connection,
        credentials,
        logger,
        signal: ctx.signal,
        traceProtocol: env.traceProtocol,
        clientId: mailkeepClientId(),
        wholeMessageBytes: config.tuning.largeMessageBytes,
      },
      retry: env.retry,
      signal: ctx.signal,
      logger,
    })
    const listed = (await listFolders(pool, env)).filter((f) => !f.noselect)
    const names = selectFolders(
      listed.map((f) => f.name),
      account,
    )
    const status = new Map(listed.map((f) => [f.name, f.status]))
    const delimiters = new Map(listed.map((f) => [f.name, f.delimiter]))
    logger.debug(`${listed.length} selectable folder(s) on the server, ${names.length} to back up`)
    ctx.progress.expect?.('folder', names.length)

    if (account.mirrorMode) {
      if (listed.length === 0) {
        // Every server has INBOX: an empty list is a server problem, not a reason to delete.
        logger.warn('the server listed no folders; local folders are kept (mirror mode)')
      } else {
        const removed = await removeUnselectedFolders(store, names, logger)
        for (const folder of removed) record(env, report, folder)
      }
    }
    if (names.length === 0) logger.warn(`No folders found to backup for account '${account.username}'`)

    const folderEnv: FolderEnv = {store, pool, account, config, refresh: env.refresh, retry: env.retry, ctx, logger, personalPrefix: personalPrefixOnce(logger)}
    let unreachable: FolderReport | undefined
    for (const name of names) {
      throwIfAborted(ctx.signal)
      if (stop || unreachable !== undefined) {
        record(env, report, notAttempted(name, stop ? 'the run stopped after a local I/O error' : 'the server could not be reached', unreachable))
        ctx.progress.end?.('folder')
        continue
      }
      ctx.progress.begin?.('folder', name)
      let result: Awaited<ReturnType<typeof backupFolder>>
      try {
        result = await backupFolder(folderEnv, {name, status: status.get(name), delimiter: delimiters.get(name)})
      } finally {
        ctx.progress.end?.('folder')
      }
      record(env, report, result.report)
      if (result.stop === true) stop = true
      if (result.unreachable === true) unreachable = result.report
    }
  } catch (error) {
    if (ctx.signal.aborted || error instanceof InterruptedError) throw ctx.signal.aborted ? ctx.signal.reason : error
    if (error instanceof LockedError && env.skipLocked && store === undefined) {
      // Another run holds the account (a long first backup, say): nothing of it was touched, and
      // that run reports its own outcome. Not a failure of this one (docs/scheduling.md).
      report.outcome = 'skipped'
      report.error = {name: 'AccountBusy', message: `not backed up: another mailkeep is using it (${error.holderPid === undefined ? 'reading it' : `pid ${error.holderPid}`})`, exitCode: ExitCode.OK}
      logger.info(`Skipping account '${account.username}': ${error.message}`)
      return {report, stop}
    }
    failAccount(env, report, error, logger)
    // Disk full while removing folders in mirror mode: nothing else should be written.
    if (error instanceof LocalIoError && store !== undefined) stop = true
  } finally {
    ctx.progress.end?.('account')
    await pool?.release(ctx.signal.aborted)
    await store?.close().catch((error: unknown) => logger.warn(`could not release the account cleanly: ${(error as Error).message}`))
    report.seconds = secondsSince(started)
  }
  return {report, stop}
}

/**
 * Connects (retrying network failures with backoff, never a refused login) and lists the
 * folders, with their status in the same command when the server has LIST-STATUS (RFC 5819).
 * A link that breaks during the LIST is retried on a new connection too.
 */
async function listFolders(pool: SessionPool, env: AccountEnv): Promise<RemoteFolder[]> {
  for (let attempt = 1; ; attempt++) {
    const session = await pool.open()
    try {
      return await session.listFolders({status: session.capabilities.listStatus})
    } catch (error) {
      if (env.ctx.signal.aborted || !isRetryable(error) || attempt > env.retry.attempts) throw error
      pool.discard()
      await sleep(backoffDelay(attempt, env.retry), env.ctx.signal)
    }
  }
}

/**
 * The personal namespace prefix (RFC 2342), asked at most once per run. A server that refuses
 * NAMESPACE has none: its personal namespace is the root (RFC 2342 §1). A broken link is thrown,
 * so that the folder is retried on a new connection.
 */
export function personalPrefixOnce(logger: Logger): (session: ImapSession) => Promise<string> {
  let known: string | undefined
  return async (session) => {
    if (known !== undefined) return known
    try {
      known = (await session.namespaces()).personal[0]?.prefix ?? ''
    } catch (error) {
      if (!(error instanceof RemoteError)) throw error
      logger.debug(`NAMESPACE refused (${error.message}); the personal namespace is taken to be the root`)
      known = ''
    }
    return known
  }
}

function record(env: AccountEnv, report: AccountReport, folder: FolderReport): void {
  report.folders.push(folder)
  if (folder.outcome !== 'failed') return
  if (report.outcome === 'ok') report.outcome = 'incomplete'
  if (folder.error !== undefined) env.failures.record(folder.error.exitCode)
}

function failAccount(env: AccountEnv, report: AccountReport, error: unknown, logger: Logger): void {
  report.outcome = 'failed'
  report.error = errorSummary(error)
  env.failures.record(report.error.exitCode)
  const hint = report.error.hint === undefined ? '' : ` (${report.error.hint})`
  logger.error(`Backup for account '${report.account}' failed with error ${report.error.message}${hint}`)
  if (!(error instanceof MailkeepError)) logger.error('this is a bug in mailkeep; please report it', {stack: (error as Error).stack})
}

function notAttempted(name: string, why: string, cause: FolderReport | undefined): FolderReport {
  const report = emptyFolderReport(name)
  report.outcome = 'failed'
  const base = cause?.error
  report.error = {name: 'NotAttempted', message: `not backed up: ${why}${base === undefined ? '' : ` (${base.message})`}`, exitCode: base?.exitCode ?? ExitCode.INCOMPLETE}
  return report
}
