/**
 * One folder of an upload run (restore, copy, mirror, migrate): its source backup opened with its
 * upload map, uploaded (folder-upload.ts) on the pool's session and retried on a new connection
 * after a broken link, then its report.
 */
import {ExitCode} from '../../shared/exit-codes.js'
import {DamagedError} from '../../shared/errors.js'
import {isStop, rethrowIfStopped, type RunContext} from '../../shared/context.js'
import type {ImapSession} from '../../imap/types.js'
import type {Logger} from '../../shared/logger.js'
import type {AccountStore} from '../../store/account-store.js'
import type {FolderStore} from '../../store/folder-store.js'
import {UploadMap, type UploadMapKind} from '../../store/upload-map.js'
import {keptAsideOrigin} from '../../store/kept-aside.js'
import {placeholderUids} from '../../store/placeholders.js'
import type {RetryPolicy} from '../access/types.js'
import {type FailureLog, folderSummary, secondsSince} from '../access/report.js'
import {isRetryable, withRetries} from '../access/retry.js'
import type {SessionPool} from '../access/session-pool.js'
import type {TransferFolderReport, UploadTuning} from './types.js'
import {uploadFolder} from './folder-upload.js'
import {FolderUploadState, type UploadPolicy} from './folder-upload-input.js'
import {emptyTransferFolderReport} from './folder-report.js'
import {recordedNaming, targetName, type RunNaming} from './run-naming.js'

export interface RunEnv {
  store: AccountStore
  pool: SessionPool
  kind: UploadMapKind
  /** Destination user: the key of the map. */
  user: string
  /** The backed-up account (its own entries of `.restore` maps tell restored copies apart). */
  sourceUser: string
  policy: UploadPolicy
  tuning: UploadTuning
  retry: RetryPolicy
  ctx: RunContext
  logger: Logger
  failures: FailureLog
}

/** Where a folder goes (PrepareFolder's answer). */
export interface PreparedFolder {
  /** The destination folder. */
  destination: string
  /**
   * restore after a clash: source UIDs whose copy another destination folder holds (the clash
   * folder, recorded in its map entry): they count as present and are not uploaded (U7).
   */
  presentElsewhere?: ReadonlySet<number>
  /** Every message is present elsewhere: nothing is uploaded, and `destination` is not opened. */
  nothingToUpload?: boolean
}

/**
 * Called at the start of each attempt, on the live session: chooses and creates the destination
 * folder. It may fill `report.created`, `report.clash`, `report.deleted`, `report.adopted`.
 */
export type PrepareFolder = (session: ImapSession, folder: FolderStore, map: UploadMap, report: TransferFolderReport) => Promise<PreparedFolder>

export interface FolderJob {
  /** The local folder (source server name). */
  source: string
  naming: RunNaming
  /** The job's prepare() for the destination name the naming gives (before any clash handling). */
  prepare(target: string): PrepareFolder
}

/**
 * One folder, retried on a new connection after a broken link (every step of uploadFolder can be
 * repeated). `unreachable` tells the caller that the server could not be reached in the end.
 */
export async function runFolder(env: RunEnv, job: FolderJob): Promise<{report: TransferFolderReport; unreachable: boolean}> {
  const started = Date.now()
  const {ctx, retry} = env
  const logger = env.logger.child({folder: job.source})
  const report = emptyTransferFolderReport(job.source, '')
  const state = new FolderUploadState()
  let folder: FolderStore | undefined
  let map: UploadMap | undefined
  let unreachable = false
  let presentElsewhere: ReadonlySet<number> = new Set()
  try {
    folder = await env.store.folder(job.source)
    // A kept-aside backup goes where the folder it was moved away from goes (store/kept-aside.ts). Its
    // flags are as they were when it was moved aside; the copies it shares with that folder
    // follow that folder's (live) flags, so it sets none of its own: two maps setting the
    // flags of one destination message would turn them back and forth on every run.
    const origin = keptAsideOrigin(job.source, folder.uidValidity)
    const policy: UploadPolicy = origin === undefined ? env.policy : {...env.policy, syncFlags: false}
    const target = targetName(origin ?? job.source, await job.naming.source.side(job.source, recordedNaming(folder)), job.naming)
    report.destination = target
    const prepare = job.prepare(target)
    // ignore-history's placeholders stand for mail the backup does not hold: they are not
    // uploaded, only counted (docs/commands/utils.md).
    const placeholders = await placeholderUids(folder)
    report.placeholders = placeholders.size
    map = await UploadMap.open(folder.paths.base, env.kind, logger)
    const restoreMap = env.kind === 'restore' ? map : await readRestoreMap(folder, logger)
    const [source, uploadMap] = [folder, map]
    const upload = async (): Promise<void> => {
      const session = await env.pool.session()
      const prepared = await prepare(session, source, uploadMap, report)
      const {destination} = prepared
      report.destination = destination
      presentElsewhere = prepared.presentElsewhere ?? new Set<number>()
      if (prepared.nothingToUpload === true) {
        await uploadMap.sync()
        state.present = source.messages.distinctUids().filter((u) => presentElsewhere.has(u)).length
        return
      }
      await uploadFolder({
        source,
        map: uploadMap,
        user: env.user,
        destination,
        presentElsewhere,
        placeholders,
        session,
        restoreMap,
        sourceUser: env.sourceUser,
        policy,
        tuning: env.tuning,
        report,
        state,
        signal: ctx.signal,
        progress: ctx.progress,
        logger,
      })
    }
    try {
      await withRetries(upload, {
        policy: retry,
        signal: ctx.signal,
        onRetry: (error, wait) => {
          env.pool.discard()
          logger.warn(`${(error as Error).message}; reconnecting in ${(wait.delayMs / 1000).toFixed(1)} s (${wait.failure} of ${wait.of})`)
        },
      })
    } catch (error) {
      // withRetries throws a retryable error only when the retries ran out.
      unreachable = isRetryable(error)
      throw error
    }
  } catch (error) {
    if (isStop(error, ctx.signal)) await closeQuietly(map, logger)
    rethrowIfStopped(error, ctx.signal)
    report.outcome = 'failed'
    report.error = folderSummary(error)
    if (report.destination === '') report.destination = targetName(keptAsideOrigin(job.source, folder?.uidValidity) ?? job.source, job.naming.source.peek(recordedNaming(folder)), job.naming)
    const hint = report.error.hint === undefined ? '' : ` (${report.error.hint})`
    logger.error(`'${job.source}' → '${report.destination}' failed: ${report.error.message}${hint}`)
    if (report.error.exitCode === ExitCode.INTERNAL) logger.error('this is a bug in mailkeep; please report it', {stack: (error as Error).stack})
  }
  await closeQuietly(map, logger)
  await folder?.close().catch(() => undefined)

  if (folder?.exists === true && map !== undefined) {
    let present = state.present
    if (present === undefined) {
      // The run stopped before the end: what the map shows.
      const mapped = map.entry(env.user, report.destination)?.map
      present = 0
      for (const m of folder.messages.distinctUids()) if (mapped?.has(m) === true || presentElsewhere.has(m)) present++
    }
    report.alreadyPresent = Math.max(0, present - report.uploaded - report.adopted)
  }
  report.skipped = [...state.skipped].sort((a, b) => a[0] - b[0]).map(([uid, reason]) => ({uid, reason}))
  report.droppedFlags = [...state.dropped].sort((a, b) => a[0] - b[0]).map(([uid, d]) => ({uid, flags: d.flags, reason: d.reason}))
  report.notes = [...state.notes]
  if (report.outcome !== 'failed' && (report.skipped.length > 0 || state.unresolved > 0)) report.outcome = 'incomplete'
  if (report.outcome === 'incomplete') env.failures.record(ExitCode.INCOMPLETE)
  if (report.outcome === 'failed') env.failures.record(report.error!.exitCode)
  report.seconds = secondsSince(started)
  if (report.outcome !== 'failed') {
    logger.info(
      `[${job.source}] → '${report.destination}': ${report.uploaded} uploaded, ${report.alreadyPresent} already there, ${report.adopted} adopted` +
        (report.flagsUpdated > 0 ? `, ${report.flagsUpdated} flag updates` : '') +
        (report.deleted > 0 ? `, ${report.deleted} deleted` : '') +
        (report.skipped.length > 0 ? `, ${report.skipped.length} NOT uploaded` : ''),
    )
  }
  return {report, unreachable}
}

/**
 * The folder's `.restore` map, read only (copy, mirror and migrate write `.mirror` maps): which of
 * its entries are restored copies of others (src/store/message-identity.ts). A damaged one is only warned
 * about: the pairs the backup recorded still apply.
 */
async function readRestoreMap(folder: FolderStore, logger: Logger): Promise<UploadMap | undefined> {
  try {
    return await UploadMap.read(folder.paths.base, 'restore')
  } catch (error) {
    if (!(error instanceof DamagedError)) throw error
    logger.warn(`${error.message}; the restored copies it shows are not known to this run`)
    return undefined
  }
}

async function closeQuietly(map: UploadMap | undefined, logger: Logger): Promise<void> {
  try {
    await map?.close()
  } catch (error) {
    // The journal holds everything recorded; the next run replays it.
    logger.warn(`could not fold the upload map: ${(error as Error).message}`)
  }
}
