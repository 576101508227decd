/**
 * The messages of one folder in memory: what `.imap` lists for each (uid, offset, length, flags)
 * and its exactness record (docs/design.md, "The .imap file"), held column by column in typed
 * arrays instead of an object, a tuple and two map entries per message. A 162,755-message folder
 * costs ~4 MB here instead of ~37 MB, so a backup of any size stays small (issue 3).
 *
 * - Numbers take 4 bytes while they are whole numbers below 2^32 and 8 bytes (a double, exact
 *   for every value the `.imap` parser accepts) from the first one that is not (NumberColumn):
 *   offsets pass 4 GiB in a large mailbox, a hand-edited file may hold anything.
 * - Flags are an index into the table's own list of distinct flag lists (a folder has a few).
 * - One byte per message says whether it has an exactness record, how many LFs were appended,
 *   whether the INTERNALDATE is null, which `eol` form it has and which quoting rule wrote the
 *   entry (mboxrd/quoting.ts); `eol` lists (mixed line endings, rare) and any value that is not
 *   0 or 1 are kept as they are in a side map.
 * - Columns grow by doubling.
 *
 * Lookup by UID: entries are appended in UID order (folder-plan.ts keeps the mbox in UID order),
 * so the UIDs form one ascending run and a lookup is a binary search. A UID appended below the
 * last one (a message that failed and came in a later run) starts a new run; a lookup searches
 * each run. A file with more than a few runs (imap-backup's, or duplicate UIDs, compat §5.5)
 * gets a Map from UID to row instead, built at the first lookup. With a UID listed twice, the
 * first row is the one found, as imap-backup's lookups do. The table stores what it is given:
 * refusing a UID that is already stored (I9) is the transaction's job.
 *
 * A MessageEntry or an ExactTuple is made only when asked for (entryAt, exactnessAt): short-lived
 * objects, which cost the garbage collector next to nothing.
 */
import {InternalError} from '../shared/errors.js'
import type {QuotingRule} from './mboxrd/quoting.js'
import type {ExactTuple, MessageEntry, ReadonlyMessageTable, RecordVisitor} from './message-entry.js'
import {NumberColumn} from './number-column.js'

export type {ExactTuple, MessageEntry, ReadonlyMessageTable, RecordVisitor} from './message-entry.js'

const INITIAL_CAPACITY = 16
/** Up to this many runs of ascending UIDs, lookups binary-search each; beyond, a Map is built. */
const MAX_RUNS = 8

// The record byte of a row.
const HAS_RECORD = 1
const NO_INTERNAL_DATE = 2
const APPENDED_SHIFT = 2 // 2 bits: 0, 1 or 2 LFs appended
const EOL_SHIFT = 4 // 2 bits: EOL_CRLF, EOL_LF or EOL_LISTED
const EOL_LISTED = 2 // `eol` is not 0 or 1: the value is in `listedEols`
const STRICT_QUOTING = 64 // written with mailkeep 0.1.0's strict rule (else the current one)

const NO_FLAGS: string[] = Object.freeze([]) as unknown as string[]

export class MessageTable implements ReadonlyMessageTable {
  private count = 0
  private capacity: number
  private readonly uids: NumberColumn
  private readonly offsets: NumberColumn
  private readonly lengths: NumberColumn
  private readonly flagIds: NumberColumn
  private readonly sizes: NumberColumn
  private readonly dates: NumberColumn
  private recordBits: Uint8Array
  private records = 0
  /** `eol` values other than 0 and 1, by row. */
  private readonly listedEols = new Map<number, unknown>()
  /** Distinct flag lists, by id; id 0 is the empty list. */
  private readonly flagLists: string[][] = [NO_FLAGS]
  private readonly flagJson: string[] = ['[]']
  private readonly flagIdByJson = new Map<string, number>([['[]', 0]])
  /** Flag list ids by the JSON text a file wrote them in, when that is not JSON.stringify's. */
  private readonly flagIdByText = new Map<string, number>()
  /** The lowest row whose flags were replaced (firstChanged). */
  private lowestChanged = Infinity
  /** The lowest row whose exactness record was set (firstRecordChanged). */
  private lowestRecordChanged = Infinity
  private lastFlags: readonly string[] = NO_FLAGS
  private lastFlagId = 0
  /** Rows (after row 0) where a run of ascending UIDs starts; undefined once there are too many. */
  private runStarts: number[] | undefined = []
  /** First row of each UID, used (and kept up to date) once runStarts is undefined. */
  private uidRows: Map<number, number> | undefined

  /** `capacity`: how many entries fit before the columns grow (the count of a file being read). */
  constructor(capacity = INITIAL_CAPACITY) {
    this.capacity = capacity
    this.uids = new NumberColumn(capacity)
    this.offsets = new NumberColumn(capacity)
    this.lengths = new NumberColumn(capacity)
    this.flagIds = new NumberColumn(capacity)
    this.sizes = new NumberColumn(capacity)
    this.dates = new NumberColumn(capacity)
    this.recordBits = new Uint8Array(capacity)
  }

  /** A table of these entries, each with the record `exact` has for its UID. */
  static from(entries: Iterable<MessageEntry>, exact?: ReadonlyMap<number, ExactTuple>, quoting: QuotingRule = 'compat'): MessageTable {
    const table = new MessageTable()
    for (const entry of entries) table.push(entry, exact?.get(entry.uid), quoting)
    return table
  }

  get length(): number {
    return this.count
  }

  get end(): number {
    const last = this.count - 1
    return last < 0 ? 0 : this.offsets.get(last) + this.lengths.get(last)
  }

  get recordCount(): number {
    return this.records
  }

  uidAt(row: number): number {
    return this.uids.get(row)
  }

  offsetAt(row: number): number {
    return this.offsets.get(row)
  }

  lengthAt(row: number): number {
    return this.lengths.get(row)
  }

  flagsAt(row: number): string[] {
    return this.flagLists[this.flagIds.get(row)]!
  }

  flagsJsonAt(row: number): string {
    return this.flagJson[this.flagIds.get(row)]!
  }

  entryAt(row: number): MessageEntry {
    this.checkRow(row)
    return {uid: this.uids.get(row), offset: this.offsets.get(row), length: this.lengths.get(row), flags: this.flagsAt(row)}
  }

  exactnessAt(row: number): ExactTuple | undefined {
    this.checkRow(row)
    const bits = this.recordBits[row]!
    if ((bits & HAS_RECORD) === 0) return undefined
    const eol = (bits >> EOL_SHIFT) & 3
    return [
      this.uids.get(row),
      this.sizes.get(row),
      (bits & NO_INTERNAL_DATE) === 0 ? this.dates.get(row) : null,
      (bits >> APPENDED_SHIFT) & 3,
      eol === EOL_LISTED ? this.listedEols.get(row) : eol,
    ]
  }

  quotingAt(row: number): QuotingRule | undefined {
    this.checkRow(row)
    const bits = this.recordBits[row]!
    if ((bits & HAS_RECORD) === 0) return undefined
    return (bits & STRICT_QUOTING) === 0 ? 'compat' : 'strict'
  }

  visitRecords(from: number, to: number, visit: RecordVisitor): void {
    const end = Math.min(to, this.count)
    for (let row = Math.max(0, from); row < end; row++) {
      const bits = this.recordBits[row]!
      if ((bits & HAS_RECORD) === 0) continue
      const eol = (bits >> EOL_SHIFT) & 3
      visit(
        row,
        this.uids.get(row),
        this.sizes.get(row),
        (bits & NO_INTERNAL_DATE) === 0 ? this.dates.get(row) : null,
        (bits >> APPENDED_SHIFT) & 3,
        eol === EOL_LISTED ? this.listedEols.get(row) : eol,
        (bits & STRICT_QUOTING) === 0 ? 'compat' : 'strict',
      )
    }
  }

  indexOf(uid: number): number {
    const runs = this.runStarts
    if (runs === undefined) {
      this.uidRows ??= this.mapUids()
      return this.uidRows.get(uid) ?? -1
    }
    let start = 0
    for (let r = 0; r <= runs.length; r++) {
      const end = r < runs.length ? runs[r]! : this.count
      const row = this.search(start, end, uid)
      if (row >= 0) return row
      start = end
    }
    return -1
  }

  has(uid: number): boolean {
    return this.indexOf(uid) >= 0
  }

  get(uid: number): MessageEntry | undefined {
    const row = this.indexOf(uid)
    return row < 0 ? undefined : this.entryAt(row)
  }

  exactness(uid: number): ExactTuple | undefined {
    const row = this.indexOf(uid)
    return row < 0 ? undefined : this.exactnessAt(row)
  }

  distinctUids(): number[] {
    const out = new Array<number>(this.count)
    if (this.runStarts?.length === 0) {
      for (let row = 0; row < this.count; row++) out[row] = this.uids.get(row)
      return out
    }
    const seen = new Set<number>()
    let n = 0
    for (let row = 0; row < this.count; row++) {
      const uid = this.uids.get(row)
      if (seen.has(uid)) continue
      seen.add(uid)
      out[n++] = uid
    }
    out.length = n
    return out
  }

  duplicateUids(): number[] {
    if (this.runStarts?.length === 0) return [] // one ascending run: no UID twice
    const seen = new Set<number>()
    const duplicates = new Set<number>()
    for (let row = 0; row < this.count; row++) {
      const uid = this.uids.get(row)
      if (seen.has(uid)) duplicates.add(uid)
      else seen.add(uid)
    }
    return [...duplicates]
  }

  *[Symbol.iterator](): Iterator<MessageEntry> {
    for (let row = 0; row < this.count; row++) yield this.entryAt(row)
  }

  /**
   * Appends an entry (and its exactness record, whose UID must be the entry's, written with the
   * quoting rule `quoting`); returns its row.
   */
  push(entry: MessageEntry, record?: ExactTuple, quoting?: QuotingRule): number {
    if (record !== undefined && quoting === undefined) throw new InternalError(`exactness record of UID ${entry.uid} given without its quoting rule`)
    const row = this.pushRow(entry.uid, entry.offset, entry.length, entry.flags)
    if (record !== undefined) {
      if (record[0] !== entry.uid) throw new InternalError(`exactness record of UID ${record[0]} given for UID ${entry.uid}`)
      this.setRecordAt(row, record[1], record[2], record[3], record[4], quoting!)
    }
    return row
  }

  /** push() without a MessageEntry object (the `.imap` parser). */
  pushRow(uid: number, offset: number, length: number, flags: readonly string[]): number {
    const row = this.count
    if (row === this.capacity) this.grow()
    if (row > 0 && uid <= this.uids.get(row - 1) && this.runStarts !== undefined) {
      this.runStarts.push(row)
      if (this.runStarts.length >= MAX_RUNS) this.runStarts = undefined
    }
    this.uids.set(row, uid)
    this.offsets.set(row, offset)
    this.lengths.set(row, length)
    this.flagIds.set(row, this.flagIdOf(flags))
    this.count = row + 1
    if (this.uidRows !== undefined && !this.uidRows.has(uid)) this.uidRows.set(uid, row)
    return row
  }

  /**
   * pushRow() with the flags as the JSON text of a string array (the `.imap` scanner,
   * imap-scan.ts): a text seen before costs a map lookup, not a parse.
   */
  pushRowFlagsJson(uid: number, offset: number, length: number, json: string): number {
    return this.pushRowFlagId(uid, offset, length, this.flagIdOfJson(json))
  }

  /** The id of a flag list given as the JSON text of a string array (for pushRowFlagId). */
  flagIdOfJson(json: string): number {
    let id = this.flagIdByJson.get(json) ?? this.flagIdByText.get(json)
    if (id === undefined) {
      const flags: unknown = JSON.parse(json)
      if (!Array.isArray(flags) || !flags.every((f) => typeof f === 'string')) throw new InternalError(`flags ${json} are not a list of strings`)
      id = this.flagIdOf(flags)
      this.flagIdByText.set(json, id)
    }
    return id
  }

  /** pushRow() with a flag list id from flagIdOfJson(). */
  pushRowFlagId(uid: number, offset: number, length: number, flagId: number): number {
    const row = this.pushRow(uid, offset, length, NO_FLAGS)
    if (flagId !== 0) this.flagIds.set(row, flagId)
    return row
  }

  /** The first row whose flags were replaced since markUnchanged(), or `length` if none. */
  get firstChanged(): number {
    return Math.min(this.lowestChanged, this.count)
  }

  /** From now on firstChanged() tells the rows changed (after reading a file into the table). */
  markUnchanged(): void {
    this.lowestChanged = Infinity
  }

  /** The first row whose record was set since markRecordsUnchanged(), or `length` if none. */
  get firstRecordChanged(): number {
    return Math.min(this.lowestRecordChanged, this.count)
  }

  /** From now on firstRecordChanged() tells the rows whose records changed (after an exactness file was read). */
  markRecordsUnchanged(): void {
    this.lowestRecordChanged = Infinity
  }

  /** Sets the exactness record of a row (`appended` must be 0, 1 or 2) and the rule that quoted its entry. */
  setRecordAt(row: number, size: number, internalDate: number | null, appended: number, eol: unknown, quoting: QuotingRule): void {
    this.checkRow(row)
    this.lowestRecordChanged = Math.min(this.lowestRecordChanged, row)
    if (appended !== 0 && appended !== 1 && appended !== 2) throw new InternalError(`exactness record with appended = ${appended}`)
    let bits = HAS_RECORD | (appended << APPENDED_SHIFT)
    if (quoting === 'strict') bits |= STRICT_QUOTING
    this.sizes.set(row, size)
    if (internalDate === null) bits |= NO_INTERNAL_DATE
    this.dates.set(row, internalDate ?? 0)
    if (eol === 0 || eol === 1) {
      bits |= eol << EOL_SHIFT
      this.listedEols.delete(row)
    } else {
      bits |= EOL_LISTED << EOL_SHIFT
      this.listedEols.set(row, eol)
    }
    if ((this.recordBits[row]! & HAS_RECORD) === 0) this.records++
    this.recordBits[row] = bits
  }

  /** Replaces the flags of the first entry with this UID; false if there is none. */
  setFlags(uid: number, flags: readonly string[]): boolean {
    const row = this.indexOf(uid)
    if (row < 0) return false
    this.flagIds.set(row, this.flagIdOf(flags))
    this.lowestChanged = Math.min(this.lowestChanged, row)
    return true
  }

  private flagIdOf(flags: readonly string[]): number {
    if (flags.length === 0) return 0
    // Interned lists (flags.ts) are frozen and shared: most calls end here.
    if (flags === this.lastFlags) return this.lastFlagId
    const json = JSON.stringify(flags)
    let id = this.flagIdByJson.get(json)
    if (id === undefined) {
      id = this.flagLists.length
      this.flagLists.push(Object.freeze([...flags]) as string[])
      this.flagJson.push(json)
      this.flagIdByJson.set(json, id)
    }
    // Only a frozen array is sure to hold the same flags the next time it is seen.
    if (Object.isFrozen(flags)) {
      this.lastFlags = flags
      this.lastFlagId = id
    }
    return id
  }

  /** The row of `uid` in [start, end), where UIDs ascend; -1 if absent. */
  private search(start: number, end: number, uid: number): number {
    if (start === end || uid < this.uids.get(start) || uid > this.uids.get(end - 1)) return -1
    let low = start
    let high = end - 1
    while (low <= high) {
      const middle = (low + high) >>> 1
      const value = this.uids.get(middle)
      if (value === uid) return middle
      if (value < uid) low = middle + 1
      else high = middle - 1
    }
    return -1
  }

  private mapUids(): Map<number, number> {
    const rows = new Map<number, number>()
    for (let row = 0; row < this.count; row++) {
      const uid = this.uids.get(row)
      if (!rows.has(uid)) rows.set(uid, row)
    }
    return rows
  }

  /**
   * Makes room for `count` entries in all, once, when a caller knows how many are coming (a
   * backup knows how many messages it downloads): doubling would take a folder of 162,755 to
   * columns for 262,144, and hold the old ones beside the new while it copies.
   */
  reserve(count: number): void {
    if (count > this.capacity) this.grow(count)
  }

  private grow(to = Math.max(INITIAL_CAPACITY, this.capacity * 2)): void {
    const capacity = to
    for (const column of [this.uids, this.offsets, this.lengths, this.flagIds, this.sizes, this.dates]) column.resize(capacity, this.count)
    const bits = new Uint8Array(capacity)
    bits.set(this.recordBits.subarray(0, this.count))
    this.recordBits = bits
    this.capacity = capacity
  }

  private checkRow(row: number): void {
    if (!(row >= 0 && row < this.count)) throw new InternalError(`row ${row} of a table of ${this.count} messages`)
  }
}
