/**
 * The backup of one folder (docs/backup.md, "The algorithm", "A folder"): skip it from STATUS
 * when nothing changed, else EXAMINE, follow a UIDVALIDITY change, download what is missing,
 * bring flags up to date, record the server state, commit, and in mirror mode remove what the
 * server no longer has.
 *
 * One transaction per folder run. When the link breaks, a savepoint keeps every message
 * appended so far, a NEW connection is opened with backoff, and the folder resumes: the plan is
 * recomputed from a fresh EXAMINE and `has(uid)`, so nothing is fetched or stored twice.
 */
import type {ImapSession, OpenedFolder} from '../../imap/types.js'
import {peekFolderHead} from '../../store/folder-peek.js'
import {FolderStore} from '../../store/folder-store.js'
import type {FolderServerState} from '../../store/metadata.js'
import type {TransactionTuning} from '../../store/tuning.js'
import {IncompleteError, InterruptedError, LocalIoError, MissingFolderError} from '../../shared/errors.js'
import {isInterruption, stopError} from '../../shared/context.js'
import type {Logger} from '../../shared/logger.js'
import type {FolderReport} from './types.js'
import {completeUpTo, expungesKnownSince, flagPolicy, flagsFollow, missingAbove, missingOf, validUidNext, type BatchLimits, type SyncMode} from './folder-plan.js'
import {FolderRun} from './folder-run.js'
import {syncFlags} from './flag-sync.js'
import {downloadMessages, FolderChangedError, OversizedMessages, ReconnectForLiteral} from './message-fetcher.js'
import {recordMovedAside} from './placeholder-guard.js'
import {localOnlyUids} from './mirror-cleanup.js'
import {originalsOfPlaceholders} from '../../store/placeholders.js'
import {endsRun, errorSummary, secondsSince} from '../access/report.js'
import {emptyFolderReport} from './folder-report.js'
import {isRetryable, withRetries} from '../access/retry.js'
import type {FolderEnv, FolderJob, FolderResult} from './folder-env.js'
import {failReport} from './folder-report.js'
import {localState, recordedState, namingUnrecorded, skipsUnchanged, unchangedWithoutOpening} from './folder-skip.js'
import {recordRestoredCopies} from './restored-copies.js'

export type {FolderEnv, FolderJob, FolderResult} from './folder-env.js'

/**
 * Byte bound of one FETCH batch. The IMAP layer streams FETCH responses with backpressure and
 * holds about one message at a time (docs/imap.md, "Buffering"; measured in docs/backup.md), so
 * this is only a safety net, should a FETCH answer ever be held whole: with the default
 * multi_fetch_size of 100, messages above 640 KiB are packed by their size (folder-plan.ts).
 */
export const BATCH_MAX_BYTES = 64 * 1024 * 1024

/** Restarts after the UIDVALIDITY changed mid-folder, before the folder is given up. */
const MAX_RESTARTS = 3

export async function backupFolder(env: FolderEnv, job: FolderJob): Promise<FolderResult> {
  const started = Date.now()
  const report = emptyFolderReport(job.name)
  const logger = env.logger.child({folder: job.name})
  let folder: FolderStore
  let checked: Awaited<ReturnType<typeof unchangedWithoutOpening>> = 'unknown'
  try {
    // An unchanged folder is skipped without opening it (folder-peek.ts): the server is asked
    // from the head of its metadata, and only a folder it did not change has its files checked
    // here (a changed one is opened, which checks them).
    const peeked = await peekFolderHead(env.store.root, job.name)
    if (peeked !== undefined) {
      checked = await unchangedWithoutOpening(env, job, {exists: true, ...peeked.state}, logger)
      // Files that fail the check are opened: opening says what is wrong with them.
      if (checked === 'unchanged' && !(await peeked.verify())) checked = 'unknown'
      if (checked === 'unchanged') {
        report.outcome = 'unchanged'
        report.seconds = secondsSince(started)
        return {report}
      }
    }
    // Opened here rather than through AccountStore.folder(), which keeps every folder (and its
    // metadata) in memory until the account is closed; this one is released when done.
    folder = await FolderStore.open(env.store.root, job.name, {mode: 'write', logger: env.logger, account: env.account.username})
  } catch (error) {
    if (error instanceof InterruptedError) throw error
    failReport(report, error, logger)
    report.seconds = secondsSince(started)
    return {report, stop: endsRun(error)}
  }
  const backup = new FolderBackup(env, job, folder, report, logger, checked === 'changed')
  try {
    return await backup.execute()
  } finally {
    backup.finish()
    await folder.close().catch((error: unknown) => logger.warn(`could not close the folder cleanly: ${(error as Error).message}`))
    report.seconds = secondsSince(started)
  }
}

class FolderBackup {
  private readonly run: FolderRun
  private readonly mode: SyncMode
  private readonly mirror: boolean
  private readonly oversized = new OversizedMessages()
  private firstAttempt: boolean
  private announced = false

  constructor(
    private readonly env: FolderEnv,
    private readonly job: FolderJob,
    private readonly folder: FolderStore,
    private readonly report: FolderReport,
    private readonly logger: Logger,
    /** The skip check already ran on the same recorded state and found a change. */
    checkedChanged = false,
  ) {
    this.firstAttempt = !checkedChanged
    const {config} = env
    const tuning: TransactionTuning = {
      strategy: config.downloadStrategy,
      savepointMessages: config.tuning.savepointMessages,
      savepointBytes: config.tuning.savepointBytes,
      savepointSeconds: config.tuning.savepointSeconds,
      delayAllMaxBytes: config.tuning.delayAllMaxBytes,
    }
    this.run = new FolderRun(folder, report, tuning, logger)
    this.mirror = env.account.mirrorMode
    this.mode = {flags: flagPolicy({mirror: this.mirror, refresh: env.refresh, freezeFlags: config.freezeFlags}), mirror: this.mirror, condstore: false}
  }

  finish(): void {
    this.run.endProgress()
    this.report.failedMessages = [...this.run.failed].map(([uid, reason]) => ({uid, reason}))
    if (this.report.outcome === 'ok' && this.report.failedMessages.length > 0) {
      const n = this.report.failedMessages.length
      this.report.outcome = 'failed'
      this.report.error = errorSummary(
        new IncompleteError(`${n} message(s) could not be saved`, {hint: 'rerun: they are tried again; if one keeps failing, its reason says why'}),
      )
    }
  }

  async execute(): Promise<FolderResult> {
    try {
      return await this.attempts()
    } catch (error) {
      // An error while handling another one (a savepoint or commit on a full disk).
      if (isInterruption(error, this.env.ctx.signal)) throw error
      return this.failed(error)
    }
  }

  /**
   * The folder on one connection after another (withRetries): a broken link costs one of the
   * policy's reconnects, and work saved since the last failure renews them.
   */
  private async attempts(): Promise<FolderResult> {
    const {retry, ctx} = this.env
    const loop = {restarts: 0, connected: false}
    try {
      return await withRetries(() => this.untilLinkBreaks(loop), {
        policy: retry,
        signal: ctx.signal,
        // Work was saved since the last failure: a flaky link that still makes progress is
        // not "failing", so the budget starts again. Each renewal needs a saved message.
        progressed: () => {
          const progressed = this.run.progressed
          this.run.progressed = false
          return progressed
        },
        onRetry: (error, wait) =>
          this.logger.warn(
            `[${this.job.name}] connection lost (${(error as Error).message}); reconnecting in ${(wait.delayMs / 1000).toFixed(1)} s (${wait.failure} of ${wait.of})`,
          ),
      })
    } catch (error) {
      // A stop, or an error while handling another one: execute() decides.
      if (!isRetryable(error)) throw error
      this.logger.error(`[${this.job.name}] giving up after ${retry.attempts} reconnect(s): ${(error as Error).message}`)
      const result = await this.failed(error)
      return loop.connected ? result : {...result, unreachable: true}
    }
  }

  /**
   * The folder on one connection: its result, or the broken link rethrown for withRetries once
   * a savepoint has kept every message appended so far.
   */
  private async untilLinkBreaks(loop: {restarts: number; connected: boolean}): Promise<FolderResult> {
    const {pool, ctx} = this.env
    for (;;) {
      loop.connected = false
      try {
        const session = await pool.session()
        loop.connected = true
        this.mode.condstore = session.capabilities.condstore
        if (this.firstAttempt) {
          this.firstAttempt = false
          if (await this.unchanged(session)) {
            this.report.outcome = 'unchanged'
            return {report: this.report}
          }
        }
        await this.attempt(session)
        return {report: this.report}
      } catch (error) {
        if (isInterruption(error, ctx.signal)) {
          await this.run.rollback().catch(() => {})
          throw stopError(error, ctx.signal)
        }
        // The maximum duration (a DeadlineError) falls through to failed(): what is complete is
        // committed, as for any error that is not the link's or the disk's.
        if (error instanceof FolderChangedError && loop.restarts < MAX_RESTARTS) {
          loop.restarts++
          await this.run.savepoint()
          continue
        }
        if (error instanceof ReconnectForLiteral) {
          // Not a failure of the link: the messages concerned are now downloaded another way
          // (message-fetcher.ts), and each such reconnect moves a UID on, so they are bounded.
          pool.discard()
          try {
            await this.run.savepoint()
          } catch (saveError) {
            return this.failed(saveError)
          }
          this.logger.warn(`[${this.job.name}] ${error.message}`)
          continue
        }
        if (error instanceof MissingFolderError) {
          await this.keepWork()
          this.logger.warn(`Folder '${this.job.name}' does not exist on server`)
          this.logger.info(`Skipping backup for folder '${this.job.name}' as it does not exist`)
          this.report.note = 'does not exist on the server (any more)'
          return {report: this.report}
        }
        if (isRetryable(error)) {
          pool.discard()
          try {
            await this.run.savepoint()
          } catch (saveError) {
            return this.failed(saveError)
          }
          throw error
        }
        return this.failed(error)
      }
    }
  }

  /** The fast path: STATUS says nothing changed, so the folder is not even selected. */
  private unchanged(session: ImapSession): Promise<boolean> {
    return skipsUnchanged(this.job, recordedState(this.folder), this.mode, session, this.logger)
  }

  private async attempt(session: ImapSession): Promise<void> {
    const {account, config, ctx} = this.env
    const before = localState(this.folder)
    const qresync =
      session.capabilities.qresync && before.exists && before.uidValidity !== undefined && before.highestModseq !== undefined
        ? {uidValidity: before.uidValidity, highestModseq: before.highestModseq}
        : undefined
    const opened = await session.examine(this.job.name, qresync === undefined ? undefined : {qresync})
    await this.adoptUidValidity(opened)
    // The naming goes with the first savepoint, so a restore after the server is gone has it.
    const naming = await this.namingToRecord(session)
    if (naming !== undefined) await this.run.setServerState(naming)

    const state = localState(this.folder)
    const complete = validUidNext(opened.uidNext) ? completeUpTo(state, opened) : undefined
    const storedUids = this.folder.messages.distinctUids()
    const storedCount = storedUids.length
    const followFlags = flagsFollow(this.mode, opened.highestModseq)
    const storedBefore = followFlags ? storedUids : []
    const has = (uid: number): boolean => this.run.has(uid)

    // What is missing (docs/backup.md, "A folder", step 4), then the download (step 5).
    let serverUids: Set<number> | undefined
    let uids: number[]
    if (opened.exists === 0) {
      uids = []
      serverUids = new Set()
    } else if (complete !== undefined) {
      uids = opened.uidNext > complete ? missingAbove(await session.searchUids({uidRange: `${complete}:*`}), complete, has) : []
    } else {
      const all = await session.searchUids()
      uids = missingOf(all, has)
      if (this.mirror) serverUids = new Set(all)
    }
    this.announce(uids.length)
    const limits: BatchLimits = {messages: account.multiFetchSize, bytes: BATCH_MAX_BYTES, largeBytes: config.tuning.largeMessageBytes}
    await downloadMessages(
      {
        run: this.run,
        session,
        folder: this.job.name,
        uidValidity: opened.uidValidity,
        limits,
        resetSeen: account.resetSeenFlagsAfterFetch,
        signal: ctx.signal,
        logger: this.logger,
        oversized: this.oversized.forUidValidity(opened.uidValidity),
      },
      uids,
    )
    await this.recordRestoredCopies()

    // Flags (step 6).
    // Expunges known from QRESYNC: VANISHED since the mod-sequence the EXAMINE gave, which counts
    // for mirror mode only when it is the one up to which mirror mode last removed expunges.
    const mirrorSince = this.mirror && complete !== undefined ? expungesKnownSince(state) : undefined
    let vanished: number[] | undefined
    if (qresync !== undefined && opened.vanished !== undefined && mirrorSince !== undefined && mirrorSince === qresync.highestModseq) vanished = [...opened.vanished]
    if (followFlags) {
      const flags = await syncFlags({
        run: this.run,
        session,
        opened,
        condstore: session.capabilities.condstore,
        complete,
        flagsModseq: state.flagsModseq,
        qresyncSince: qresync?.highestModseq,
        storedBefore,
        signal: ctx.signal,
      })
      this.logger.debug(`[${this.job.name}] flags checked (${flags.method}); ${this.report.flagUpdates} updated`)
      // CHANGEDSINCE with QRESYNC's VANISHED modifier (RFC 7162 §3.2.6) counts the same way.
      if (vanished === undefined && flags.since !== undefined && flags.since === mirrorSince) vanished = [...flags.vanished]
    }

    // Mirror mode: what the server no longer has (step 7), found while the session is ours.
    let toDelete: number[] = []
    if (this.mirror) {
      await this.run.savepoint() // so that this run's messages are among the stored ones
      toDelete = await localOnlyUids({session, opened, stored: this.folder.messages.distinctUids(), storedCount, vanished, serverUids, complete})
      const kept = await originalsOfPlaceholders(this.folder, toDelete) // B5: the only real copy
      toDelete = toDelete.filter((uid) => !kept.has(uid))
    }

    // Server state (step 8): only when every message of the folder is saved, so that a message
    // that failed is looked for again next time. Values are those of the EXAMINE, read before
    // anything was fetched. With deletions pending, HIGHESTMODSEQ (and the mirror checkpoint)
    // wait until they are done, so that a failed deletion is found again through VANISHED.
    // The checkpoints say what this run did: flags followed up to HIGHESTMODSEQ, expunges
    // removed up to it (docs/design.md, `flagsmodseq`, `mirrormodseq`; docs/backup.md B4, B1).
    if (this.run.failed.size === 0) {
      const next: FolderServerState = {}
      if (validUidNext(opened.uidNext)) next.uidNext = opened.uidNext
      const modseq = opened.highestModseq
      if (modseq !== undefined && toDelete.length === 0) {
        next.highestModseq = modseq
        if (this.mirror) next.mirrorModseq = modseq
      }
      if (modseq !== undefined && followFlags) next.flagsModseq = modseq
      const changed =
        (next.uidNext !== undefined && next.uidNext !== state.uidNext) ||
        (next.highestModseq !== undefined && next.highestModseq !== state.highestModseq) ||
        (next.flagsModseq !== undefined && next.flagsModseq !== state.flagsModseq) ||
        (next.mirrorModseq !== undefined && next.mirrorModseq !== state.mirrorModseq)
      if (changed) await this.run.setServerState(next)
    }
    await this.run.commit()

    if (toDelete.length > 0) {
      this.logger.info('Deleting messages only present locally', {messages: toDelete.length})
      this.report.deleted += await this.folder.removeMessages(toDelete)
      if (this.run.failed.size === 0 && opened.highestModseq !== undefined) {
        await this.run.setServerState({highestModseq: opened.highestModseq, mirrorModseq: opened.highestModseq})
        await this.run.commit()
      }
    }
  }

  /** Restored copies this backup downloaded, recorded (restored-copies.ts). */
  private async recordRestoredCopies(): Promise<void> {
    await recordRestoredCopies(this.run, this.folder, this.env.account.username, this.job.name, this.logger)
  }

  /** True when the delimiter LIST gave or the namespace prefix is not what the folder records. */
  private namingUnrecorded(): boolean {
    return namingUnrecorded(this.job, this.folder.serverState)
  }

  /**
   * What the folder's metadata should record about its name and does not (docs/design.md,
   * `mailkeep.delimiter`, `mailkeep.prefix`): LIST's delimiter whenever it differs, the prefix
   * once (NAMESPACE is asked only then).
   */
  private async namingToRecord(session: ImapSession): Promise<Pick<FolderServerState, 'delimiter' | 'prefix'> | undefined> {
    if (!this.namingUnrecorded()) return undefined
    const stored = this.folder.serverState
    const naming: Pick<FolderServerState, 'delimiter' | 'prefix'> = {}
    if (this.job.delimiter !== undefined && (this.job.delimiter ?? '') !== stored.delimiter) naming.delimiter = this.job.delimiter ?? ''
    if (stored.prefix === undefined) naming.prefix = await this.env.personalPrefix(session)
    return naming
  }

  /**
   * compat §4.6: a new folder starts empty; a changed UIDVALIDITY moves the old backup aside,
   * unless that backup is empty (it then starts afresh in place).
   */
  private async adoptUidValidity(opened: OpenedFolder): Promise<void> {
    if (!this.folder.exists) {
      await this.folder.initialize(opened.uidValidity)
      return
    }
    if (this.folder.uidValidity === opened.uidValidity) return
    const old = this.folder.uidValidity
    // Savepoints made under the old UIDVALIDITY stay: they move with the old backup.
    await this.run.rollback()
    // An empty backup has nothing to keep aside (issue 11 item 4: Courier gives an empty folder
    // a new UIDVALIDITY in every session, which made a `<name>-<uidvalidity>` pair per run).
    if (await this.folder.restartEmpty(opened.uidValidity)) return
    this.report.renamedTo = await this.folder.renameAway({
      beforeRename: (target) => recordMovedAside(this.env.store.root, this.env.guard.record, this.job.name, target),
    })
    this.logger.info(`[${this.job.name}] UIDVALIDITY changed from ${old} to ${opened.uidValidity}; the old backup is now '${this.report.renamedTo}' and the folder is downloaded again`)
    await this.folder.initialize(opened.uidValidity)
  }

  private announce(count: number): void {
    const name = this.job.name
    if (count > 0) this.run.startProgress(this.env.ctx.progress, `${this.env.account.username}: ${name}`, count)
    if (!this.announced) {
      this.announced = true
      if (count > 0) this.logger.info(`[${name}] ${count} new messages`)
      else this.logger.debug(`[${name}] no new messages on server`)
    } else if (count > 0) {
      this.logger.info(`[${name}] resuming: ${count} message(s) still to download`)
    }
  }

  /** Commits what is complete (without server state), e.g. before giving up on a folder. */
  private async keepWork(): Promise<void> {
    try {
      await this.run.commit()
    } catch (error) {
      await this.run.rollback().catch(() => {})
      if (error instanceof LocalIoError || error instanceof InterruptedError) throw error
      this.logger.error(`could not commit the work done: ${(error as Error).message}`)
    }
  }

  /**
   * The folder failed. A broken link or a local I/O error rolls back to the last savepoint
   * (nothing complete is lost: a savepoint was taken when the link broke); any other error
   * (the server refused a command, damaged files) keeps what is complete. A local I/O error
   * ends the run.
   */
  private async failed(error: unknown): Promise<FolderResult> {
    if (error instanceof LocalIoError || isRetryable(error)) await this.run.rollback().catch(() => {})
    else {
      try {
        await this.keepWork()
      } catch (commitError) {
        error = commitError
      }
    }
    failReport(this.report, error, this.logger, isRetryable(error) ? 'rerun; the folder resumes from its last savepoint' : undefined)
    return {report: this.report, stop: endsRun(error)}
  }
}
