/**
 * A transaction's savepoints (docs/design.md, "Write order"): the buffered bytes are written,
 * the mbox is fsynced, then the journal lines of everything pending and a `c` line are appended
 * (I1: bytes are durable before any entry points at them), and only then does the committed state
 * hold them. A failure on the way abandons the transaction (a rollback to the last savepoint):
 * what reached the disk cannot be trusted, and records written twice would commit twice.
 */
import {localIoError} from '../shared/errors.js'
import type {JournalWriter} from './journal.js'
import {appendRecords} from './journal-records.js'
import type {MboxTail} from './mbox-tail.js'
import {applyBatch, type PendingChanges, type SavepointBatch} from './pending-changes.js'
import type {SavepointPace} from './savepoint-pace.js'
import type {TransactionHost, TransactionStats} from './transaction-types.js'

/** What a savepoint works on: the transaction's parts, and what it decides after a failure. */
export interface SavepointParts {
  readonly host: TransactionHost
  readonly journal: JournalWriter
  readonly tail: MboxTail
  readonly changes: PendingChanges
  readonly pace: SavepointPace
  readonly stats: TransactionStats
  /** Writes the buffer out; a failure abandons the transaction. */
  flush(): Promise<void>
  /** Rolls back after a failed write or sync, whatever else is running. */
  abandon(cause: unknown): Promise<void>
  /** Throws unless the transaction is open. */
  assertOpen(): void
}

export class Savepoints {
  /** The savepoint being committed now (any strategy): a rollback lets it finish first (settled()). */
  private running: Promise<void> | undefined

  constructor(private readonly tx: SavepointParts) {}

  /**
   * Resolves once no savepoint is being committed; its failure is reported to whoever took it.
   * A rollback asked for meanwhile (SIGINT, an error on the connection) waits here, so that it
   * truncates to the end that savepoint committed; otherwise the truncate could land between the
   * fsync and the journal append, and the journal claim bytes the file no longer has (found by
   * test/reliability/signals.test.ts, seed 1048612877).
   */
  async settled(): Promise<void> {
    while (this.running !== undefined) await this.running.catch(() => undefined)
  }

  /** A savepoint now: writes the buffer, fsyncs the mbox, appends the journal (I1). */
  async take(): Promise<void> {
    const {tail, changes, pace} = this.tx
    if (changes.empty && tail.end === tail.savedEnd) {
      await this.tx.flush()
      pace.restart()
      return
    }
    // Taken together: the records of complete entries, and the end they reach. The buffer may
    // also hold the start of a message being appended (direct): its bytes are written and
    // synced too, but no record claims them, and a rollback or the next open cuts them off.
    const batch = changes.take()
    const end = tail.end
    pace.restart()
    const running = this.commit(batch, end)
    this.running = running
    try {
      await running
    } finally {
      changes.settled()
      if (this.running === running) this.running = undefined
    }
  }

  private async commit(batch: SavepointBatch, end: number): Promise<void> {
    const {host, tail} = this.tx
    await this.tx.flush()
    try {
      await tail.sync() // I1: bytes are durable before the entries that point at them
    } catch (error) {
      // After a failed fsync the written bytes cannot be trusted to be on disk (a later fsync may
      // succeed without them): no savepoint may ever cover them.
      const failure = localIoError(error, 'sync', host.mboxPath)
      await this.tx.abandon(failure)
      throw failure
    }
    // Only an open transaction commits: a rollback that ran meanwhile (abandon() after a failed
    // write elsewhere) truncated the file, and a record now would claim bytes it cut off.
    this.tx.assertOpen()
    const count = host.meta.messages.length + batch.staged.length
    tail.journalMayClaim = end
    try {
      await this.tx.journal.append(appendRecords(batch.staged), [...batch.records, {t: 'c', end, count}])
    } catch (error) {
      // The journal may hold part of these records: appending them again would commit them twice.
      await this.tx.abandon(error)
      throw error
    }
    tail.journalMayClaim = 0
    applyBatch(host.meta, batch)
    tail.savedEnd = end
    this.tx.stats.savepoints++
  }
}
