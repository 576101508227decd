/**
 * The store's half of `mailkeep local repair` (docs/repair.md): everything that reads or writes
 * the folder's files. The engine decides which UID and flags each message gets (it is the one
 * that may talk to the server); this module
 *
 * - scans the mbox into entries (scanMbox), reading it twice in bounded chunks: once to split it
 *   (the codec's strict rule, plus imap-backup's unquoted first line, see below) and once per
 *   entry for what matching needs (Message-ID, Date and Subject from the header block only, the
 *   byte and line-break counts that bound the original size, which tool wrote it);
 * - salvages what a damaged `.imap` (and a left-over journal) still says (salvageMetadata);
 * - derives and verifies exactness records (exactnessCandidates, verifyExactness);
 * - writes the repaired folder (writeRepair) in an order that never loses a byte (design.md I6):
 *   the torn tail is copied aside and fsynced before the mbox is truncated, the old `.imap` (and
 *   a stale journal) are renamed aside, never deleted, and the new `.imap` is an atomic replace
 *   (I2). The caller holds the account's exclusive lock (I5).
 *
 * Splitting: both of mailkeep's quoting rules (mboxrd/quoting.ts) quote every body line matching
 * `^From `, so an unquoted `From ` line starts an entry (this also finds the entry after a torn
 * one). imap-backup did not quote the first line of a message, so a `From ` line directly after a
 * separator line belongs to the entry (a mailkeep entry never has one there: its first body line
 * would be `>From `).
 */
import {constants, readdir, rename, type FileHandle} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'
import {DamagedError, errnoCode, localIoError, UnusablePathError} from '../shared/errors.js'
import {writeAll} from '../shared/write-all.js'
import {atomicWrite, atomicWriteChunks, fsyncDirectory} from '../shared/atomic-write.js'
import {exists, freeName, keepCopyAside, readRegularFile, setAsideTimestamp} from './file-ops.js'
import {folderPaths, type FolderPaths} from './folder-store.js'
import {readChunks, UNVERIFIED_UID_VALIDITY} from './integrity.js'
import {parseJournal} from './journal.js'
import {EntryScanner, fromExactnessTuple, MboxrdDecoder, type EntrySpan, type ExactnessRecord, type QuotingRule} from './mboxrd/index.js'
import {isExactRow, parseExactFile, quotingOf, serializeExactChunks} from './exact-file.js'
import {serializeMetadata, type ExactTuple, type FolderMetadata} from './metadata.js'
import type {MessageTable} from './message-table.js'
import {openNoFollow} from './safe-path.js'

export {UNVERIFIED_UID_VALIDITY}
/** The UTC time in the names of files set aside, `20261122T101112Z`. */
export const repairTimestamp = setAsideTimestamp

/** Which reading rule an entry needs (docs/mbox-format.md, "Reading rules"). */
export type EntryStyle = 'mailkeep' | 'imap-backup' | 'unknown'

export interface ScannedEntry {
  offset: number
  length: number
  /** False for bytes before the first separator line: not an entry, left in place. */
  isEntry: boolean
  /** Ends with an empty line, as every entry both tools write does; false for a torn one. */
  complete: boolean
  separatorLength: number
  /** LFs after the separator line (padding included). */
  lineBreaks: number
  /** Body lines matching `^>+From ` (the strict reading rule removes one `>` from each). */
  strictQuotes: number
  /** Body lines matching `^>+From` (imap-backup's rule removes one `>` from each). */
  legacyQuotes: number
  /** LFs at the end of the body, at most 3. */
  trailingLfs: number
  style: EntryStyle
  /** From the header block: the first Message-ID, normalised (`<…>`), if any. */
  messageId?: string
  /** The first Date field, unfolded and with whitespace collapsed, if any. */
  date?: string
  /** The first Subject field, raw (RFC 2047 not decoded), unfolded. */
  subject?: string
}

export interface ScanOptions {
  /** Scan from this offset (a committed end) instead of 0. */
  from?: number
  signal?: AbortSignal
}

/** The header block read per entry (RFC 5322 §2.1: up to the first empty line). */
const HEADER_BYTES = 256 * 1024
const FROM_SPACE = Buffer.from('From ')

/** Splits the mbox (from `options.from`) into entries and describes each. */
export async function scanMbox(mboxPath: string, options: ScanOptions = {}): Promise<ScannedEntry[]> {
  const from = options.from ?? 0
  const handle = await openNoFollow(mboxPath, constants.O_RDONLY).catch((error: unknown) => {
    throw localIoError(error, 'open', mboxPath)
  })
  try {
    const {size} = await handle.stat()
    const scanner = new EntryScanner('strict')
    const spans: EntrySpan[] = []
    for await (const chunk of readChunks(handle, from, size, options.signal)) for (const s of scanner.push(chunk)) spans.push(s)
    for (const s of scanner.end()) spans.push(s)
    const entries: ScannedEntry[] = []
    for (let i = 0; i < spans.length; i++) {
      const span = {offset: spans[i]!.offset + from, length: spans[i]!.length}
      // imap-backup's unquoted first line: a span that is only a separator line joins the next.
      while (i + 1 < spans.length && (await isSingleLine(handle, span))) span.length += spans[++i]!.length
      entries.push(await describe(handle, span, options.signal))
    }
    return entries
  } finally {
    await handle.close()
  }
}

async function isSingleLine(handle: FileHandle, span: EntrySpan): Promise<boolean> {
  if (span.length > 64 * 1024) return false // separator lines are short; a long one is a body
  const bytes = Buffer.alloc(span.length)
  await handle.read(bytes, 0, span.length, span.offset)
  return bytes.indexOf(0x0a) === span.length - 1
}

async function describe(handle: FileHandle, span: EntrySpan, signal: AbortSignal | undefined): Promise<ScannedEntry> {
  const stats = new EntryStats()
  for await (const chunk of readChunks(handle, span.offset, span.offset + span.length, signal)) stats.push(chunk)
  return stats.end(span)
}

/** Per-entry counts, computed in one streaming pass over the entry's bytes. */
class EntryStats {
  private first = Buffer.alloc(0)
  /** Bytes of the separator line seen so far, while it is incomplete. */
  private pendingSeparator = 0
  private separatorLength = -1
  private lineBreaks = 0
  private strictQuotes = 0
  private legacyQuotes = 0
  private unquotedFromLater = 0
  private firstLineFromSpace = false
  /** A `>From…` line (no space) among the header fields: imap-backup quoted the From header. */
  private quotedFromHeader = false
  /** Still in the header block (before the first empty line) of the line machine. */
  private headerLines = true
  private lineFirst = -1
  /** Body line number of the current line (1 = first). */
  private line = 1
  /** Prefix machine at a line start: `>` run, then "From", then the next byte. */
  private phase: 'quotes' | 'from' | 'done' = 'quotes'
  private quotes = 0
  private matched = 0
  private lineLength = 0
  private headerLineLength = 0
  private headerLineFirst = -1
  private header: Buffer[] = []
  private headerBytes = 0
  private inHeader = true
  private tail = Buffer.alloc(0)
  private bodyBytes = 0

  push(chunk: Buffer): void {
    let body = chunk
    if (this.separatorLength < 0) {
      const lf = chunk.indexOf(0x0a)
      const take = lf < 0 ? chunk.length : lf + 1
      if (this.first.length < 16) this.first = Buffer.concat([this.first, chunk.subarray(0, Math.min(take, 16 - this.first.length))])
      this.pendingSeparator += take
      if (lf < 0) return
      this.separatorLength = this.pendingSeparator
      body = chunk.subarray(lf + 1)
    }
    if (body.length === 0) return
    this.bodyBytes += body.length
    this.tail = Buffer.concat([this.tail, body.subarray(Math.max(0, body.length - 3))]).subarray(-3)
    this.captureHeader(body)
    this.lines(body)
  }

  end(span: EntrySpan): ScannedEntry {
    const isEntry = this.first.subarray(0, 5).equals(FROM_SPACE)
    if (this.separatorLength < 0) this.separatorLength = span.length
    if (this.phase !== 'done' && this.lineLength + (this.phase === 'quotes' ? this.quotes : 0) > 0) this.decide(false)
    let trailingLfs = 0
    for (let i = this.tail.length - 1; i >= 0 && this.tail[i] === 0x0a; i--) trailingLfs++
    const fields = parseHeaderFields(Buffer.concat(this.header))
    // imap-backup quoted every line starting `From` but the first; mailkeep only `From ` lines.
    const style: EntryStyle = this.unquotedFromLater > 0 ? 'mailkeep' : this.firstLineFromSpace || this.quotedFromHeader ? 'imap-backup' : 'unknown'
    const entry: ScannedEntry = {
      offset: span.offset,
      length: span.length,
      isEntry,
      complete: isEntry && trailingLfs >= 2 && this.bodyBytes >= 2,
      separatorLength: this.separatorLength,
      lineBreaks: this.lineBreaks,
      strictQuotes: this.strictQuotes,
      legacyQuotes: this.legacyQuotes,
      trailingLfs,
      style,
    }
    const messageId = normaliseMessageId(fields.get('message-id'))
    if (messageId !== undefined) entry.messageId = messageId
    const date = normaliseDate(fields.get('date'))
    if (date !== undefined) entry.date = date
    const subject = fields.get('subject')
    if (subject !== undefined) entry.subject = subject
    return entry
  }

  private captureHeader(body: Buffer): void {
    if (!this.inHeader) return
    // The header block ends at the first empty line; find it in this piece.
    let p = 0
    let length = this.headerLineLength
    let first = this.headerLineFirst
    while (p < body.length) {
      const lf = body.indexOf(0x0a, p)
      const stop = lf < 0 ? body.length : lf
      if (length === 0 && stop > p) first = body[p]!
      length += stop - p
      if (lf < 0) break
      if (length === 0 || (length === 1 && first === 0x0d)) {
        this.keepHeader(body.subarray(0, p))
        this.inHeader = false
        return
      }
      length = 0
      first = -1
      p = lf + 1
    }
    this.headerLineLength = length
    this.headerLineFirst = first
    this.keepHeader(body)
  }

  private keepHeader(piece: Buffer): void {
    const room = HEADER_BYTES - this.headerBytes
    if (room <= 0) {
      this.inHeader = false
      return
    }
    const kept = piece.subarray(0, room)
    this.header.push(Buffer.from(kept))
    this.headerBytes += kept.length
  }

  private lines(body: Buffer): void {
    let p = 0
    const n = body.length
    while (p < n) {
      if (this.phase !== 'done') p = this.prefix(body, p)
      const lf = body.indexOf(0x0a, p)
      if (lf < 0) {
        if (this.lineLength === 0 && n > p) this.lineFirst = body[p]!
        this.lineLength += n - p
        return
      }
      if (this.lineLength === 0 && lf > p) this.lineFirst = body[p]!
      this.lineLength += lf - p
      if (this.phase !== 'done') this.decide(false)
      if (this.lineLength === 0 || (this.lineLength === 1 && this.lineFirst === 0x0d)) this.headerLines = false
      this.lineBreaks++
      this.line++
      this.phase = 'quotes'
      this.quotes = 0
      this.matched = 0
      this.lineLength = 0
      this.lineFirst = -1
      p = lf + 1
    }
  }

  /** Runs the prefix machine from p; returns where it stopped (decided, LF, or chunk end). */
  private prefix(body: Buffer, p: number): number {
    const FROM = 'From'
    while (p < body.length && this.phase !== 'done') {
      const b = body[p]!
      if (b === 0x0a) return p
      if (this.lineLength === 0) this.lineFirst = b
      if (this.phase === 'quotes') {
        if (b === 0x3e) this.quotes++
        else this.phase = 'from'
      }
      if (this.phase === 'from') {
        if (this.matched < 4) {
          if (b !== FROM.charCodeAt(this.matched)) {
            this.phase = 'done'
            return p
          }
          this.matched++
        } else {
          this.decide(b === 0x20)
          return p
        }
      }
      this.lineLength++
      p++
    }
    return p
  }

  /** The line's prefix is known: `[>…]From` followed by a space (true) or something else. */
  private decide(space: boolean): void {
    const fromMatched = this.phase === 'from' && this.matched === 4
    this.phase = 'done'
    if (!fromMatched) return
    if (this.quotes > 0) {
      this.legacyQuotes++
      if (space) this.strictQuotes++
      else if (this.headerLines) this.quotedFromHeader = true
    } else if (space) {
      if (this.line === 1) this.firstLineFromSpace = true
    } else if (this.line > 1) {
      // An unquoted "From" without a space after a first line: imap-backup would have quoted it.
      this.unquotedFromLater++
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Header fields (RFC 5322 §2.2): shared by the scan, the server's header fetch and `local list`.

/**
 * The first occurrence of each field of a header block, unfolded (RFC 5322 §2.2.3), names in
 * lower case, values as latin1 strings (every byte kept, so RFC 2047 and raw UTF-8 can be
 * decoded by the caller). A leading `From ` / `>From ` envelope line is skipped.
 */
export function parseHeaderFields(block: Buffer): Map<string, string> {
  const text = block.toString('latin1')
  const fields = new Map<string, string>()
  let name: string | undefined
  let value = ''
  const flush = (): void => {
    if (name !== undefined && !fields.has(name)) fields.set(name, value)
    name = undefined
  }
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    if (line === '') break
    if (line[0] === ' ' || line[0] === '\t') {
      if (name !== undefined) value += line
      continue
    }
    flush()
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const field = line.slice(0, colon).trimEnd()
    if (!/^[!-9;-~]+$/.test(field)) continue
    name = field.toLowerCase()
    value = line.slice(colon + 1)
  }
  flush()
  for (const [key, v] of fields) fields.set(key, v.trim())
  return fields
}

/** `<id@host>` from a Message-ID value (comments and whitespace around it dropped). */
export function normaliseMessageId(value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  const angle = /<[^<>]*>/.exec(value)
  const id = (angle === null ? value : angle[0]).replace(/\s+/g, '')
  return id === '' || id === '<>' ? undefined : id
}

/** A Date value compared as text: whitespace runs collapsed. */
export function normaliseDate(value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  const text = value.replace(/\s+/g, ' ').trim()
  return text === '' ? undefined : text
}

// ---------------------------------------------------------------------------------------------
// Sizes and exactness records

/**
 * The range of original sizes (RFC822.SIZE) an entry can have been written from, read with the
 * strict rule or the compat one (which is also imap-backup's, `legacy`).
 */
export function sizeRange(entry: ScannedEntry, rule: 'strict' | 'legacy'): {min: number; max: number} | undefined {
  if (!entry.complete) return undefined
  const text = entry.length - entry.separatorLength - quotesRemoved(entry, rule === 'strict' ? 'strict' : 'compat')
  let min = Number.POSITIVE_INFINITY
  let max = Number.NEGATIVE_INFINITY
  for (const a of appendedChoices(entry)) {
    const length = text - a
    const breaks = entry.lineBreaks - a
    if (length < 0 || breaks < 0) continue
    min = Math.min(min, length)
    max = Math.max(max, length + breaks)
  }
  return min <= max ? {min, max} : undefined
}

/** How many `>` the reading rule removes from the entry's body. */
function quotesRemoved(entry: ScannedEntry, rule: QuotingRule): number {
  return rule === 'strict' ? entry.strictQuotes : entry.legacyQuotes
}

/**
 * The exactness records that would decode the entry (written with the quoting rule `rule`) to a
 * message of `size` bytes, assuming uniform line endings (all CRLF, as servers send, or all bare
 * LF). A mixed message gives none; a tiny message may give two. The caller verifies a single
 * candidate with verifyExactness, and fetches the body when there is not exactly one.
 */
export function exactnessCandidates(entry: ScannedEntry, size: number, rule: QuotingRule): ExactnessRecord[] {
  if (!entry.complete) return []
  const text = entry.length - entry.separatorLength - quotesRemoved(entry, rule)
  const out: ExactnessRecord[] = []
  for (const appended of appendedChoices(entry)) {
    const length = text - appended
    const breaks = entry.lineBreaks - appended
    if (length < 0 || breaks < 0) continue
    if (length + breaks === size) out.push({size, appended, eol: 0})
    else if (breaks > 0 && length === size) out.push({size, appended, eol: 1})
  }
  return out
}

/** Padding the encoder can have added, given the LFs the entry ends with (docs/mbox-format.md §3). */
function appendedChoices(entry: ScannedEntry): Array<0 | 1 | 2> {
  if (entry.trailingLfs >= 3) return [0]
  if (entry.trailingLfs === 2) return [0, 1, 2]
  return []
}

/** True if the entry decodes with the record and the rule (size checked), read in bounded chunks. */
export async function verifyExactness(mboxPath: string, entry: Pick<ScannedEntry, 'offset' | 'length'>, record: ExactnessRecord, rule: QuotingRule): Promise<boolean> {
  const handle = await openNoFollow(mboxPath, constants.O_RDONLY)
  try {
    const decoder = new MboxrdDecoder(record, rule)
    for await (const chunk of readChunks(handle, entry.offset, entry.offset + entry.length)) decoder.push(chunk)
    decoder.end()
    return true
  } catch (error) {
    if (error instanceof DamagedError) return false
    throw error
  } finally {
    await handle.close()
  }
}

/** The stored bytes of an entry (for comparing with a message fetched from the server). */
export async function readEntryBytes(mboxPath: string, entry: Pick<ScannedEntry, 'offset' | 'length'>): Promise<Buffer> {
  const handle = await openNoFollow(mboxPath, constants.O_RDONLY)
  try {
    const out = Buffer.alloc(entry.length)
    let done = 0
    while (done < entry.length) {
      const {bytesRead} = await handle.read(out, done, entry.length - done, entry.offset + done)
      if (bytesRead === 0) throw new DamagedError(`'${mboxPath}' ends before byte ${entry.offset + entry.length}`)
      done += bytesRead
    }
    return out
  } finally {
    await handle.close()
  }
}

// ---------------------------------------------------------------------------------------------
// Salvage: what a damaged `.imap` (or a left-over journal) still says

export interface SalvagedEntry {
  uid: number
  offset: number
  length: number
  flags: string[]
  /**
   * `flags` were recorded (a `.imap` entry, a journal record); false for an entry only the
   * exactness file names, which holds no flags.
   */
  flagsKnown: boolean
}

export interface Salvage {
  /** A uid_validity the file names (UNVERIFIED_UID_VALIDITY included), if any. */
  uidValidity?: number
  /** The file carries mailkeep's extension key: mailkeep wrote (at least its last version). */
  writtenByMailkeep: boolean
  /** Entries that parse, by offset (the last one wins). */
  entries: Map<number, SalvagedEntry>
  /** Exactness tuples that parse, by UID, and the quoting rule of each one's entry. */
  exact: Map<number, ExactTuple>
  quoting: Map<number, QuotingRule>
  uidNext?: number
  highestModseq?: string
}

export function emptySalvage(): Salvage {
  return {writtenByMailkeep: false, entries: new Map(), exact: new Map(), quoting: new Map()}
}

/**
 * Everything usable in the text of a `.imap` file, however damaged: a JSON parse when it is
 * valid JSON, else a scan for the pieces (truncated and garbled files). Nothing found here is
 * trusted on its own: the caller keeps an entry only where its offset and length equal a scanned
 * entry, a record only where it decodes that entry, a UID only where the server agrees.
 */
export function salvageMetadata(text: string, into: Salvage = emptySalvage()): Salvage {
  into.writtenByMailkeep ||= /"mailkeep"\s*:\s*\{/.test(text)
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch {
    data = undefined
  }
  if (data !== null && typeof data === 'object' && !Array.isArray(data)) {
    const obj = data as Record<string, unknown>
    const uidValidity = positive(typeof obj['uid_validity'] === 'string' ? Number(obj['uid_validity']) : obj['uid_validity'])
    if (uidValidity !== undefined) into.uidValidity = uidValidity
    if (Array.isArray(obj['messages'])) for (const m of obj['messages']) addEntry(into, m)
    // Records in `.imap` are mailkeep 0.1.0's, whose entries are strictly quoted.
    if (Array.isArray(obj['mailkeep_messages'])) for (const t of obj['mailkeep_messages']) addTuple(into, t, 'strict')
    const ext = obj['mailkeep']
    if (ext !== null && typeof ext === 'object' && !Array.isArray(ext)) {
      const uidNext = positive((ext as Record<string, unknown>)['uidnext'])
      if (uidNext !== undefined) into.uidNext = uidNext
      const modseq = (ext as Record<string, unknown>)['highestmodseq']
      if (typeof modseq === 'string' && /^\d{1,20}$/.test(modseq)) into.highestModseq = modseq
    }
    return into
  }
  const validity = /"uid_validity"\s*:\s*"?(\d{1,16})"?/.exec(text)
  if (validity !== null) {
    const value = positive(Number(validity[1]))
    if (value !== undefined) into.uidValidity = value
  }
  for (const match of text.matchAll(/\{[^{}]*"uid"[^{}]*\}/g)) {
    try {
      addEntry(into, JSON.parse(match[0]))
    } catch {
      // a garbled object: skip it
    }
  }
  const records = text.indexOf('"mailkeep_messages"')
  if (records >= 0) {
    for (const match of text.slice(records).matchAll(/\[\s*\d+\s*,\s*\d+\s*,\s*(?:null|-?\d+)\s*,\s*[012]\s*,\s*(?:[01]|\[[\d\s,]*\])\s*\]/g)) {
      try {
        addTuple(into, JSON.parse(match[0]), 'strict')
      } catch {
        // skip
      }
    }
  }
  return into
}

/** The committed records of a journal left next to a damaged `.imap`, as salvage hints. */
export function salvageJournal(text: string, path: string, into: Salvage): Salvage {
  let contents
  try {
    contents = parseJournal(text, path)
  } catch {
    return into
  }
  if (contents === undefined) return into
  into.writtenByMailkeep = true
  into.uidValidity ??= contents.header.uid_validity
  for (const record of contents.committed) {
    if (record.t === 'a') {
      addEntry(into, record.m)
      if (record.x !== undefined) addTuple(into, record.x, contents.quoting)
    } else if (record.t === 'f') {
      for (const entry of into.entries.values()) {
        if (entry.uid !== record.uid) continue
        entry.flags = record.flags.filter((f) => typeof f === 'string')
        entry.flagsKnown = true
      }
    }
  }
  return into
}

function addEntry(into: Salvage, value: unknown): void {
  if (value === null || typeof value !== 'object') return
  const {uid, offset, length, flags} = value as Record<string, unknown>
  const u = positive(uid)
  const l = positive(length)
  if (u === undefined || l === undefined || typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) return
  const list = Array.isArray(flags) ? flags.filter((f): f is string => typeof f === 'string') : []
  into.entries.set(offset, {uid: u, offset, length: l, flags: list, flagsKnown: Array.isArray(flags)})
}

function addTuple(into: Salvage, value: unknown, quoting: QuotingRule): void {
  try {
    const {uid} = fromExactnessTuple(value)
    into.exact.set(uid, value as ExactTuple)
    into.quoting.set(uid, quoting)
  } catch {
    // an invalid record is no hint
  }
}

/**
 * The rows of an exactness file, however damaged (exact-file.ts): each names its entry (UID,
 * offset, length), which also stands in for a lost `.imap` entry (without flags), and its record.
 */
export function salvageExactFile(text: string, into: Salvage): Salvage {
  let rows: unknown[] = []
  try {
    const data = JSON.parse(text) as Record<string, unknown>
    if (Array.isArray(data['messages'])) rows = data['messages']
    const uidValidity = positive(data['uid_validity'])
    // Rows of another UIDVALIDITY (imap-backup moved the folder away) name other messages.
    if (uidValidity !== undefined && into.uidValidity !== undefined && uidValidity !== into.uidValidity) return into
    if (uidValidity !== undefined) into.uidValidity ??= uidValidity
  } catch {
    for (const match of text.matchAll(/\[\s*\d+\s*,\s*\d+\s*,\s*\d+\s*,\s*\d+\s*,\s*(?:null|-?\d+)\s*,\s*[012]\s*,\s*(?:[01]|\[[\d\s,]*\])\s*,\s*[01]\s*\]/g)) {
      try {
        rows.push(JSON.parse(match[0]))
      } catch {
        // skip
      }
    }
  }
  for (const row of rows) {
    if (!isExactRow(row)) continue
    const [uid, offset, length, size, internalDate, appended, eol, q] = row
    if (!into.entries.has(offset)) addEntry(into, {uid, offset, length}) // no flags: unknown
    addTuple(into, [uid, size, internalDate, appended, eol], quotingOf(q))
    into.writtenByMailkeep = true
  }
  return into
}

function positive(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined
}

/**
 * Salvage hints for a folder: its `.imap` (if any, however damaged), else the newest
 * `.imap.damaged-*` a previous repair set aside, plus a journal left next to it and its
 * exactness file.
 */
export async function salvageFolder(paths: FolderPaths): Promise<Salvage> {
  const salvage = emptySalvage()
  const imap = (await readIfFile(paths.imap)) ?? (await newestSetAside(paths.imap))
  if (imap !== undefined) salvageMetadata(imap, salvage)
  const journal = await readIfFile(paths.journal)
  if (journal !== undefined) salvageJournal(journal, paths.journal, salvage)
  const exact = await readIfFile(paths.exact)
  if (exact !== undefined) salvageExactFile(exact, salvage)
  return salvage
}

/** The newest `<P>.imap.damaged-*` (timestamps sort as text), e.g. from a repair that crashed. */
async function newestSetAside(imapPath: string): Promise<string | undefined> {
  const prefix = `${basename(imapPath)}.damaged-`
  let names: string[]
  try {
    names = (await readdir(dirname(imapPath))).filter((n) => n.startsWith(prefix)).sort()
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined
    throw localIoError(error, 'list', dirname(imapPath))
  }
  const newest = names[names.length - 1]
  return newest === undefined ? undefined : readIfFile(join(dirname(imapPath), newest))
}

async function readIfFile(path: string): Promise<string | undefined> {
  try {
    return await readRegularFile(path)
  } catch (error) {
    // Not a regular file (a symlink, a FIFO, a directory): nothing to salvage from it.
    if (errnoCode(error) === 'ENOENT' || error instanceof DamagedError || error instanceof UnusablePathError) return undefined
    throw error
  }
}

// ---------------------------------------------------------------------------------------------
// Writing the repaired folder

export interface RepairWrite {
  root: string
  relativePath: string
  /** The new metadata; undefined to only set the old files aside (the mbox is gone). */
  metadata: FolderMetadata | undefined
  /** Cut the mbox here after copying the bytes from here to its end aside (a torn tail). */
  truncateAt?: number
  /** UTC time of the repair, used in the names of the files set aside. */
  at: Date
}

export interface RepairWritten {
  /** Where the old `.imap` went (`<P>.imap.damaged-<timestamp>`), if there was one. */
  imapSavedAs?: string
  /** Where a stale journal went. */
  journalSavedAs?: string
  /**
   * Where a copy of the old exactness file was kept (`<P>.mailkeep.replaced-<timestamp>`): only
   * when the new one does not hold every record of it.
   */
  exactSavedAs?: string
  /** Where the torn tail's bytes were copied (`<P>.mbox.torn-<timestamp>`). */
  tornSavedAs?: string
  tornBytes?: number
}


/**
 * Writes a repair (the caller holds the exclusive lock). Order, each step durable before the
 * next: (1) the torn tail is copied to `<P>.mbox.torn-<ts>`; (2) the old `.imap` and a stale
 * journal are renamed aside, and a copy of the old exactness file is kept aside when the new one
 * would not hold all its records (the file itself stays until it is replaced); (3) the mbox is truncated to the end of its last complete entry;
 * (4) the new exactness file, then the new `.imap`, are written atomically. A crash at any point
 * leaves every byte somewhere and a folder that `local check` reports and `local repair` repairs
 * again.
 */
export async function writeRepair(w: RepairWrite): Promise<RepairWritten> {
  const paths = folderPaths(w.root, w.relativePath)
  const stamp = setAsideTimestamp(w.at)
  const written: RepairWritten = {}
  const dir = dirname(paths.base)
  if (w.truncateAt !== undefined) {
    const target = await freeName(`${paths.mbox}.torn-${stamp}`)
    const bytes = await copyTail(paths.mbox, w.truncateAt, target)
    if (bytes > 0) {
      written.tornSavedAs = target
      written.tornBytes = bytes
    }
  }
  if (await exists(paths.imap)) {
    written.imapSavedAs = await freeName(`${paths.imap}.damaged-${stamp}`)
    await renameOrFail(paths.imap, written.imapSavedAs)
  }
  if (await exists(paths.journal)) {
    written.journalSavedAs = await freeName(`${paths.journal}.damaged-${stamp}`)
    await renameOrFail(paths.journal, written.journalSavedAs)
  }
  if (w.metadata !== undefined && (await exactWouldLose(paths.exact, w.metadata))) written.exactSavedAs = await keepCopyAside(paths.exact, '.replaced', w.at)
  await fsyncDirectory(dir)
  if (w.truncateAt !== undefined && written.tornBytes !== undefined) {
    const handle = await openNoFollow(paths.mbox, constants.O_WRONLY)
    try {
      await handle.truncate(w.truncateAt)
      await handle.sync()
    } catch (error) {
      throw localIoError(error, 'truncate', paths.mbox)
    } finally {
      await handle.close()
    }
  }
  if (w.metadata !== undefined) {
    if (w.metadata.messages.recordCount > 0 || (await exists(paths.exact))) await atomicWriteChunks(paths.exact, serializeExactChunks(w.metadata), {mode: 0o600})
    await atomicWrite(paths.imap, serializeMetadata(w.metadata), {mode: 0o600})
  }
  return written
}

/**
 * True when replacing the exactness file at `path` by one for `meta` would drop something: a row
 * whose entry (UID, offset, length) is not in `meta` with the very same record, or a file that
 * cannot be read at all.
 */
async function exactWouldLose(path: string, meta: FolderMetadata): Promise<boolean> {
  const text = await readIfFile(path)
  if (text === undefined) return false
  let file
  try {
    file = parseExactFile(text, path)
  } catch {
    return true
  }
  if (file.rows.length > 0 && file.uidValidity !== meta.uidValidity) return true
  const messages = meta.messages
  for (const [uid, offset, length, size, internalDate, appended, eol, q] of file.rows) {
    const row = messages.indexOf(uid)
    let found = false
    for (let r = row; r >= 0 && r < messages.length && !found; r++) {
      if (messages.uidAt(r) !== uid || messages.offsetAt(r) !== offset || messages.lengthAt(r) !== length) continue
      const tuple = messages.exactnessAt(r)
      found = tuple !== undefined && JSON.stringify(tuple.slice(1)) === JSON.stringify([size, internalDate, appended, eol]) && messages.quotingAt(r) === quotingOf(q)
    }
    if (!found) return true
  }
  return false
}

async function copyTail(mboxPath: string, from: number, target: string): Promise<number> {
  const source = await openNoFollow(mboxPath, constants.O_RDONLY)
  let out: FileHandle | undefined
  try {
    const {size} = await source.stat()
    if (size <= from) return 0
    out = await openNoFollow(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600)
    let position = 0
    for await (const chunk of readChunks(source, from, size)) {
      await writeAll(out, chunk, position)
      position += chunk.length
    }
    await out.sync()
    return position
  } catch (error) {
    throw localIoError(error, 'copy the torn tail of', mboxPath)
  } finally {
    await out?.close()
    await source.close()
  }
}


async function renameOrFail(from: string, to: string): Promise<void> {
  try {
    await rename(from, to)
  } catch (error) {
    throw localIoError(error, 'rename', from)
  }
}

/** A FolderMetadata for writeRepair. */
export function repairedMetadata(uidValidity: number, messages: MessageTable, state: {uidNext?: number; highestModseq?: string} = {}): FolderMetadata {
  const meta: FolderMetadata = {uidValidity, messages, extraKeys: {}}
  if (state.uidNext !== undefined) meta.uidNext = state.uidNext
  if (state.highestModseq !== undefined) meta.highestModseq = state.highestModseq
  return meta
}
