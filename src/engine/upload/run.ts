/**
 * What restore, copy, mirror and migrate share around the per-folder upload (folder-upload.ts): the
 * destination's connection with reconnects, the source backup opened read-only with the upload
 * lock, one folder at a time with retries on a new connection, and the report.
 */
import type {Account, Config} from '../../config/index.js'
import type {Connect, FolderStatus, ImapSession, NamespaceEntry} from '../../imap/types.js'
import {DamagedError, InterruptedError, RemoteError} from '../../shared/errors.js'
import {ExitCode} from '../../shared/exit-codes.js'
import {isStop, rethrowIfStopped, throwIfAborted, type RunContext} from '../../shared/context.js'
import type {Logger} from '../../shared/logger.js'
import type {AccountStore} from '../../store/account-store.js'
import type {AccountLock} from '../../store/lock.js'
import type {FolderStore} from '../../store/folder-store.js'
import {UploadMap, type UploadMapKind} from '../../store/upload-map.js'
import type {RetryPolicy} from '../access/types.js'
import {accountSessionPool} from '../access/account-session.js'
import {destinationName, type NamingSide} from './folder-mapping.js'
import {type FailureLog, folderSummary, secondsSince} from '../access/report.js'
import {isRetryable, retryPolicy, withRetries} from '../access/retry.js'
import type {SessionPool} from '../access/session-pool.js'
import type {RecordedNaming, SourceNaming} from './source-naming.js'
import type {TransferFolderReport, TransferReport, UploadTuning} from './types.js'
import {uploadFolder} from './folder-upload.js'
import {FolderUploadState, type UploadPolicy} from './folder-upload-input.js'
import {keptAsideOrigin, originsFirst} from '../../store/kept-aside.js'
import {placeholderUids} from '../../store/placeholders.js'

export interface LinkOptions {
  connect?: Connect
  retry?: Partial<RetryPolicy>
  traceProtocol?: boolean
}

/** The connection options among a command's options (accountSessionPool takes no others). */
export function linkOptions(options: LinkOptions): LinkOptions {
  const out: LinkOptions = {}
  if (options.connect !== undefined) out.connect = options.connect
  if (options.retry !== undefined) out.retry = options.retry
  if (options.traceProtocol !== undefined) out.traceProtocol = options.traceProtocol
  return out
}

/**
 * STATUS of a destination folder, creating it when it does not exist. A folder that exists only
 * as a \Noselect parent (Dovecot answers NO to STATUS for it) counts as missing: CREATE turns it
 * into a real folder (RFC 3501 §6.3.3).
 */
export async function statusCreating(session: ImapSession, name: string): Promise<{status: FolderStatus; created: boolean}> {
  try {
    return {status: await session.status(name), created: false}
  } catch (error) {
    if (!(error instanceof RemoteError)) throw error
    try {
      await session.createFolder(name)
    } catch (createError) {
      // Another client may have created it since the STATUS: Cyrus answers a bare "NO Mailbox
      // already exists", without RFC 5530's [ALREADYEXISTS] (which the CREATE command already
      // takes as success). A folder that STATUS now finds is that folder: used, not created.
      if (!(createError instanceof RemoteError)) throw createError
      const status = await session.status(name).catch(() => undefined)
      if (status === undefined) throw createError
      return {status, created: false}
    }
    return {status: await session.status(name), created: true}
  }
}

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

/**
 * How the folders of a run are named: the source side per folder (recorded in its metadata, or
 * from options or the server: source-naming.ts), the destination side for all.
 */
export interface RunNaming {
  source: SourceNaming
  destination: NamingSide
  inboxToInbox: boolean
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

/** The destination name of a folder whose source side is `side`. */
export function targetName(name: string, side: NamingSide, naming: RunNaming): string {
  return destinationName(name, {source: side, destination: naming.destination, inboxToInbox: naming.inboxToInbox})
}

export function emptyTransferFolderReport(source: string, destination: string): TransferFolderReport {
  return {
    source,
    destination,
    outcome: 'ok',
    created: false,
    uploaded: 0,
    bytes: 0,
    alreadyPresent: 0,
    adopted: 0,
    flagsUpdated: 0,
    deleted: 0,
    placeholders: 0,
    skipped: [],
    droppedFlags: [],
    notes: [],
    seconds: 0,
  }
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
export function namingReport(naming: RunNaming): TransferReport['naming'] {
  const source = naming.source.summary().side
  return {
    sourcePrefix: source.prefix,
    sourceDelimiter: source.delimiter,
    destinationPrefix: naming.destination.prefix,
    destinationDelimiter: naming.destination.delimiter,
  }
}

/** What the folder's metadata records about its naming (nothing for a folder not backed up). */
function recordedNaming(folder: FolderStore | undefined): RecordedNaming {
  if (folder?.exists !== true) return {}
  const {delimiter, prefix} = folder.serverState
  return {...(delimiter === undefined ? {} : {delimiter}), ...(prefix === undefined ? {} : {prefix})}
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

/** A folder not attempted because the destination could not be reached. */
export function notAttempted(source: string, destination: string, cause: TransferFolderReport): TransferFolderReport {
  const report = emptyTransferFolderReport(source, destination)
  report.outcome = 'failed'
  const base = cause.error
  report.error = {name: 'NotAttempted', message: `not uploaded: the destination could not be reached${base === undefined ? '' : ` (${base.message})`}`, exitCode: base?.exitCode ?? ExitCode.INCOMPLETE}
  return report
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
