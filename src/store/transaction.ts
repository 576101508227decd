/**
 * A transaction on one folder (docs/design.md, "Transactions and savepoints"). It appends
 * messages, replaces flags and records server state; savepoints commit what it has done so far
 * through the journal; commit() folds everything into the `.imap`; rollback() truncates the
 * mbox back to the last savepoint and lets recovery fold what was committed.
 *
 * A message is encoded as its bytes arrive (openMessage(); append() for one held in memory) into
 * the transaction's MboxBuffer, which is written to the mbox when it fills and at every
 * savepoint. The three strategies differ in how long message bytes may wait in memory and when a
 * savepoint happens:
 *   direct          group commit: every complete message starts a savepoint, or joins the next
 *                   one if a savepoint is running, without waiting for it (see kick());
 *   delay_metadata  savepoints every N messages / M bytes / T s;
 *   delay_all       bodies held in memory up to delayAllMaxBytes, then a savepoint.
 */
import type {FileHandle} from 'node:fs/promises'
import {InternalError, localIoError} from '../shared/errors.js'
import {writePieces} from '../shared/write-all.js'
import {MboxrdEncoder, WRITER_QUOTING} from './mboxrd/index.js'
import type {JournalRecord, JournalWriter} from './journal.js'
import {MboxBuffer} from './mbox-buffer.js'
import type {FolderServerState} from './metadata.js'
import {MessageTable} from './message-table.js'
import {appendRecords, applyRecords, serverStateRecord} from './journal-records.js'
import {appendChunks, appendWhole, type IncomingMessage, type MessageAppend, type TransactionHost, type TransactionStats} from './transaction-types.js'
import {toStoredFlags} from './flags.js'
import {WRITE_BEHIND_BYTES, type TransactionTuning} from './tuning.js'

type State = 'open' | 'committed' | 'rolled-back'

/** Pieces of a message held in memory that are fed to the encoder at a time (MboxBuffer mirrors up to a slab). */
const FEED_BYTES = 64 * 1024

export class Transaction {
  private state: State = 'open'
  /** Logical end of the mbox: the end of the last complete entry, buffered bytes included. */
  private end: number
  /** End of the mbox at the last savepoint: what a rollback truncates to. */
  private savedEnd: number
  /** Bytes actually handed to the file. */
  private flushedEnd: number
  /** A write to the mbox failed: how much of it reached the file is unknown. */
  private writeFailed = false
  /** When a savepoint failed after its journal write began, the end that journal may claim. */
  private journalMayClaim = 0
  private readonly out = new MboxBuffer(WRITE_BEHIND_BYTES)
  /**
   * Messages appended since the last savepoint, in columns (a savepoint of 1,000 messages keeps
   * no object per message alive until it is committed: they would be promoted and collected
   * late). Their journal records are written before the other pending records: every flag
   * update or server state record applies the same after them, since a flag update names a UID
   * that is already stored or appended.
   */
  private staged = new MessageTable()
  /** The savepoint being committed now (any strategy): rollback() lets it finish first. */
  private savepointRunning: Promise<void> | undefined
  /** Staged messages a savepoint running in the background is committing. */
  private committing: MessageTable | undefined
  /** Flag updates and server state, in order. */
  private pending: JournalRecord[] = []
  private sinceSavepoint = {messages: 0, bytes: 0, at: Date.now()}
  /** Held bytes at which the buffer is written out. */
  private readonly bufferCap: number
  /** The message being appended, if any (one at a time: they share the buffer). */
  private appending: MessageAppend | undefined
  /** direct: the savepoints running in the background (kick()), and whether another is due. */
  private syncing: Promise<void> | undefined
  private syncAgain = false
  /** Why the transaction is no longer open, when a background savepoint failed. */
  private failure: unknown
  readonly stats: TransactionStats = {appended: 0, appendedBytes: 0, flagUpdates: 0, savepoints: 0}

  constructor(
    private readonly host: TransactionHost,
    private readonly mbox: FileHandle,
    private readonly journal: JournalWriter,
    readonly id: string,
    private readonly tuning: TransactionTuning,
    start: number,
  ) {
    this.end = start
    this.savedEnd = start
    this.flushedEnd = start
    this.bufferCap = tuning.strategy === 'delay_all' ? Math.max(tuning.delayAllMaxBytes, 1) : WRITE_BEHIND_BYTES
  }

  get isOpen(): boolean {
    return this.state === 'open'
  }

  /** True if the UID is committed or appended in this transaction. */
  has(uid: number): boolean {
    return this.staged.has(uid) || this.committing?.has(uid) === true || this.host.meta.messages.has(uid)
  }

  /**
   * Starts appending message `uid`, whose bytes arrive in pieces (from the connection, or a large
   * message in chunks). `sizeHint` (the size the server announced) lets delay_all take its
   * savepoint before a message that would overflow its buffer.
   */
  openMessage(uid: number, sizeHint = 0): MessageAppend {
    this.beforeAppend(uid)
    if (this.appending !== undefined) throw new InternalError(`UID ${uid}: another message is still being appended`)
    const offset = this.end
    const encoder = new MboxrdEncoder({}, this.out)
    let first = true
    let done = false
    const fail = async (error: unknown): Promise<never> => {
      done = true
      await this.cutBackTo(offset)
      throw error
    }
    const append: MessageAppend = {
      write: (bytes) => {
        if (done) throw new InternalError(`UID ${uid}: write after the message ended`)
        if (first) {
          first = false
          if (this.tuning.strategy === 'delay_all' && this.out.held > 0 && this.out.held + sizeHint > this.bufferCap) {
            return this.savepoint().then(() => append.write(bytes), fail)
          }
        }
        for (let at = 0; at < bytes.length; at += FEED_BYTES) encoder.write(bytes.length <= FEED_BYTES ? bytes : bytes.subarray(at, at + FEED_BYTES))
        // A message larger than the buffer is written as it comes, never held whole.
        if (this.out.held >= this.bufferCap) return this.flushFull().catch(fail)
      },
      finish: (message) => {
        if (done) throw new InternalError(`UID ${uid}: the message already ended`)
        if (message.uid !== uid) throw new InternalError(`message UID ${message.uid} finishes the append of UID ${uid}`)
        let closed
        try {
          closed = encoder.close()
        } catch (error) {
          return fail(error)
        }
        done = true
        this.appending = undefined
        this.end = offset + closed.length
        this.afterAppend(message, offset, closed.length, closed.record)
        return this.afterMessage()
      },
      abort: async () => {
        if (done) return
        done = true
        this.appending = undefined
        await this.cutBackTo(offset)
      },
    }
    this.appending = append
    return append
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
    this.pending.push({t: 'f', uid, flags: toStoredFlags(imapFlags)})
    this.stats.flagUpdates++
    this.sinceSavepoint.messages++
    await this.maybeSavepoint()
  }

  /** Records the server state the folder is complete up to (committed with the next savepoint). */
  setServerState(state: FolderServerState): void {
    this.assertOpen()
    this.pending.push(serverStateRecord(state))
  }

  /**
   * Records that stored messages are copies mailkeep restored of other stored messages of the
   * folder (`mailkeep_restored`, committed with the next savepoint). It goes in an `s` record,
   * whose unknown keys an older mailkeep ignores, so a journal written here stays readable by it.
   */
  recordRestoredCopies(pairs: ReadonlyArray<readonly [number, number]>): void {
    this.assertOpen()
    if (pairs.length > 0) this.pending.push({t: 's', restored: pairs.map(([c, o]) => [c, o])})
  }

  /** Commits everything done so far (docs/design.md, "Write order", a savepoint). */
  async savepoint(): Promise<void> {
    await this.synced()
    this.assertOpen()
    await this.savepointNow()
  }

  /**
   * direct: resolves once every complete message is committed by the savepoints running in the
   * background (at once for the other strategies, whose savepoints are not in the background).
   */
  async synced(): Promise<void> {
    while (this.syncing !== undefined) await this.syncing
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
    await this.synced()
    // Any strategy: a rollback can be asked for (SIGINT, an error on the connection) while the
    // download awaits a savepoint it started. Its fsync and journal append finish first, so that
    // the rollback truncates to the end they committed; otherwise the truncate could land between
    // the fsync and the journal append, and the journal claim bytes the file no longer has (found
    // by test/reliability/signals.test.ts, seed 1048612877).
    while (this.savepointRunning !== undefined) await this.savepointRunning.catch(() => undefined)
    await this.rollbackNow()
  }

  private async rollbackNow(): Promise<void> {
    if (this.state !== 'open') return
    this.state = 'rolled-back'
    this.out.truncate(0)
    this.appending = undefined
    this.pending = []
    this.staged = new MessageTable()
    const target = Math.max(this.savedEnd, this.journalMayClaim)
    try {
      if (this.flushedEnd > target || this.writeFailed) {
        await this.mbox.truncate(target)
        await this.mbox.datasync()
      }
      const dropped = this.end - target
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

  /** A savepoint now: writes the buffer, fsyncs the mbox, appends the journal (I1). */
  private async savepointNow(): Promise<void> {
    if (this.pending.length === 0 && this.staged.length === 0 && this.end === this.savedEnd) {
      await this.flush()
      this.sinceSavepoint = {messages: 0, bytes: 0, at: Date.now()}
      return
    }
    // Taken together: the records of complete entries, and the end they reach. The buffer may
    // also hold the start of a message being appended (direct): its bytes are written and
    // synced too, but no record claims them, and a rollback or the next open cuts them off.
    const staged = this.staged
    const records = this.pending
    const end = this.end
    this.staged = new MessageTable()
    this.committing = staged
    this.pending = []
    this.sinceSavepoint = {messages: 0, bytes: 0, at: Date.now()}
    const running = this.commitRecords(staged, records, end)
    this.savepointRunning = running
    try {
      await running
    } finally {
      this.committing = undefined
      if (this.savepointRunning === running) this.savepointRunning = undefined
    }
  }

  private async commitRecords(staged: MessageTable, records: JournalRecord[], end: number): Promise<void> {
    await this.flush()
    try {
      await this.mbox.datasync() // I1: bytes are durable before the entries that point at them
    } catch (error) {
      // After a failed fsync the written bytes cannot be trusted to be on disk (a later fsync may
      // succeed without them): no savepoint may ever cover them.
      await this.abandon()
      throw localIoError(error, 'sync', this.host.mboxPath)
    }
    // Only an open transaction commits: a rollback that ran meanwhile (abandon() after a failed
    // write elsewhere) truncated the file, and a record now would claim bytes it cut off.
    this.assertOpen()
    const count = this.host.meta.messages.length + staged.length
    this.journalMayClaim = end
    try {
      await this.journal.append(appendRecords(staged), [...records, {t: 'c', end, count}])
    } catch (error) {
      // The journal may hold part of these records: appending them again would commit them twice.
      await this.abandon()
      throw error
    }
    this.journalMayClaim = 0
    const messages = this.host.meta.messages
    for (let row = 0; row < staged.length; row++) messages.push(staged.entryAt(row), staged.exactnessAt(row), WRITER_QUOTING)
    applyRecords(this.host.meta, records)
    this.savedEnd = end
    this.stats.savepoints++
  }

  /**
   * direct's group commit: a savepoint for the messages completed so far, in the background. While
   * one runs, the download goes on; the messages completed meanwhile are committed by the next,
   * which starts as soon as it ends. So each message is durable about two fsyncs after it
   * arrived, and the fsyncs cost no download time. A message counts as saved only once a
   * savepoint covers it (the engine asks `has()` of the committed folder, FolderRun), and
   * commit() and rollback() wait for these savepoints first.
   */
  private kick(): void {
    if (this.syncing !== undefined) {
      this.syncAgain = true
      return
    }
    this.syncing = (async () => {
      try {
        do {
          this.syncAgain = false
          await this.savepointNow()
        } while (this.syncAgain && this.state === 'open')
      } catch (error) {
        // The savepoint rolled the transaction back (abandon()); the next call reports why.
        this.failure = error
      } finally {
        this.syncing = undefined
      }
    })()
  }

  private beforeAppend(uid: number): void {
    this.assertOpen()
    // I9: a UID appears at most once in a folder.
    if (this.has(uid)) throw new InternalError(`UID ${uid} is already stored in this folder`)
  }

  private afterAppend(message: IncomingMessage, offset: number, length: number, record: {size: number; appended: number; eol: unknown}): void {
    const internalDate = message.internalDate === null ? null : Math.floor(message.internalDate.getTime() / 1000)
    const row = this.staged.pushRow(message.uid, offset, length, toStoredFlags(message.flags))
    this.staged.setRecordAt(row, record.size, Number.isFinite(internalDate) ? internalDate : null, record.appended, record.eol, WRITER_QUOTING)
    this.sinceSavepoint.messages++
    this.sinceSavepoint.bytes += length
    this.stats.appended++
    this.stats.appendedBytes += length
  }

  /**
   * After a complete message: a full buffer is written out, and the savepoint the strategy wants
   * is taken. Most messages need neither, and then no promise is made.
   */
  private afterMessage(): void | Promise<void> {
    if (this.tuning.strategy === 'direct') {
      this.kick()
      return
    }
    const full = this.out.held >= this.bufferCap
    const due = this.savepointDue()
    if (!full && !due) return
    return (async () => {
      if (full) await this.flush()
      if (due) await this.savepoint()
    })()
  }

  private async maybeSavepoint(): Promise<void> {
    if (this.tuning.strategy === 'direct') this.kick()
    else if (this.savepointDue()) await this.savepoint()
  }

  private savepointDue(): boolean {
    const s = this.sinceSavepoint
    return s.messages >= this.tuning.savepointMessages || s.bytes >= this.tuning.savepointBytes || Date.now() - s.at >= this.tuning.savepointSeconds * 1000
  }

  /** A full buffer is written out, after the savepoint running in the background (direct): one writer at a time. */
  private async flushFull(): Promise<void> {
    await this.synced()
    this.assertOpen()
    if (this.out.held >= this.bufferCap) await this.flush()
  }

  /**
   * Writes the buffered bytes to the file. A failure rolls back: the pending entries point at
   * bytes that never reached the file, so a later savepoint must not commit them (I1).
   */
  private async flush(): Promise<void> {
    if (this.out.held === 0) return
    const held = this.out.held
    const slabs = this.out.take()
    try {
      await writePieces(this.mbox, slabs)
    } catch (error) {
      this.writeFailed = true
      await this.abandon()
      throw localIoError(error, 'append to', this.host.mboxPath)
    }
    this.flushedEnd += held
    this.out.recycle(slabs)
  }

  /**
   * Rolls back after a failed write or sync, so that the transaction is no longer open: the
   * caller (and the engine, which asks `isOpen`) cannot go on appending to a file whose end is
   * not where the pending entries say. Found by test/reliability (a write failing mid-run).
   */
  private async abandon(): Promise<void> {
    // Not rollback(): a background savepoint calls this, and rollback() waits for those.
    await this.rollbackNow().catch((error: unknown) => this.host.logger.warn(`rollback after a failed write did not finish: ${(error as Error).message}`))
  }

  /** Cuts a message that could not be completed off again; the transaction stays usable. */
  private async cutBackTo(offset: number): Promise<void> {
    this.appending = undefined
    // A savepoint in the background may be writing the buffer: where the file ends is known after it.
    await this.synced()
    if (this.state !== 'open') return
    if (offset >= this.flushedEnd) {
      this.out.truncate(offset - this.flushedEnd)
      return
    }
    this.out.truncate(0)
    try {
      await this.mbox.truncate(offset)
      this.flushedEnd = offset
      this.end = offset
    } catch (error) {
      // The file can no longer be trusted to end where we think: only a rollback is safe now.
      await this.rollback().catch(() => {})
      throw localIoError(error, 'truncate', this.host.mboxPath)
    }
  }

  private async closeFiles(): Promise<void> {
    await Promise.allSettled([this.mbox.close(), this.journal.close()])
  }

  private assertOpen(): void {
    if (this.state === 'open') return
    if (this.failure !== undefined) throw this.failure
    throw new InternalError(`transaction is ${this.state}`)
  }
}
