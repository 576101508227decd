/**
 * `runBackup`: the backup use-case (docs/backup.md). Accounts in config order, one at a time;
 * only `status: active` ones are backed up. The engine never prints and never exits: it logs
 * through `ctx.logger`, reports progress through `ctx.progress`, stops on `ctx.signal`, and
 * returns the typed report whose `exitCode` the CLI uses.
 *
 * An interruption (SIGINT/SIGTERM) rejects with the InterruptedError after the current folder
 * was rolled back to its last savepoint and the account's lock was released. Reaching the
 * maximum duration (`maxDurationMs`) is not an interruption: the current folder keeps what it
 * completed (a commit), the rest is reported as not done, and the report's exit code is 4.
 */
import {selectAccounts, type Account} from '../../config/index.js'
import {deadlineReached, throwIfAborted, withDeadline, type RunContext} from '../../shared/context.js'
import {formatDuration} from '../../shared/duration.js'
import {ExitCode, type ExitCodeValue} from '../../shared/exit-codes.js'
import type {Connect} from '../../imap/types.js'
import type {AccountReport, BackupOptions, BackupReport} from './types.js'
import {backupAccount, type AccountEnv} from './account-backup.js'
import {FailureLog, secondsSince} from '../access/report.js'
import {retryPolicy} from '../access/retry.js'

export async function runBackup(options: BackupOptions, userCtx: RunContext): Promise<BackupReport> {
  const limit = options.maxDurationMs ?? options.config.maxDurationMs
  const source = options.maxDurationMs !== undefined ? `--max-duration ${formatDuration(limit ?? 0)}` : `max_duration_seconds ${(limit ?? 0) / 1000}`
  const deadline = withDeadline(userCtx, limit, source)
  try {
    return await backupAccounts(options, deadline.ctx)
  } finally {
    deadline.dispose()
  }
}

/** runBackup with the context whose signal also ends the run at its maximum duration. */
async function backupAccounts(options: BackupOptions, ctx: RunContext): Promise<BackupReport> {
  const started = Date.now()
  throwIfAborted(ctx.signal)
  // An unknown name in --accounts is a ConfigError (exit 3), thrown before anything is done.
  const selected = selectAccounts(options.config, options.accounts)
  const failures = new FailureLog()
  const report: BackupReport = {accounts: [], exitCode: ExitCode.OK, seconds: 0}
  if (!selected.some((a) => a.status === 'active')) ctx.logger.warn('No matching accounts found to backup')
  ctx.progress.expect?.('account', selected.filter((a) => a.status === 'active').length)

  const env: AccountEnv = {
    config: options.config,
    refresh: options.refresh,
    connect: options.connect ?? (await realConnect()),
    retry: retryPolicy(options.retry),
    traceProtocol: options.traceProtocol ?? false,
    skipLocked: options.skipLocked ?? false,
    ctx,
    failures,
  }
  let stoppedBy: string | undefined
  for (const account of selected) {
    if (account.status !== 'active') {
      ctx.logger.debug(`Skipping account '${account.username}' (status: ${account.status})`, {account: account.username})
      report.accounts.push(skipped(account, `not backed up: the account's status is '${account.status}'`))
      continue
    }
    if (stoppedBy !== undefined) {
      report.accounts.push(skipped(account, `not backed up: the run stopped after a local I/O error in account '${stoppedBy}'`))
      continue
    }
    if (deadlineReached(ctx.signal)) {
      report.accounts.push(skipped(account, `not backed up: ${(ctx.signal.reason as Error).message}`, ExitCode.INCOMPLETE))
      failures.record(ExitCode.INCOMPLETE)
      continue
    }
    throwIfAborted(ctx.signal)
    const result = await backupAccount(env, account)
    report.accounts.push(result.report)
    if (result.stop) stoppedBy = account.username
  }
  report.exitCode = failures.exitCode
  report.seconds = secondsSince(started)
  return report
}

function skipped(account: Account, message: string, exitCode: ExitCodeValue = ExitCode.OK): AccountReport {
  return {
    account: account.username,
    outcome: 'skipped',
    error: {name: 'AccountSkipped', message, exitCode},
    folders: [],
    unselected: [],
    seconds: 0,
  }
}

/** src/imap (and so imapflow) is loaded only when a real connection is wanted. */
async function realConnect(): Promise<Connect> {
  return (await import('../../imap/index.js')).connect
}
