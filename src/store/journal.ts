/**
 * The transaction journal `<P>.imap.journal` (docs/design.md, "The journal"): JSON Lines,
 * append-only, fsynced at every savepoint. A record counts only when a complete `c` (savepoint)
 * line follows it; a torn last line (the crash happened mid-write) is ignored.
 *
 * The journal is what makes a savepoint cost proportional to what it commits: the `.imap` itself
 * is rewritten once, when the transaction ends.
 */
import {randomBytes} from 'node:crypto'
import {constants, unlink, type FileHandle} from 'node:fs/promises'
import {DamagedError, localIoError, UnsupportedFormatError} from '../shared/errors.js'
import {writeAll} from '../shared/write-all.js'
import {fsyncDirectory} from '../shared/atomic-write.js'
import {dirname} from 'node:path'
import {openNoFollow} from './safe-path.js'
import {isExactTuple, type ExactTuple, type MessageEntry} from './metadata.js'
import type {QuotingRule} from './mboxrd/quoting.js'

export const JOURNAL_SUFFIX = '.imap.journal'

/**
 * The journal format this mailkeep writes (the header's `j`). 2: appended entries are quoted with
 * the compat rule (mboxrd/quoting.ts); 1 (mailkeep 0.1.0, still read after its crash): with the
 * strict rule. Records are otherwise the same. A mailkeep that knows only 1 refuses a 2.
 */
export const JOURNAL_FORMAT = 2

export interface JournalHeader {
  j: 1 | 2
  id: string
  uid_validity: number
  base_count: number
  base_end: number
}

export type JournalRecord =
  | {t: 'a'; m: MessageEntry; x?: ExactTuple}
  | {t: 'f'; uid: number; flags: string[]}
  | {t: 's'; uidnext?: number; highestmodseq?: string; flagsmodseq?: string; mirrormodseq?: string; delimiter?: string; prefix?: string; restored?: Array<[number, number]>}
  | {t: 'c'; end: number; count: number}

export interface JournalContents {
  header: JournalHeader
  /** The quoting rule of the entries its `a` records describe (from `j`). */
  quoting: QuotingRule
  /** Records followed by a savepoint, in order, savepoint lines included. */
  committed: JournalRecord[]
  /** Bytes of the journal that were ignored (uncommitted records and a torn line). */
  ignoredBytes: number
}

export function newJournalId(): string {
  return randomBytes(9).toString('base64url')
}

/**
 * Reads a journal. Returns undefined when the header itself is missing or torn (the crash came
 * before the transaction wrote anything to the mbox: begin() fsyncs the header first). A header
 * of a newer journal format is an UnsupportedFormatError (as for a newer `.imap`, metadata.ts):
 * its records cannot be read, so the folder must be left as it is for that mailkeep to finish.
 */
export function parseJournal(text: string, path: string): JournalContents | undefined {
  const lines = text.split('\n')
  // The part after the last '\n' is either '' or a torn line.
  const complete = lines.slice(0, -1)
  const first = complete[0]
  if (first === undefined) return undefined
  const header = parseLine(first)
  refuseNewerFormat(header, path)
  if (!isHeader(header)) {
    throw new DamagedError(`journal '${path}' has an invalid header`, {hint: 'run `mailkeep local check`'})
  }
  const committed: JournalRecord[] = []
  const pending: JournalRecord[] = []
  let committedBytes = Buffer.byteLength(first) + 1
  let bytes = committedBytes
  for (let i = 1; i < complete.length; i++) {
    const line = complete[i]!
    const record = parseLine(line)
    if (!isRecord(record)) break // torn or garbled: nothing after it can be trusted
    bytes += Buffer.byteLength(line) + 1
    pending.push(record)
    if (record.t === 'c') {
      committed.push(...pending)
      pending.length = 0
      committedBytes = bytes
    }
  }
  return {header, quoting: header.j === 1 ? 'strict' : 'compat', committed, ignoredBytes: Buffer.byteLength(text) - committedBytes}
}

/** An open journal being appended to by a transaction. */
export class JournalWriter {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  /** Creates the journal (it must not exist) with its header, durably: file and directory. */
  static async create(path: string, header: JournalHeader): Promise<JournalWriter> {
    let handle: FileHandle
    try {
      handle = await openNoFollow(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_APPEND, 0o600)
    } catch (error) {
      throw localIoError(error, 'create journal', path)
    }
    const writer = new JournalWriter(path, handle)
    try {
      await writer.append([header])
      await fsyncDirectory(dirname(path))
    } catch (error) {
      await handle.close().catch(() => {})
      // No transaction began (nothing was written to the mbox), so no journal may remain (I3):
      // recovery would ignore a torn header, but a failed begin() must leave the folder as it was.
      await unlink(path).catch(() => {})
      throw localIoError(error, 'write journal', path)
    }
    return writer
  }

  /** Appends lines and fsyncs: when this resolves, the records are durable. */
  async append(...groups: Array<Iterable<JournalHeader | JournalRecord>>): Promise<void> {
    let text = ''
    for (const records of groups) for (const r of records) text += `${JSON.stringify(r)}\n`
    try {
      await writeAll(this.handle, text)
      await this.handle.sync()
    } catch (error) {
      throw localIoError(error, 'write journal', this.path)
    }
  }

  async close(): Promise<void> {
    await this.handle.close()
  }
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line)
  } catch {
    return undefined
  }
}

/**
 * Throws UnsupportedFormatError when the complete first line of a journal is a header of a
 * format newer than JOURNAL_FORMAT. Only `j` is looked at: the rest of a newer header may differ.
 */
export function refuseNewerJournal(text: string, path: string): void {
  const end = text.indexOf('\n')
  if (end >= 0) refuseNewerFormat(parseLine(text.slice(0, end)), path)
}

function refuseNewerFormat(header: unknown, path: string): void {
  if (header === null || typeof header !== 'object') return
  const format = (header as Record<string, unknown>)['j']
  if (typeof format === 'number' && Number.isSafeInteger(format) && format > JOURNAL_FORMAT) {
    throw new UnsupportedFormatError(`journal '${path}' was written by a newer mailkeep (journal format ${format}); it was left untouched`, {hint: 'upgrade mailkeep'})
  }
}

function isHeader(value: unknown): value is JournalHeader {
  if (value === null || typeof value !== 'object') return false
  const h = value as Record<string, unknown>
  return (h['j'] === 1 || h['j'] === JOURNAL_FORMAT) && typeof h['id'] === 'string' && isInt(h['uid_validity']) && isInt(h['base_count']) && isInt(h['base_end'])
}

function isRecord(value: unknown): value is JournalRecord {
  if (value === null || typeof value !== 'object') return false
  const r = value as Record<string, unknown>
  switch (r['t']) {
    case 'a': {
      const m = r['m'] as Record<string, unknown> | undefined
      const x = r['x']
      // The record must be one the `.imap` file can hold, for this very UID (metadata.ts).
      return m !== undefined && m !== null && isInt(m['uid']) && isInt(m['offset']) && isInt(m['length']) && isFlags(m['flags']) && (x === undefined || (isExactTuple(x) && x[0] === m['uid']))
    }
    case 'f':
      return isInt(r['uid']) && isFlags(r['flags'])
    case 's':
      return true
    case 'c':
      return isInt(r['end']) && isInt(r['count'])
    default:
      return false
  }
}

function isFlags(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((f) => typeof f === 'string')
}

function isInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}
