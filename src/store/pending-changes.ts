/**
 * What a transaction's next savepoint commits: the messages appended since the last one and the
 * flag updates and server state recorded since, in order. A savepoint takes them all at one
 * instant (take()), writes their journal lines and then applies them to the committed state
 * (applyBatch), docs/design.md, "Write order".
 */
import {WRITER_QUOTING} from './mboxrd/index.js'
import type {JournalRecord} from './journal.js'
import {applyRecords} from './journal-records.js'
import type {FolderMetadata} from './metadata.js'
import {MessageTable} from './message-table.js'
import type {IncomingMessage} from './transaction-types.js'
import {toStoredFlags} from './flags.js'

/** What one savepoint commits. */
export interface SavepointBatch {
  readonly staged: MessageTable
  readonly records: JournalRecord[]
}

export class PendingChanges {
  /**
   * Messages appended since the last savepoint, in columns (a savepoint of 1,000 messages keeps
   * no object per message alive until it is committed: they would be promoted and collected
   * late). Their journal records are written before the other pending records: every flag
   * update or server state record applies the same after them, since a flag update names a UID
   * that is already stored or appended.
   */
  private staged = new MessageTable()
  /** Staged messages a savepoint running in the background is committing. */
  private committing: MessageTable | undefined
  /** Flag updates and server state, in order. */
  private records: JournalRecord[] = []

  /** True if the UID is appended and not yet committed (staged, or being committed). */
  has(uid: number): boolean {
    return this.staged.has(uid) || this.committing?.has(uid) === true
  }

  get empty(): boolean {
    return this.records.length === 0 && this.staged.length === 0
  }

  /** A complete message, encoded at `offset` in `length` bytes; `record` is the encoder's. */
  stage(message: IncomingMessage, offset: number, length: number, record: {size: number; appended: number; eol: unknown}): void {
    const internalDate = message.internalDate === null ? null : Math.floor(message.internalDate.getTime() / 1000)
    const row = this.staged.pushRow(message.uid, offset, length, toStoredFlags(message.flags))
    this.staged.setRecordAt(row, record.size, Number.isFinite(internalDate) ? internalDate : null, record.appended, record.eol, WRITER_QUOTING)
  }

  /** A flag update or server state record, committed after the staged messages. */
  add(record: JournalRecord): void {
    this.records.push(record)
  }

  /** Rollback: nothing pending is committed. */
  drop(): void {
    this.records = []
    this.staged = new MessageTable()
  }

  /** Everything pending, for a savepoint; has() still sees its messages until settled(). */
  take(): SavepointBatch {
    const batch = {staged: this.staged, records: this.records}
    this.staged = new MessageTable()
    this.committing = batch.staged
    this.records = []
    return batch
  }

  /** The savepoint that took the last batch ended (committed, or rolled back). */
  settled(): void {
    this.committing = undefined
  }
}

/** After a batch's journal lines are written: the committed state holds its messages and records. */
export function applyBatch(meta: FolderMetadata, batch: SavepointBatch): void {
  const messages = meta.messages
  const staged = batch.staged
  for (let row = 0; row < staged.length; row++) messages.push(staged.entryAt(row), staged.exactnessAt(row), WRITER_QUOTING)
  applyRecords(meta, batch.records)
}
