/**
 * The `From`-line quoting rule of mailkeep's mbox entries, and the two reading rules it must
 * answer to (docs/mbox-format.md, "Quoting"). Pure, no I/O; every writer and reader of entry
 * bodies decides line by line with the functions here, so the rule lives in one place.
 *
 * RFC 4155 §2 says a body line starting with "From " must be quoted so that it is not taken for
 * the next separator line; the reversible variant known as "mboxrd" adds one `>` to every line
 * matching `^>*From ` and a reader removes one from every line matching `^>+From `.
 *
 * mailkeep writes the rule whose exact inverse is imap-backup's reading rule (remove one `>` from
 * every line matching `^>+From`, no space needed), so that one reading rule reads both tools'
 * files, while a message's own `From:` header stays unquoted for other mbox readers:
 *
 *   writer ('compat')   quote `^From ` (no `>`, with the space) and `^>+From` (space or not)
 *   reader ('compat')   unquote `^>+From`
 *   reader ('strict')   unquote `^>+From ` — what mailkeep 0.1.0 wrote (and strict mboxrd)
 *
 * A "line" starts at the beginning of the text or after an LF (a bare CR does not start one).
 * Whether a line matches is known after its first bytes, which in a stream may come in several
 * chunks (`>>>Fro` | `m `): FromLineStart keeps what it has seen as two counts, so a line of a
 * million `>` costs no memory until it is decided.
 */
import {FROM_SPACE_BYTES, GT, LF} from './bytes.js'

/**
 * `compat`: the rule mailkeep writes now (see above); `strict`: mboxrd with the space, as
 * mailkeep 0.1.0 wrote. Entries of both kinds can share a folder (docs/design.md, "The exactness file").
 */
export type QuotingRule = 'compat' | 'strict'

/** The rule new entries are written with. */
export const WRITER_QUOTING: QuotingRule = 'compat'

/**
 * Whether a writer adds one `>` to a line that starts with `quotes` `>` bytes followed by the
 * first `matched` bytes of "From " (matched 4: "From" and then not a space; 5: "From ").
 */
export function writerQuotes(rule: QuotingRule, quotes: number, matched: number): boolean {
  if (rule === 'strict') return matched === 5
  return quotes === 0 ? matched === 5 : matched >= 4
}

/** Whether a reader removes one `>` from such a line (see writerQuotes for the counts). */
export function readerUnquotes(rule: QuotingRule, quotes: number, matched: number): boolean {
  return quotes > 0 && (rule === 'strict' ? matched === 5 : matched >= 4)
}

/**
 * The start of one line, classified a chunk at a time: `quotes` leading `>` bytes, then
 * `matched` bytes of "From " (0 to 5).
 */
export class FromLineStart {
  quotes = 0
  matched = 0

  /** True if bytes of the current line are held from earlier chunks. */
  get holding(): boolean {
    return this.quotes !== 0 || this.matched !== 0
  }

  /**
   * Continues with `chunk[position…]`. Returns true when the line start is decided: at the first
   * byte that does not continue `>*From ` (not consumed: it belongs to the rest of the line) or
   * once "From " is complete. Returns false when the chunk ended first (all of it consumed); at
   * the end of the text, the counts held then are the decision.
   */
  scan(chunk: Uint8Array, position: number): boolean {
    const n = chunk.length
    let q = position
    if (this.matched === 0) {
      while (q < n && chunk[q] === GT) q++
      this.quotes += q - position
    }
    while (q < n) {
      if (chunk[q] !== FROM_SPACE_BYTES[this.matched]) return true
      q++
      if (++this.matched === 5) return true
    }
    return false
  }

  reset(): void {
    this.quotes = 0
    this.matched = 0
  }
}

/** The bytes `>`×quotes followed by the first `matched` bytes of "From ". */
export function prefixBytes(quotes: number, matched: number): Buffer {
  const out = Buffer.alloc(quotes + matched, GT)
  for (let i = 0; i < matched; i++) out[quotes + i] = FROM_SPACE_BYTES[i] as number
  return out
}

/** Whether the writer `rule` quotes the line `text[start…]` (it may run past the line's LF). */
export function quotesLine(text: Uint8Array, start = 0, rule: QuotingRule = WRITER_QUOTING): boolean {
  const line = new FromLineStart()
  line.scan(text, start)
  return writerQuotes(rule, line.quotes, line.matched)
}

/** Whether the reader `rule` unquotes the line `text[start…]`. */
export function unquotesLine(text: Uint8Array, start: number, rule: QuotingRule): boolean {
  const line = new FromLineStart()
  line.scan(text, start)
  return readerUnquotes(rule, line.quotes, line.matched)
}

/** Every line of `text` quoted by the writer `rule` (no other change). Returns `text` if none is. */
export function quoteText(text: Buffer, rule: QuotingRule = WRITER_QUOTING): Buffer {
  return addGt(text, lineStarts(text, (start) => quotesLine(text, start, rule)))
}

/** Every line of `text` unquoted by the reader `rule` (one `>` removed). Returns `text` if none is. */
export function unquoteText(text: Buffer, rule: QuotingRule): Buffer {
  const starts = lineStarts(text, (start) => unquotesLine(text, start, rule))
  if (starts.length === 0) return text
  const out = Buffer.allocUnsafe(text.length - starts.length)
  let from = 0
  let to = 0
  for (const start of starts) {
    to += text.copy(out, to, from, start)
    from = start + 1
  }
  text.copy(out, to, from)
  return out
}

/**
 * The entry the compat writer makes of a message, from the one the strict writer (mailkeep
 * 0.1.0) made of it: the two differ only on lines that start with one or more `>` and `From`
 * not followed by a space, which the compat rule quotes and the strict rule leaves as they are
 * (every other line the strict writer quoted, it quoted as the compat writer does). Returns
 * `entry` itself when it has no such line. The record of the entry stays valid.
 */
export function strictToCompat(entry: Buffer): Buffer {
  const starts = lineStarts(entry, (start) => {
    const line = new FromLineStart()
    line.scan(entry, start)
    return line.quotes > 0 && line.matched === 4
  })
  return addGt(entry, starts)
}

/** `text` with one `>` inserted at each of the (ascending) line starts; `text` itself if none. */
function addGt(text: Buffer, starts: readonly number[]): Buffer {
  if (starts.length === 0) return text
  const out = Buffer.allocUnsafe(text.length + starts.length)
  let from = 0
  let to = 0
  for (const start of starts) {
    to += text.copy(out, to, from, start)
    out[to++] = GT
    from = start
  }
  text.copy(out, to, from)
  return out
}

/** Starts of the lines for which `pick` is true; only lines that can match (`>` or `F` first) are asked. */
function lineStarts(text: Uint8Array, pick: (start: number) => boolean): number[] {
  const out: number[] = []
  for (let start = 0; start < text.length; ) {
    const c = text[start]
    if ((c === GT || c === 0x46) && pick(start)) out.push(start)
    const lf = text.indexOf(LF, start)
    if (lf < 0) break
    start = lf + 1
  }
  return out
}
