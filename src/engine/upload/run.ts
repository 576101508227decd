/**
 * What restore, copy, mirror and migrate share around the per-folder upload: the folders of a
 * run one after the other (each in run-folder.ts, uploaded by folder-upload.ts), the folders not
 * attempted once the destination is unreachable, the end of the run's report, and what a run
 * holds released at its end.
 */
import {InterruptedError} from '../../shared/errors.js'
import {throwIfAborted} from '../../shared/context.js'
import type {Logger} from '../../shared/logger.js'
import type {AccountStore} from '../../store/account-store.js'
import type {AccountLock} from '../../store/lock.js'
import {keptAsideOrigin, originsFirst} from '../../store/kept-aside.js'
import {type FailureLog, secondsSince} from '../access/report.js'
import type {SessionPool} from '../access/session-pool.js'
import type {NamingSide} from './folder-mapping.js'
import type {RecordedNaming} from './source-naming.js'
import type {TransferFolderReport, TransferReport} from './types.js'
import {notAttempted} from './folder-report.js'
import {runFolder, type FolderJob, type RunEnv} from './run-folder.js'
import {recordedNaming, targetName, type RunNaming} from './run-naming.js'

/**
 * Uploads the folders `names` one after the other (runFolder), each to its name under `naming`;
 * `prepare` gives the job's prepare() for a folder's destination name. Once the destination
 * could not be reached, the remaining folders are reported as not attempted. Folders whose
 * source names were split otherwise than most (their backups record another server's naming)
 * get a note saying so.
 */
export async function runFolders(env: RunEnv, names: readonly string[], naming: RunNaming, prepare: FolderJob['prepare']): Promise<TransferFolderReport[]> {
  const reports: TransferFolderReport[] = []
  let unreachable: TransferFolderReport | undefined
  for (const name of originsFirst(names)) {
    throwIfAborted(env.ctx.signal)
    if (unreachable !== undefined) {
      const recorded = await recordedOf(env, name)
      const skipped = notAttempted(name, targetName(recorded.home, naming.source.peek(recorded.naming), naming), unreachable)
      env.failures.record(skipped.error!.exitCode)
      reports.push(skipped)
      continue
    }
    const result = await runFolder(env, {source: name, naming, prepare})
    reports.push(result.report)
    if (result.unreachable) unreachable = result.report
  }
  const {side: main, others} = naming.source.summary()
  for (const report of reports) {
    const side = others.get(report.source)
    if (side === undefined) continue
    const describe = (s: NamingSide): string => `'${s.delimiter}'${s.prefix === '' ? '' : ` with prefix '${s.prefix}'`}`
    report.notes.push(`the source name was split on ${describe(side)}, unlike most folders of this run (${describe(main)}): its backup records another server's naming, or none`)
  }
  return reports
}

/** The report's `naming`: the prefixes and delimiters the run used (most folders', see runFolders). */
/** An upload run's report before any folder: the accounts, the naming of both sides, a backup run first. */
export function startedReport(command: TransferReport['command'], source: string, destination: string, naming: RunNaming, backup?: TransferReport['backup']): TransferReport {
  return {command, source, destination, ...(backup === undefined ? {} : {backup}), naming: namingReport(naming), folders: [], exitCode: 0, seconds: 0}
}

export function namingReport(naming: RunNaming): TransferReport['naming'] {
  const source = naming.source.summary().side
  return {
    sourcePrefix: source.prefix,
    sourceDelimiter: source.delimiter,
    destinationPrefix: naming.destination.prefix,
    destinationDelimiter: naming.destination.delimiter,
  }
}

/**
 * The recorded naming of a folder not otherwise opened, and the folder whose destination it goes
 * to (itself, or for a kept-aside backup the folder it was moved from). A damaged one records
 * nothing usable.
 */
async function recordedOf(env: RunEnv, name: string): Promise<{naming: RecordedNaming; home: string}> {
  try {
    const folder = await env.store.folder(name)
    try {
      return {naming: recordedNaming(folder), home: keptAsideOrigin(name, folder.uidValidity) ?? name}
    } finally {
      await folder.close().catch(() => undefined)
    }
  } catch (error) {
    if (error instanceof InterruptedError) throw error
    return {naming: {}, home: name}
  }
}

/** The end of an upload run's report: its naming, exit code and duration. */
export function finishedReport(report: TransferReport, naming: RunNaming, failures: FailureLog, started: number): TransferReport {
  report.naming = namingReport(naming)
  report.exitCode = failures.exitCode
  report.seconds = secondsSince(started)
  return report
}

/** What an upload run holds, released whatever its outcome: the session pool, the upload lock, the backup. */
export async function releaseRun(held: {pool: SessionPool | undefined; lock: AccountLock | undefined; store: AccountStore | undefined}, signal: AbortSignal, logger: Logger): Promise<void> {
  await held.pool?.release(signal.aborted)
  await held.lock?.release()
  await held.store?.close().catch((error: unknown) => logger.warn(`could not release the account cleanly: ${(error as Error).message}`))
}
