/**
 * Splits an mbox into entries and describes each for matching (the first step of `local repair`,
 * docs/repair.md), reading it in bounded chunks: once to split it (the codec's strict rule, plus
 * imap-backup's unquoted first line, see below) and once per entry for what matching needs
 * (Message-ID, Date and Subject from the header block only, the byte and line-break counts that
 * bound the original size, which tool wrote it).
 *
 * Splitting: both of mailkeep's quoting rules (mboxrd/quoting.ts) quote every body line matching
 * `^From `, so an unquoted `From ` line starts an entry (this also finds the entry after a torn
 * one). imap-backup did not quote the first line of a message, so a `From ` line directly after a
 * separator line belongs to the entry (a mailkeep entry never has one there: its first body line
 * would be `>From `).
 */
import {constants, type FileHandle} from 'node:fs/promises'
import {localIoError} from '../shared/errors.js'
import {readChunks} from './read-chunks.js'
import {EntryScanner, type EntrySpan} from './mboxrd/index.js'
import {openNoFollow} from './safe-path.js'
import {normaliseDate, normaliseMessageId, parseHeaderFields} from './message-headers.js'

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
