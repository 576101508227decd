/** A folder's messages as the store hands them out (message-table.ts holds them). */
import type {QuotingRule} from './mboxrd/quoting.js'

export interface MessageEntry {
  uid: number
  offset: number
  length: number
  /** System flags without the backslash (imap-backup's form), keywords as they are. */
  flags: string[]
}

/**
 * `[uid, size, internaldate, appended, eol]`: what it takes to give the message back byte for
 * byte (docs/mbox-format.md). `eol` is validated by the codec when it is used.
 */
export type ExactTuple = [uid: number, size: number, internalDate: number | null, appended: number, eol: unknown]

export type RecordVisitor = (row: number, uid: number, size: number, internalDate: number | null, appended: number, eol: unknown, quoting: QuotingRule) => void

/** What the store hands to code that only reads the messages of a folder. */
export interface ReadonlyMessageTable extends Iterable<MessageEntry> {
  /** Number of entries (a UID listed twice counts twice). */
  readonly length: number
  /** The byte offset where the next entry goes: the end of the last entry (0 when empty). */
  readonly end: number
  /** Number of entries with an exactness record. */
  readonly recordCount: number
  /** For 0 ≤ row < length. */
  uidAt(row: number): number
  offsetAt(row: number): number
  lengthAt(row: number): number
  /** Shared and frozen: one array per distinct flag list. */
  flagsAt(row: number): string[]
  /** The flags as JSON text, made once per distinct list (for serialisation). */
  flagsJsonAt(row: number): string
  entryAt(row: number): MessageEntry
  exactnessAt(row: number): ExactTuple | undefined
  /** The quoting rule of a row with an exactness record (undefined without one). */
  quotingAt(row: number): QuotingRule | undefined
  /**
   * Calls `visit` for each row in [from, to) that has an exactness record, with its fields, in
   * row order: for serialising 100,000s of records without a tuple per row.
   */
  visitRecords(from: number, to: number, visit: RecordVisitor): void
  /** The first row with this UID, or -1. */
  indexOf(uid: number): number
  has(uid: number): boolean
  get(uid: number): MessageEntry | undefined
  exactness(uid: number): ExactTuple | undefined
  /** Every UID once, in the order of the entries. */
  distinctUids(): number[]
  /** UIDs listed more than once (imap-backup's delay-mode retry bug, compat §5.5). */
  duplicateUids(): number[]
}
