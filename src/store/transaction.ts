/**
 * A transaction on one folder (docs/design.md, "Transactions and savepoints"). It appends
 * messages, replaces flags and records server state; savepoints commit what it has done so far
 * through the journal; commit() folds everything into the `.imap`; rollback() truncates the
 * mbox back to the last savepoint and lets recovery fold what was committed.
 *
 * The three strategies differ only in how long message bytes may wait in memory and how often
 * a savepoint happens:
 *   direct          write at once, a savepoint after every message;
 *   delay_metadata  a small write-behind buffer, savepoints every N messages / M bytes / T s;
 *   delay_all       bodies held in memory up to delayAllMaxBytes, written at the savepoint.
 */
import type {FileHandle} from 'node:fs/promises'
import {InternalError, localIoError} from '../shared/errors.js'
import type {Logger} from '../shared/logger.js'
import {encodeMessage, MboxrdEncoder, WRITER_QUOTING, type QuotingRule} from './mboxrd/index.js'
import type {JournalRecord, JournalWriter} from './journal.js'
import {addRestoredCopies, isDelimiter, isModseq, isPrefix, type ExactTuple, type FolderMetadata, type FolderServerState, type MessageEntry} from './metadata.js'
import {toStoredFlags} from './flags.js'
import {WRITE_BEHIND_BYTES, type TransactionTuning} from './tuning.js'

export interface IncomingMessage {
  uid: number
  /** Flags in IMAP form (`\Seen`, `$Forwarded`). */
  flags: readonly string[]
  /** The server's INTERNALDATE (RFC 3501 §2.3.3), kept so that restore can set it again. */
  internalDate: Date | null
}

/** What the folder gives its transaction; the folder owns the files and the committed state. */
export interface TransactionHost {
  readonly mboxPath: string
  /** The committed state; `meta.messages` holds the committed messages (I9: UIDs are unique). */
  readonly meta: FolderMetadata
  readonly logger: Logger
  /** Folds the journal into `.imap` and removes it (commit step 2–3). */
  fold(journalId: string): Promise<void>
  /** Runs recovery from what is on disk (rollback step 2). */
  recover(): Promise<void>
  /** Called once the transaction is over, whatever the outcome. */
  release(): void
}

export interface TransactionStats {
  appended: number
  appendedBytes: number
  flagUpdates: number
  savepoints: number
}

type State = 'open' | 'committed' | 'rolled-back'

export class Transaction {
  private state: State = 'open'
  /** Logical end of the mbox, buffered bytes included. */
  private end: number
  /** End of the mbox at the last savepoint: what a rollback truncates to. */
  private savedEnd: number
  /** Bytes actually handed to the file. */
  private flushedEnd: number
  /** When a savepoint failed after its journal write began, the end that journal may claim. */
  private journalMayClaim = 0
  private buffer: Buffer[] = []
  private bufferBytes = 0
  private pending: JournalRecord[] = []
  private pendingUids = new Set<number>()
  private sinceSavepoint = {messages: 0, bytes: 0, at: Date.now()}
  private readonly bufferCap: number
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
    this.bufferCap = tuning.strategy === 'direct' ? 0 : tuning.strategy === 'delay_all' ? tuning.delayAllMaxBytes : WRITE_BEHIND_BYTES
  }

  get isOpen(): boolean {
    return this.state === 'open'
  }

  /** True if the UID is committed or appended in this transaction. */
  has(uid: number): boolean {
    return this.pendingUids.has(uid) || this.host.meta.messages.has(uid)
  }

  /** Appends a message held in memory. */
  async append(message: IncomingMessage, source: Buffer): Promise<void> {
    this.beforeAppend(message.uid)
    const {entry, record} = encodeMessage(source)
    const offset = this.end
    if (this.tuning.strategy === 'delay_all' && this.bufferBytes + entry.length > this.bufferCap && this.bufferBytes > 0) {
      await this.savepoint()
    } else if (this.bufferBytes + entry.length > this.bufferCap) {
      await this.flush()
    }
    if (entry.length > this.bufferCap) {
      // Unbuffered (the buffer was flushed above): a failed write is cut off again, as a failed
      // stream is, and the transaction stays usable.
      try {
        await this.writeAt(offset, [entry])
      } catch (error) {
        await this.cutBackTo(offset)
        throw error
      }
    } else {
      this.buffer.push(entry)
      this.bufferBytes += entry.length
    }
    this.end = offset + entry.length
    this.afterAppend(message, offset, entry.length, record)
    await this.maybeSavepoint()
  }

  /**
   * Appends a message whose bytes arrive in chunks (large messages): they go to the file as they
   * come, never held whole. If the stream fails, the partial entry is cut off again and the
   * transaction stays usable.
   */
  async appendStream(message: IncomingMessage, chunks: AsyncIterable<Buffer>): Promise<void> {
    this.beforeAppend(message.uid)
    await this.flush()
    const offset = this.end
    const encoder = new MboxrdEncoder()
    let written = 0
    try {
      for await (const chunk of chunks) {
        const out = encoder.push(chunk)
        if (out.length > 0) written += await this.writeAt(offset + written, out)
      }
      const tail = encoder.end()
      written += await this.writeAt(offset + written, tail.chunks)
      if (written !== tail.length) throw new InternalError(`encoder produced ${written} bytes but reported ${tail.length}`)
      this.end = offset + written
      this.afterAppend(message, offset, written, tail.record)
    } catch (error) {
      await this.cutBackTo(offset)
      throw error
    }
    await this.maybeSavepoint()
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
    const record: JournalRecord = {t: 's'}
    if (state.uidNext !== undefined) record.uidnext = state.uidNext
    if (state.highestModseq !== undefined) record.highestmodseq = state.highestModseq
    if (state.flagsModseq !== undefined) record.flagsmodseq = state.flagsModseq
    if (state.mirrorModseq !== undefined) record.mirrormodseq = state.mirrorModseq
    if (state.delimiter !== undefined) record.delimiter = state.delimiter
    if (state.prefix !== undefined) record.prefix = state.prefix
    this.pending.push(record)
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
    this.assertOpen()
    await this.flush()
    if (this.pending.length === 0 && this.end === this.savedEnd) {
      this.sinceSavepoint = {messages: 0, bytes: 0, at: Date.now()}
      return
    }
    try {
      await this.mbox.datasync() // I1: bytes are durable before the entries that point at them
    } catch (error) {
      // After a failed fsync the written bytes cannot be trusted to be on disk (a later fsync may
      // succeed without them): no savepoint may ever cover them.
      await this.abandon()
      throw localIoError(error, 'sync', this.host.mboxPath)
    }
    const count = this.host.meta.messages.length + this.countPendingAppends()
    const records = [...this.pending, {t: 'c', end: this.end, count} as const]
    this.journalMayClaim = this.end
    try {
      await this.journal.append(records)
    } catch (error) {
      // The journal may hold part of these records: appending them again would commit them twice.
      await this.abandon()
      throw error
    }
    this.journalMayClaim = 0
    this.applyToCommitted(this.pending)
    this.pending = []
    this.pendingUids.clear()
    this.savedEnd = this.end
    this.sinceSavepoint = {messages: 0, bytes: 0, at: Date.now()}
    this.stats.savepoints++
  }

  /** Savepoint, then fold the journal into `.imap` and remove it. */
  async commit(): Promise<TransactionStats> {
    this.assertOpen()
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
   * stays and the next open completes the job (invariant I7).
   */
  async rollback(): Promise<void> {
    if (this.state !== 'open') return
    this.state = 'rolled-back'
    this.buffer = []
    this.bufferBytes = 0
    this.pending = []
    this.pendingUids.clear()
    const target = Math.max(this.savedEnd, this.journalMayClaim)
    try {
      if (this.flushedEnd > target) {
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

  private beforeAppend(uid: number): void {
    this.assertOpen()
    // I9: a UID appears at most once in a folder.
    if (this.has(uid)) throw new InternalError(`UID ${uid} is already stored in this folder`)
  }

  private afterAppend(message: IncomingMessage, offset: number, length: number, record: {size: number; appended: number; eol: unknown}): void {
    const entry: MessageEntry = {uid: message.uid, offset, length, flags: toStoredFlags(message.flags)}
    const internalDate = message.internalDate === null ? null : Math.floor(message.internalDate.getTime() / 1000)
    const exact: ExactTuple = [message.uid, record.size, Number.isFinite(internalDate) ? internalDate : null, record.appended, record.eol]
    this.pending.push({t: 'a', m: entry, x: exact})
    this.pendingUids.add(message.uid)
    this.sinceSavepoint.messages++
    this.sinceSavepoint.bytes += length
    this.stats.appended++
    this.stats.appendedBytes += length
  }

  private async maybeSavepoint(): Promise<void> {
    const s = this.sinceSavepoint
    if (
      this.tuning.strategy === 'direct' ||
      s.messages >= this.tuning.savepointMessages ||
      s.bytes >= this.tuning.savepointBytes ||
      Date.now() - s.at >= this.tuning.savepointSeconds * 1000
    ) {
      await this.savepoint()
    }
  }

  private countPendingAppends(): number {
    let n = 0
    for (const r of this.pending) if (r.t === 'a') n++
    return n
  }

  private applyToCommitted(records: readonly JournalRecord[]): void {
    applyRecords(this.host.meta, records)
  }

  private async flush(): Promise<void> {
    if (this.bufferBytes === 0) return
    const buffers = this.buffer
    this.buffer = []
    this.bufferBytes = 0
    try {
      await this.writeAt(this.flushedEnd, buffers)
    } catch (error) {
      // The pending entries point at bytes that never reached the file: a later savepoint must
      // not commit them (I1), so only a rollback to the last savepoint is safe.
      await this.abandon()
      throw error
    }
  }

  /**
   * Rolls back after a failed write or sync, so that the transaction is no longer open: the
   * caller (and the engine, which asks `isOpen`) cannot go on appending to a file whose end is
   * not where the pending entries say. Found by test/reliability (a write failing mid-run).
   */
  private async abandon(): Promise<void> {
    await this.rollback().catch((error: unknown) => this.host.logger.warn(`rollback after a failed write did not finish: ${(error as Error).message}`))
  }

  /** Writes buffers at the end of the file (O_APPEND); returns the number of bytes written. */
  private async writeAt(position: number, buffers: Buffer[]): Promise<number> {
    if (position !== this.flushedEnd) throw new InternalError(`mbox write at ${position}, but the file ends at ${this.flushedEnd}`)
    let total = 0
    for (const b of buffers) total += b.length
    let done = 0
    let rest = buffers
    try {
      while (done < total) {
        const {bytesWritten} = await this.mbox.writev(rest)
        done += bytesWritten
        this.flushedEnd += bytesWritten
        if (done < total) rest = skipBytes(rest, bytesWritten)
      }
    } catch (error) {
      throw localIoError(error, 'append to', this.host.mboxPath)
    }
    return total
  }

  private async cutBackTo(offset: number): Promise<void> {
    this.buffer = []
    this.bufferBytes = 0
    try {
      if (this.flushedEnd > offset) {
        await this.mbox.truncate(offset)
        this.flushedEnd = offset
      }
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
    if (this.state !== 'open') throw new InternalError(`transaction is ${this.state}`)
  }
}

/**
 * Applies committed journal records to the in-memory metadata (also used by recovery); `quoting`
 * is the rule the journal's entries were written with (JournalContents.quoting).
 */
export function applyRecords(meta: FolderMetadata, records: readonly JournalRecord[], quoting: QuotingRule = WRITER_QUOTING): void {
  for (const r of records) {
    switch (r.t) {
      case 'a':
        meta.messages.push(r.m, r.x, quoting)
        break
      case 'f':
        meta.messages.setFlags(r.uid, r.flags)
        break
      case 's':
        if (r.uidnext !== undefined) meta.uidNext = r.uidnext
        if (r.highestmodseq !== undefined) meta.highestModseq = r.highestmodseq
        // Keys an older mailkeep did not write; read back after a crash, so checked like a file's.
        if (isModseq(r.flagsmodseq)) meta.flagsModseq = r.flagsmodseq
        if (isModseq(r.mirrormodseq)) meta.mirrorModseq = r.mirrormodseq
        // Written by us, but a journal is read back after a crash: only well-formed values count.
        if (isDelimiter(r.delimiter)) meta.delimiter = r.delimiter
        if (isPrefix(r.prefix)) meta.prefix = r.prefix
        if (Array.isArray(r.restored)) addRestoredCopies(meta, r.restored)
        break
      case 'c':
        break
    }
  }
}

function skipBytes(buffers: Buffer[], n: number): Buffer[] {
  const out: Buffer[] = []
  let skip = n
  for (const b of buffers) {
    if (skip >= b.length) {
      skip -= b.length
      continue
    }
    out.push(skip > 0 ? b.subarray(skip) : b)
    skip = 0
  }
  return out
}
