/**
 * The state of one folder's backup while it runs: its store, its (lazily begun) transaction, and
 * the counters of the report. Everything that writes goes through here, so that the report
 * counts only what is really kept: a message counts as "new" once a savepoint or the commit made
 * it durable, and not when a rollback dropped it.
 */
import type {TransactionTuning} from '../../store/tuning.js'
import type {FolderStore} from '../../store/folder-store.js'
import type {Transaction} from '../../store/transaction.js'
import type {IncomingMessage, MessageAppend} from '../../store/transaction-types.js'
import {sameFlags, toStoredFlags} from '../../store/flags.js'
import type {FolderServerState} from '../../store/metadata.js'
import {OversizedResponseError} from '../../imap/index.js'
import type {MessageSummary, MessageWriter} from '../../imap/types.js'
import {DeadlineError, InternalError, InterruptedError, LocalIoError, TransientImapError} from '../../shared/errors.js'
import type {Logger} from '../../shared/logger.js'
import type {ProgressReporter, ProgressTask} from '../../shared/context.js'
import type {FolderReport} from './types.js'

export class FolderRun {
  private tx: Transaction | undefined
  /**
   * Appended in the open transaction and not yet covered by a savepoint: UIDs and their bytes,
   * side by side (no object per message lives until its savepoint).
   */
  private uncommittedUids: number[] = []
  private uncommittedBytes: number[] = []
  private uncommittedFlagUpdates = 0
  private seenSavepoints = 0
  /** Stored flags replaced in this run and not yet committed (the entry still shows the old). */
  private readonly flagOverrides = new Map<number, string[]>()
  /** UID → why it could not be saved. A later success in this run removes it. */
  readonly failed = new Map<number, string>()
  /** Something was saved since the last failure (resets the reconnect budget). */
  progressed = false
  private progressTask: ProgressTask | undefined

  constructor(
    readonly folder: FolderStore,
    readonly report: FolderReport,
    private readonly tuning: TransactionTuning,
    readonly logger: Logger,
  ) {}

  /** Stored already, or appended in this run. */
  has(uid: number): boolean {
    return this.tx?.isOpen === true ? this.tx.has(uid) : this.folder.has(uid)
  }

  get transactionOpen(): boolean {
    return this.tx?.isOpen === true
  }

  startProgress(reporter: ProgressReporter, label: string, messages: number): void {
    this.progressTask ??= reporter.start(label, {messages})
  }

  endProgress(): void {
    this.progressTask?.done()
    this.progressTask = undefined
  }

  /** Begins the transaction now (before a FETCH whose messages openMessage() will take). */
  async prepare(): Promise<void> {
    await this.transaction()
  }

  /** About `count` messages are going to be downloaded (the store makes room for them once). */
  reserve(count: number): void {
    this.folder.reserve(count)
  }

  /**
   * Where the bytes of message `uid` go as they come off the connection (message-fetcher.ts,
   * ImapSession.streamMessages): into the open transaction, which prepare() began. Undefined when
   * the message is stored already. `incoming` gives its flags and date once the server has sent
   * them all. A failure that concerns only this message is recorded with its UID and the rest of
   * its bytes are dropped; a fatal one (guard()) is thrown, which ends the FETCH.
   */
  openMessage(uid: number, size: number, incoming: (summary: MessageSummary) => IncomingMessage): MessageWriter | undefined {
    const tx = this.tx
    if (tx === undefined) throw new InternalError(`UID ${uid}: no transaction for the download (prepare() first)`)
    if (tx.has(uid)) return undefined
    let append: MessageAppend
    try {
      append = tx.openMessage(uid, size)
    } catch (error) {
      this.messageFailed(uid, error)
      return undefined
    }
    let failed = false
    let bytes = 0
    const fail = (error: unknown): void => {
      failed = true
      // The display was given this message's bytes as they came; it was not stored after all.
      this.progressTask?.advance(0, -bytes)
      this.messageFailed(uid, error)
    }
    return {
      write: (chunk) => {
        if (failed) return undefined
        bytes += chunk.length
        this.progressTask?.advance(0, chunk.length)
        try {
          return append.write(chunk)?.catch(fail)
        } catch (error) {
          fail(error)
        }
      },
      end: (summary) => {
        if (failed) return undefined
        let finished
        try {
          finished = append.finish(incoming(summary))
        } catch (error) {
          fail(error)
          return undefined
        }
        if (finished === undefined) return this.appended(uid, bytes, bytes)
        return finished.then(() => this.appended(uid, bytes, bytes), fail)
      },
      abort: () => {
        if (!failed) this.progressTask?.advance(0, -bytes)
        failed = true
        append.abort()
      },
    }
  }

  /**
   * A large message, written as its chunks arrive; a broken stream is cut off by the store. The
   * progress display learns of each chunk as it arrives, so that it moves during a long download
   * (ProgressTask.advance: bytes first, the message when it is stored).
   */
  async appendStream(message: IncomingMessage, chunks: AsyncIterable<Buffer>, size: number): Promise<boolean> {
    const tx = await this.transaction()
    const counted = {bytes: 0}
    const stored = await this.guard(message.uid, () => tx.appendStream(message, this.countChunks(chunks, counted)))
    if (!stored) {
      this.progressTask?.advance(0, -counted.bytes)
      return false
    }
    this.appended(message.uid, size, counted.bytes)
    return true
  }

  private async *countChunks(chunks: AsyncIterable<Buffer>, counted: {bytes: number}): AsyncIterable<Buffer> {
    for await (const chunk of chunks) {
      counted.bytes += chunk.length
      this.progressTask?.advance(0, chunk.length)
      yield chunk
    }
  }

  failMessage(uid: number, reason: string): void {
    this.failed.set(uid, reason)
    this.logger.error(`could not save message UID ${uid}: ${reason}`, {uid})
  }

  /** Replaces the stored flags of a stored message, if they differ from the server's. */
  async followFlags(uid: number, imapFlags: readonly string[]): Promise<void> {
    const entry = this.folder.entry(uid)
    if (entry === undefined) return // appended in this run: its flags are current
    const stored = toStoredFlags(imapFlags)
    if (sameFlags(this.flagOverrides.get(uid) ?? entry.flags, stored)) return
    const tx = await this.transaction()
    await tx.updateFlags(uid, imapFlags)
    this.flagOverrides.set(uid, stored)
    this.uncommittedFlagUpdates++
    this.report.flagUpdates++
    this.progressed = true
    this.noteSavepoints()
  }

  setServerState(state: FolderServerState): Promise<void> {
    return this.transaction().then((tx) => tx.setServerState(state))
  }

  /** Records `[copy, original]` pairs of restored copies (docs/design.md, `mailkeep_restored`). */
  recordRestoredCopies(pairs: ReadonlyArray<readonly [number, number]>): Promise<void> {
    return this.transaction().then((tx) => tx.recordRestoredCopies(pairs))
  }

  /** Makes everything done so far durable (before a reconnect). */
  async savepoint(): Promise<void> {
    if (this.tx?.isOpen !== true) return
    await this.tx.savepoint()
    this.committedAll()
  }

  /** Commits the transaction, if one was begun. */
  async commit(): Promise<void> {
    const tx = this.tx
    if (tx === undefined) return
    tx.assertUsable() // abandoned after a failed write: that failure, not a silent success
    this.tx = undefined
    await tx.commit()
    this.committedAll()
  }

  /** Drops what the last savepoint does not cover; committed savepoints stay. */
  async rollback(): Promise<void> {
    const tx = this.tx
    this.tx = undefined
    this.uncommittedUids = []
    this.uncommittedBytes = []
    this.report.flagUpdates -= this.uncommittedFlagUpdates
    this.uncommittedFlagUpdates = 0
    this.flagOverrides.clear()
    // An abandoned one (a failed write) may still be rolling back: wait for it.
    await tx?.rollback()
  }

  /**
   * The open transaction, begun on first use: a run that changes nothing writes nothing. One
   * that a failed write abandoned is not replaced: its failure is thrown (assertUsable).
   */
  private async transaction(): Promise<Transaction> {
    if (this.tx !== undefined) {
      this.tx.assertUsable()
      return this.tx
    }
    this.tx = await this.folder.begin(this.tuning)
    this.seenSavepoints = 0
    return this.tx
  }

  /**
   * Runs a store write for one message. A failure that concerns only this message is recorded
   * with its UID and the run goes on; the network breaking (or imapflow closing the connection on
   * a literal over the limit, which message-fetcher.ts handles), a local I/O error, an
   * interruption, or a transaction that can no longer be used end the attempt.
   */
  private async guard(uid: number, write: () => Promise<void>): Promise<boolean> {
    try {
      await write()
      return true
    } catch (error) {
      this.messageFailed(uid, error)
      return false
    }
  }

  /** Records a failure of one message, or throws it when it ends the attempt (guard()). */
  private messageFailed(uid: number, error: unknown): void {
    if (error instanceof TransientImapError || error instanceof OversizedResponseError || error instanceof LocalIoError || error instanceof InterruptedError || error instanceof DeadlineError) throw error
    if (this.tx?.isOpen !== true) throw error
    this.failMessage(uid, (error as Error).message)
  }

  /**
   * Progress counts bytes as they arrive (so that it moves during a large message) and the
   * message here; `shown`: bytes of the message the progress display was already given.
   */
  private appended(uid: number, bytes: number, shown = 0): void {
    this.failed.delete(uid)
    this.uncommittedUids.push(uid)
    this.uncommittedBytes.push(bytes)
    this.progressed = true
    this.progressTask?.advance(1, bytes - shown)
    this.noteSavepoints()
  }

  /** The store takes savepoints by itself: count what they made durable. */
  private noteSavepoints(): void {
    const tx = this.tx
    if (tx === undefined || tx.stats.savepoints === this.seenSavepoints) return
    this.seenSavepoints = tx.stats.savepoints
    // delay_all may take its savepoint just before the message that overflowed its buffer,
    // so ask the committed index rather than assume.
    const uids: number[] = []
    const bytes: number[] = []
    for (let i = 0; i < this.uncommittedUids.length; i++) {
      const uid = this.uncommittedUids[i] as number
      if (this.folder.has(uid)) this.count(this.uncommittedBytes[i] as number)
      else {
        uids.push(uid)
        bytes.push(this.uncommittedBytes[i] as number)
      }
    }
    this.uncommittedUids = uids
    this.uncommittedBytes = bytes
    this.uncommittedFlagUpdates = 0
  }

  private committedAll(): void {
    for (const bytes of this.uncommittedBytes) this.count(bytes)
    this.uncommittedUids = []
    this.uncommittedBytes = []
    this.uncommittedFlagUpdates = 0
    this.flagOverrides.clear()
    if (this.tx !== undefined) this.seenSavepoints = this.tx.stats.savepoints
  }

  private count(bytes: number): void {
    this.report.new++
    this.report.bytes += bytes
  }
}
