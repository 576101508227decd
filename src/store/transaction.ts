/**
 * A transaction on one folder (docs/design.md, "Transactions and savepoints"). It appends
 * messages, replaces flags and records server state; savepoints commit what it has done so far
 * through the journal; commit() folds everything into the `.imap`; rollback() truncates the
 * mbox back to the last savepoint and lets recovery fold what was committed.
 *
 * A message is encoded as its bytes arrive (openMessage(), message-append.ts; append() for one
 * held in memory) into the buffer of the mbox's tail (mbox-tail.ts), which is written to the mbox
 * when it fills and at every savepoint. What the next savepoint commits is kept apart
 * (pending-changes.ts). The three strategies differ in how long message bytes may wait in memory
 * and when a savepoint happens (savepoint-pace.ts):
 *   direct          group commit: every complete message starts a savepoint, or joins the next
 *                   one if a savepoint is running, without waiting for it (group-commit.ts);
 *   delay_metadata  savepoints every N messages / M bytes / T s;
 *   delay_all       bodies held in memory up to delayAllMaxBytes, then a savepoint.
 * The order of the writes, fsyncs, truncates and journal appends is that of docs/design.md ("Write
 * order", "Recovery"): a savepoint's in savepoint.ts, a rollback's and a commit's here (I1, I7).
 */
import type {FileHandle} from 'node:fs/promises'
import {InternalError, localIoError} from '../shared/errors.js'
import type {JournalWriter} from './journal.js'
import type {FolderServerState} from './metadata.js'
import {serverStateRecord} from './journal-records.js'
import {appendChunks, appendWhole, type IncomingMessage, type MessageAppend, type TransactionHost, type TransactionStats} from './transaction-types.js'
import {toStoredFlags} from './flags.js'
import type {TransactionTuning} from './tuning.js'
import {GroupCommit} from './group-commit.js'
import {MboxTail} from './mbox-tail.js'
import {messageAppend, type AppendTarget} from './message-append.js'
import {PendingChanges} from './pending-changes.js'
import {Savepoints} from './savepoint.js'
import {SavepointPace} from './savepoint-pace.js'

type State = 'open' | 'committed' | 'rolled-back'

export class Transaction {
  private state: State = 'open'
  /** The failure that rolled the transaction back (abandon), reported to every later call. */
  private abandonedBy: unknown
  /** The rollback under way or done: a second caller waits for the same one. */
  private rollingBack: Promise<void> | undefined
  private readonly pace: SavepointPace
  private readonly tail: MboxTail
  private readonly changes = new PendingChanges()
  private readonly group: GroupCommit
  /** What a message being appended asks of the transaction (made once, not per message). */
  private readonly target: AppendTarget
  /** Takes its savepoints, in the write order of docs/design.md. */
  private readonly savepoints: Savepoints
  /** The message being appended, if any (one at a time: they share the buffer). */
  private appending: MessageAppend | undefined
  readonly stats: TransactionStats = {appended: 0, appendedBytes: 0, flagUpdates: 0, savepoints: 0}

  constructor(
    private readonly host: TransactionHost,
    mbox: FileHandle,
    private readonly journal: JournalWriter,
    readonly id: string,
    tuning: TransactionTuning,
    start: number,
  ) {
    this.pace = new SavepointPace(tuning)
    this.tail = new MboxTail(mbox, start, this.pace.bufferCap)
    const {changes, pace, tail, stats} = this
    this.savepoints = new Savepoints({host, journal, tail, changes, pace, stats, flush: () => this.flush(), abandon: (cause) => this.abandon(cause), assertOpen: () => this.assertOpen()})
    this.group = new GroupCommit(() => this.savepoints.take(), () => this.state === 'open')
    this.target = {
      out: this.tail.out,
      savepointBefore: (sizeHint) => this.pace.savepointBefore(this.tail.out.held, sizeHint),
      savepoint: () => this.savepoint(),
      full: () => this.tail.full,
      flushFull: () => this.flushFull(),
      cutBackTo: (offset) => this.cutBackTo(offset),
      ended: () => {
        this.appending = undefined
      },
      completed: (message, offset, length, record) => {
        this.appending = undefined
        this.tail.end = offset + length
        this.afterAppend(message, offset, length, record)
        return this.afterMessage()
      },
    }
  }

  get isOpen(): boolean {
    return this.state === 'open'
  }

  /**
   * Throws why the transaction is no longer open (the failed write that abandoned it, exit 8 for
   * a full disk). A caller that finds it closed must not begin another on the folder in its
   * place: the abandoned one's rollback may still be folding its journal (I7). Found by
   * test/reliability/disk-full.test.ts (seed 312714216: EEXIST on the journal, exit 70).
   */
  assertUsable(): void {
    this.assertOpen()
  }

  /** True if the UID is committed or appended in this transaction. */
  has(uid: number): boolean {
    return this.changes.has(uid) || this.host.meta.messages.has(uid)
  }

  /**
   * Starts appending message `uid`, whose bytes arrive in pieces (from the connection, or a large
   * message in chunks). `sizeHint` (the size the server announced) lets delay_all take its
   * savepoint before a message that would overflow its buffer.
   */
  openMessage(uid: number, sizeHint = 0): MessageAppend {
    this.beforeAppend(uid)
    if (this.appending !== undefined) throw new InternalError(`UID ${uid}: another message is still being appended`)
    this.appending = messageAppend(this.target, uid, this.tail.end, sizeHint)
    return this.appending
  }

  /** Appends a message held in memory. */
  async append(message: IncomingMessage, source: Buffer): Promise<void> {
    await appendWhole(this.openMessage(message.uid, source.length), message, source)
  }

  /** Appends a message whose bytes arrive in chunks (large messages; appendChunks). */
  async appendStream(message: IncomingMessage, chunks: AsyncIterable<Buffer>, sizeHint = 0): Promise<void> {
    await appendChunks(this.openMessage(message.uid, sizeHint), message, chunks)
  }

  /** Replaces the stored flags of a message (committed at the next savepoint). */
  async updateFlags(uid: number, imapFlags: readonly string[]): Promise<void> {
    this.assertOpen()
    if (!this.has(uid)) throw new InternalError(`flag update for UID ${uid}, which is not in the folder`)
    this.changes.add({t: 'f', uid, flags: toStoredFlags(imapFlags)})
    this.stats.flagUpdates++
    this.pace.count(0)
    await this.maybeSavepoint()
  }

  /** Records the server state the folder is complete up to (committed with the next savepoint). */
  setServerState(state: FolderServerState): void {
    this.assertOpen()
    this.changes.add(serverStateRecord(state))
  }

  /**
   * Records that stored messages are copies mailkeep restored of other stored messages of the
   * folder (`mailkeep_restored`, committed with the next savepoint). It goes in an `s` record,
   * whose unknown keys an older mailkeep ignores, so a journal written here stays readable by it.
   */
  recordRestoredCopies(pairs: ReadonlyArray<readonly [number, number]>): void {
    this.assertOpen()
    if (pairs.length > 0) this.changes.add({t: 's', restored: pairs.map(([c, o]) => [c, o])})
  }

  /** Commits everything done so far (docs/design.md, "Write order", a savepoint). */
  async savepoint(): Promise<void> {
    await this.synced()
    this.assertOpen()
    await this.savepoints.take()
  }

  /**
   * direct: resolves once every complete message is committed by the savepoints running in the
   * background (at once for the other strategies, whose savepoints are not in the background).
   */
  async synced(): Promise<void> {
    await this.group.synced()
  }

  /** Savepoint, then fold the journal into `.imap` and remove it. */
  async commit(): Promise<TransactionStats> {
    try {
      await this.savepoint()
      await this.closeFiles()
      await this.host.fold(this.id)
      this.state = 'committed'
    } catch (error) {
      if (this.state === 'open') await this.rollback().catch(() => {})
      throw error
    }
    this.host.release()
    return this.stats
  }

  /**
   * Drops everything after the last savepoint: truncates the mbox there, then runs recovery,
   * which folds the committed records into `.imap`. If it cannot finish (disk full), the journal
   * stays and the next open completes the job (invariant I7). With `direct`, the savepoints
   * running in the background finish first: every complete message stays.
   */
  async rollback(): Promise<void> {
    // Abandoned after a failed write: wait for that rollback to finish, not start another.
    if (this.state !== 'open') return await this.rollbackNow()
    await this.synced()
    // Any strategy: a savepoint the download awaits finishes its fsync and journal append first.
    await this.savepoints.settled()
    await this.rollbackNow()
  }

  private rollbackNow(): Promise<void> {
    if (this.state === 'committed') return Promise.resolve()
    this.rollingBack ??= this.rollBackOnce()
    return this.rollingBack
  }

  private async rollBackOnce(): Promise<void> {
    this.state = 'rolled-back'
    this.tail.dropBuffered()
    this.appending = undefined
    this.changes.drop()
    try {
      const dropped = await this.tail.cutToSavepoint()
      if (dropped > 0) this.host.logger.info('rolled back to the last savepoint', {droppedBytes: dropped})
    } finally {
      await this.closeFiles()
      try {
        await this.host.recover()
      } finally {
        this.host.release()
      }
    }
  }

  private beforeAppend(uid: number): void {
    this.assertOpen()
    // I9: a UID appears at most once in a folder.
    if (this.has(uid)) throw new InternalError(`UID ${uid} is already stored in this folder`)
  }

  private afterAppend(message: IncomingMessage, offset: number, length: number, record: {size: number; appended: number; eol: unknown}): void {
    this.changes.stage(message, offset, length, record)
    this.pace.count(length)
    this.stats.appended++
    this.stats.appendedBytes += length
  }

  /**
   * After a complete message: a full buffer is written out, and the savepoint the strategy wants
   * is taken. Most messages need neither, and then no promise is made.
   */
  private afterMessage(): void | Promise<void> {
    if (this.pace.direct) {
      this.group.kick()
      return
    }
    const full = this.tail.full
    const due = this.pace.due
    if (!full && !due) return
    return (async () => {
      if (full) await this.flush()
      if (due) await this.savepoint()
    })()
  }

  private async maybeSavepoint(): Promise<void> {
    if (this.pace.direct) this.group.kick()
    else if (this.pace.due) await this.savepoint()
  }

  /** A full buffer is written out, after the savepoint running in the background (direct): one writer at a time. */
  private async flushFull(): Promise<void> {
    await this.synced()
    this.assertOpen()
    if (this.tail.full) await this.flush()
  }

  /**
   * Writes the buffered bytes to the file. A failure rolls back: the pending entries point at
   * bytes that never reached the file, so a later savepoint must not commit them (I1).
   */
  private async flush(): Promise<void> {
    try {
      await this.tail.flush()
    } catch (error) {
      const failure = localIoError(error, 'append to', this.host.mboxPath)
      await this.abandon(failure)
      throw failure
    }
  }

  /**
   * Rolls back after a failed write or sync, so that the transaction is no longer open: the
   * caller (and the engine, which asks `isOpen`) cannot go on appending to a file whose end is
   * not where the pending entries say. Found by test/reliability (a write failing mid-run).
   */
  private async abandon(cause: unknown): Promise<void> {
    // Whoever finds the transaction closed from now on is told why (a disk full is exit 8, not
    // an internal error): a message being appended meanwhile meets it before the caller of the
    // failed write does. Found by test/reliability/disk-full.test.ts (seed 86048572).
    this.abandonedBy ??= cause
    // Not rollback(): a background savepoint calls this, and rollback() waits for those.
    await this.rollbackNow().catch((error: unknown) => this.host.logger.warn(`rollback after a failed write did not finish: ${(error as Error).message}`))
  }

  /** Cuts a message that could not be completed off again; the transaction stays usable. */
  private async cutBackTo(offset: number): Promise<void> {
    this.appending = undefined
    // A savepoint in the background may be writing the buffer: where the file ends is known after it.
    await this.synced()
    if (this.state !== 'open') return
    if (this.tail.cutBuffered(offset)) return
    try {
      await this.tail.truncateFile(offset)
    } catch (error) {
      // The file can no longer be trusted to end where we think: only a rollback is safe now.
      await this.rollback().catch(() => {})
      throw localIoError(error, 'truncate', this.host.mboxPath)
    }
  }

  private async closeFiles(): Promise<void> {
    await Promise.allSettled([this.tail.close(), this.journal.close()])
  }

  private assertOpen(): void {
    if (this.state === 'open') return
    if (this.group.failure !== undefined) throw this.group.failure
    if (this.abandonedBy !== undefined) throw this.abandonedBy
    throw new InternalError(`transaction is ${this.state}`)
  }
}
