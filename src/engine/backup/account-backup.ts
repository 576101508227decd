/**
 * The backup of one account (docs/backup.md, "Accounts"): secret, lock, connection, folder
 * list and selection, mirror-mode folder removal, then each folder in server order on the
 * account's one connection. The lock is released and the connection closed whatever happens.
 */
import {requireLocalPath, selectFolders, type Account, type Config} from '../../config/index.js'
import type {Connect, ImapSession, RemoteFolder} from '../../imap/types.js'
import {AccountStore} from '../../store/account-store.js'
import {LockedError, MailkeepError, RemoteError} from '../../shared/errors.js'
import {deadlineReached, rethrowIfInterrupted, throwIfAborted, type RunContext} from '../../shared/context.js'
import {ExitCode} from '../../shared/exit-codes.js'
import type {Logger} from '../../shared/logger.js'
import type {AccountReport, FolderReport, RetryPolicy} from './types.js'
import {accountSessionPool} from '../access/account-session.js'
import {backupFolder, type FolderEnv} from './folder-backup.js'
import {removeUnselectedFolders} from './mirror-cleanup.js'
import {loadPlaceholderGuard, noteBackedUp, savePlaceholderGuard} from './placeholder-guard.js'
import {knownServerFolders, logUnselected, recordServerFolders, unselectedFolders} from '../access/unselected-folders.js'
import {recordNotStored} from './not-stored.js'
import {endsRun, errorSummary, folderSummary, secondsSince, type FailureLog} from '../access/report.js'
import {emptyFolderReport} from './folder-report.js'
import {isRetryable, withRetries} from '../access/retry.js'
import type {SessionPool} from '../access/session-pool.js'

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
  const report: AccountReport = {account: account.username, outcome: 'ok', folders: [], unselected: [], seconds: 0}
  let stop = false
  let store: AccountStore | undefined
  let pool: SessionPool | undefined
  logger.info(`Running backup of account '${account.username}'`)
  ctx.progress.begin?.('account', account.username)
  try {
    const root = requireLocalPath(config, account)
    // Messages up to large_message_bytes are fetched whole: the session's literal limit derives
    // from it (src/imap/limits.ts).
    pool = await accountSessionPool(config, account, ctx, {connect: env.connect, retry: env.retry, traceProtocol: env.traceProtocol, wholeMessageBytes: config.tuning.largeMessageBytes})
    store = await AccountStore.open(root, {mode: 'write', logger, account: account.username})
    const listed = (await listFolders(pool, env)).filter((f) => !f.noselect)
    for (const f of listed) {
      if (f.decodesAs !== undefined) {
        logger.warn(`a server folder whose name decodes to '${f.decodesAs}' is not spelled as that name is; it is backed up as '${f.name}', apart from any folder '${f.decodesAs}'`, {folder: f.name})
      }
    }
    // Two server folders may never share one local folder (docs/backup.md B2: the IMAP layer
    // makes listed names distinct; a server that lists one name twice gets neither backed up).
    const clashing = repeatedNames(listed.map((f) => f.name))
    const names = selectFolders(
      listed.map((f) => f.name),
      account,
    ).filter((name) => !clashing.has(name))
    for (const name of clashing) record(env, report, clash(name))
    // Folders that exist and are not backed up are named in the report, new ones first (B3).
    const known = await knownServerFolders(store.root, logger)
    const listedNames = listed.map((f) => f.name)
    report.unselected = unselectedFolders(
      listedNames.filter((name) => !clashing.has(name)),
      names,
      known,
    )
    logUnselected(report.unselected, logger)
    const status = new Map(listed.map((f) => [f.name, f.status]))
    const delimiters = new Map(listed.map((f) => [f.name, f.delimiter]))
    logger.debug(`${listed.length} selectable folder(s) on the server, ${names.length} to back up`)
    ctx.progress.expect?.('folder', names.length)

    // Which backups are older than ignore-history placeholders (B5): mirror mode keeps those.
    const guard = await loadPlaceholderGuard(store.root, logger)
    let stale: ReadonlySet<string> | undefined
    if (account.mirrorMode) {
      if (listed.length === 0) {
        // Every server has INBOX: an empty list is a server problem, not a reason to delete.
        logger.warn('the server listed no folders; local folders are kept (mirror mode)')
      } else if (clashing.size > 0) {
        // Mirror mode never deletes on an ambiguous folder list.
        logger.warn('the server listed a folder name twice; no local folder is removed in this run (mirror mode)')
      } else {
        // The local folders to remove are those there now; they go once every selected folder is
        // backed up (below), so that mail the server moved (a renamed folder, a restored copy) is
        // in the backup before its old copy leaves it, whenever the run is stopped (B1).
        const selected = new Set(names)
        stale = new Set((await store.listFolders()).map((f) => f.name).filter((name) => !selected.has(name)))
      }
    }
    if (names.length === 0) logger.warn(`No folders found to backup for account '${account.username}'`)

    const folderEnv: FolderEnv = {store, pool, account, config, refresh: env.refresh, retry: env.retry, ctx, logger, personalPrefix: personalPrefixOnce(logger), guard}
    let unreachable: FolderReport | undefined
    for (const name of names) {
      if (deadlineReached(ctx.signal)) {
        record(env, report, notAttempted(name, (ctx.signal.reason as Error).message, undefined))
        continue
      }
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
    if (stale !== undefined && stale.size > 0) {
      throwIfAborted(ctx.signal)
      const incomplete = report.folders.filter((f) => names.includes(f.folder) && f.outcome !== 'ok' && f.outcome !== 'unchanged')
      if (stop || incomplete.length > 0) {
        logger.warn(`${stale.size} local folder(s) no longer on the server are kept until a run backs up every selected folder (mirror mode): ${incomplete.length} were not (${incomplete.slice(0, 5).map((f) => `'${f.folder}'`).join(', ')}${incomplete.length > 5 ? ', …' : ''})`)
      } else {
        const removed = await removeUnselectedFolders(store, names, guard, logger, stale)
        for (const folder of removed) record(env, report, folder)
      }
    }
    if (!stop && listed.length > 0) await recordServerFolders(store.root, listedNames, known, logger)
    noteBackedUp(guard, report.folders)
    if (!stop) await savePlaceholderGuard(store.root, guard, logger)
    // For `local check`, which has no server to ask: the folders this run could not store.
    if (!stop) await recordNotStored(store.root, names, report.folders, logger)
  } catch (error) {
    rethrowIfInterrupted(error, ctx.signal)
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
    if (endsRun(error) && store !== undefined) stop = true
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
  // pool.open() has its own retries, within the connect timeout: its failure is final here.
  let connecting = false
  return withRetries(
    async () => {
      connecting = true
      const session = await pool.open()
      connecting = false
      return session.listFolders({status: session.capabilities.listStatus})
    },
    {policy: env.retry, signal: env.ctx.signal, retryable: (error) => !connecting && isRetryable(error), onRetry: () => pool.discard()},
  )
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

function repeatedNames(names: readonly string[]): Set<string> {
  const seen = new Set<string>()
  const repeated = new Set<string>()
  for (const name of names) (seen.has(name) ? repeated : seen).add(name)
  return repeated
}

function clash(name: string): FolderReport {
  const report = emptyFolderReport(name)
  report.outcome = 'failed'
  report.error = folderSummary(
    new RemoteError(`the server listed more than one folder named '${name}'; none of them is backed up, so that two server folders never share one local folder`, {
      hint: 'this is a server problem; rename one of the folders on the server (with another mail client), then rerun',
    }),
  )
  return report
}

function notAttempted(name: string, why: string, cause: FolderReport | undefined): FolderReport {
  const report = emptyFolderReport(name)
  report.outcome = 'failed'
  const base = cause?.error
  report.error = {name: 'NotAttempted', message: `not backed up: ${why}${base === undefined ? '' : ` (${base.message})`}`, exitCode: base?.exitCode ?? ExitCode.INCOMPLETE}
  return report
}
