/**
 * Splitting an mbox into entries by its separator lines, for the two jobs that cannot use the
 * offsets of the `.imap` file: migrating version-2 metadata (compat §4.3) and rebuilding a lost
 * or damaged `.imap`. Normal reads never scan (docs/design.md, "The .mbox file").
 *
 * A separator line is a line that starts with "From " (RFC 4155 §2) and
 * - `strict` (files written by mailkeep): nothing more. Strict MBOXRD quotes every body line
 *   matching `^>*From `, so an unquoted one can only be a separator. This also finds the next
 *   entry after a torn one that lacks its final blank line.
 * - `legacy` (files written by imap-backup, and the safe choice when the writer is unknown):
 *   it is at offset 0 or follows an empty line (no bytes, or only a CR). imap-backup never quoted
 *   the first line of a message, so a message that starts with an mbox envelope line
 *   `From x@y …` shows an unquoted "From " line right after the separator; it follows a
 *   non-empty line and is not taken for a new entry. imap-backup ends every entry with a blank
 *   line, so every true separator qualifies.
 *
 * An entry runs from its separator line to the next one (its trailing blank line included). If
 * the file does not start with "From ", the bytes before the first separator are returned as a
 * first entry at offset 0, so the spans always cover the whole file; callers check it with
 * isEntryStart().
 */
import {CR, FROM_SPACE_BYTES, LF, startsWithFromSpace} from './bytes.js'

export type ScanRule = 'strict' | 'legacy'

export interface EntrySpan {
  offset: number
  length: number
}

/** True if the bytes start with "From " (the first bytes of every entry; invariant I1). */
export function isEntryStart(bytes: Uint8Array): boolean {
  return startsWithFromSpace(bytes)
}

/** Incremental scanner: push() chunks in file order, then end(). */
export class EntryScanner {
  private position = 0
  private entryStart = 0
  /** Whether the line before the current one was empty (true before the first line). */
  private previousEmpty = true
  private lineLength = 0
  private lineFirst = -1
  /** Bytes of "From " matched at the start of the current line; -1 once it cannot match. */
  private matched = 0
  private readonly spans: EntrySpan[] = []

  constructor(private readonly rule: ScanRule = 'legacy') {}

  /** Feeds the next chunk; returns the entries completed by it. */
  push(chunk: Uint8Array): EntrySpan[] {
    const n = chunk.length
    let p = 0
    while (p < n) {
      const lf = chunk.indexOf(LF, p)
      const stop = lf < 0 ? n : lf
      if (this.matched >= 0 && this.matched < 5) this.matchFrom(chunk, p, stop)
      if (this.lineLength === 0 && stop > p) this.lineFirst = chunk[p] as number
      this.lineLength += stop - p
      if (lf < 0) break
      this.previousEmpty = this.lineLength === 0 || (this.lineLength === 1 && this.lineFirst === CR)
      this.lineLength = 0
      this.matched = 0
      p = lf + 1
    }
    this.position += n
    return this.spans.splice(0)
  }

  /** Ends the file; returns the last entry, if any. */
  end(): EntrySpan[] {
    if (this.position > this.entryStart) {
      this.spans.push({offset: this.entryStart, length: this.position - this.entryStart})
    }
    this.entryStart = this.position
    return this.spans.splice(0)
  }

  private matchFrom(chunk: Uint8Array, p: number, stop: number): void {
    let q = p
    while (q < stop && this.matched < 5) {
      if (chunk[q] !== FROM_SPACE_BYTES[this.matched]) {
        this.matched = -1
        return
      }
      this.matched++
      q++
    }
    if (this.matched < 5) return
    if (this.rule === 'legacy' && !this.previousEmpty) return
    const lineOffset = this.position + p - this.lineLength
    if (lineOffset > this.entryStart) {
      this.spans.push({offset: this.entryStart, length: lineOffset - this.entryStart})
      this.entryStart = lineOffset
    }
  }
}

/** Splits a whole mbox, or its chunks in order, into entries (see the rules above). */
export function scanEntries(mbox: Uint8Array | Iterable<Uint8Array>, rule: ScanRule = 'legacy'): EntrySpan[] {
  const scanner = new EntryScanner(rule)
  const spans: EntrySpan[] = []
  const chunks: Iterable<Uint8Array> = mbox instanceof Uint8Array ? [mbox] : mbox
  for (const chunk of chunks) append(spans, scanner.push(chunk))
  append(spans, scanner.end())
  return spans
}

/** scanEntries() for a stream, such as fs.createReadStream(path). */
export async function scanEntriesAsync(
  chunks: AsyncIterable<Uint8Array>,
  rule: ScanRule = 'legacy',
): Promise<EntrySpan[]> {
  const scanner = new EntryScanner(rule)
  const spans: EntrySpan[] = []
  for await (const chunk of chunks) append(spans, scanner.push(chunk))
  append(spans, scanner.end())
  return spans
}

/** push(...items) overflows the stack for very large arrays. */
function append(to: EntrySpan[], items: EntrySpan[]): void {
  for (const item of items) to.push(item)
}
