/**
 * Reads the lines of an untagged FETCH response (RFC 3501 §7.4.2) straight from the bytes, for
 * the FETCH tap (fetch-tap.ts). It knows only the shapes our FETCH commands get back: UID, FLAGS,
 * INTERNALDATE, RFC822.SIZE, MODSEQ (RFC 7162 §3.1.4.1) and BODY[]/BODY[]<origin> as a literal
 * or NIL, each once or more, in any order, separated by single spaces. Anything else (another
 * item, a quoted body, an escape in a string, a byte outside printable ASCII, extra spaces)
 * makes scanFetchHead() return undefined, and the tap hands the response to imapflow's parser,
 * which reads it as before. So for every line it accepts, the result must be what parseFetch()
 * (fetch-response.ts) makes of imapflow's parse of the same line; test/imap/fetch-reader.test.ts
 * checks that over random responses.
 */
import {parseInternalDate} from '../internal-date.js'
import type {FetchData} from './fetch-response.js'

export interface ScannedHead {
  data: FetchData
  /** The line ends with the literal of BODY[] (`{n}`, RFC 3501 §4.3): its announced size. */
  bodyLiteral?: number
}

const SP = 0x20
const LPAREN = 0x28
const RPAREN = 0x29
const DQUOTE = 0x22
const BACKSLASH = 0x5c
const LBRACE = 0x7b
const RBRACE = 0x7d
const LT = 0x3c
const GT = 0x3e
const STAR = 0x2a

/** ATOM-CHAR of RFC 3501 §9, without `]` (resp-specials) and `\`: what a flag keyword may hold. */
const ATOM_CHAR = new Uint8Array(128)
for (let c = 0x21; c < 0x7f; c++) ATOM_CHAR[c] = 1
for (const c of '(){%*"\\]') ATOM_CHAR[c.charCodeAt(0)] = 0

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39

/** Upper-cased ASCII letter (items and keywords are case-insensitive, RFC 3501 §9). */
const upper = (c: number | undefined): number => (c !== undefined && c >= 0x61 && c <= 0x7a ? c - 0x20 : (c ?? -1))

/** Whether `line[at…]` is `word` (upper case), case-insensitively. */
function matches(line: Buffer, at: number, word: string): boolean {
  for (let i = 0; i < word.length; i++) if (upper(line[at + i]) !== word.charCodeAt(i)) return false
  return true
}

/** The index after `* <n> FETCH (` when the line starts so (any case), else -1. */
export function fetchStart(line: Buffer, end: number): number {
  if (end < 12 || line[0] !== STAR || line[1] !== SP || !isDigit(line[2])) return -1
  let p = 3
  while (p < end && isDigit(line[p])) p++
  if (line[p] !== SP || !matches(line, p + 1, 'FETCH') || line[p + 6] !== SP || line[p + 7] !== LPAREN) return -1
  return p + 8
}

/**
 * The items of a FETCH line `line[0, end)` (its CRLF left out) that starts with `* <n> FETCH (`:
 * either the whole response, ending in `)`, or its start up to the literal of BODY[] at the end
 * of the line. Undefined when the line is not one of the shapes read here.
 */
export function scanFetchHead(line: Buffer, end: number): ScannedHead | undefined {
  const start = fetchStart(line, end)
  if (start < 0) return undefined
  const data: FetchData = {}
  const scan = new Scan(line, end, start)
  for (;;) {
    const literal = scan.item(data)
    if (literal === FAIL) return undefined
    if (literal !== NONE) return scan.p === end ? {data, bodyLiteral: literal} : undefined
    const next = line[scan.p]
    if (next === SP) {
      scan.p++
      continue
    }
    if (next === RPAREN && scan.p + 1 === end) return {data}
    return undefined
  }
}

/**
 * The rest of the line after a BODY[] literal is only the end of the response: `)`, maybe
 * followed by spaces (which imapflow's parser ignores). Anything else is read by imapflow's parser
 * (fetch-tap.ts).
 */
export function isPlainTail(line: Buffer, start: number, end: number): boolean {
  if (line[start] !== RPAREN) return false
  for (let p = start + 1; p < end; p++) if (line[p] !== SP) return false
  return true
}

/**
 * The size of the literal announced at the end of `line[0, end)` (`{n}` right before the line
 * break, as imapflow's stream reader finds it, handler/imap-stream.js), or -1. Leading zeros
 * are allowed (RFC 3501 `number`); more than 19 significant digits is `Infinity`.
 */
export function literalAtEnd(line: Buffer, end: number): number {
  let p = end - 1
  if (p < 1 || line[p] !== RBRACE) return -1
  p--
  while (p >= 0 && isDigit(line[p])) p--
  if (p < 0 || p === end - 2 || line[p] !== LBRACE) return -1
  return digitsValue(line, p + 1, end - 1)
}

/** The number written by the digits `line[from, to)`; more than 19 significant digits is `Infinity`. */
function digitsValue(line: Buffer, from: number, to: number): number {
  let first = from
  while (first < to - 1 && line[first] === 0x30) first++
  if (to - first > 19) return Infinity
  return Number(line.toString('latin1', first, to))
}

const FAIL = -2
const NONE = -1

class Scan {
  constructor(
    private readonly line: Buffer,
    private readonly end: number,
    public p: number,
  ) {}

  /** One item into `data`: NONE when done, FAIL, or the size of a BODY[] literal that ends the line. */
  item(data: FetchData): number {
    const line = this.line
    if (this.at('UID ')) return (data.uid = this.value()) < 0 ? FAIL : NONE
    if (this.at('RFC822.SIZE ')) return (data.size = this.value()) < 0 ? FAIL : NONE
    if (this.at('FLAGS (')) {
      const flags = this.flags()
      if (flags === undefined) return FAIL
      data.flags = flags
      return NONE
    }
    if (this.at('INTERNALDATE "')) {
      const text = this.quoted()
      if (text === undefined) return FAIL
      data.internalDate = parseInternalDate(text)
      return NONE
    }
    if (this.at('MODSEQ (')) {
      const n = this.number()
      if (n === undefined || line[this.p] !== RPAREN) return FAIL
      this.p++
      data.modseq = n
      return NONE
    }
    if (this.at('BODY[]')) {
      if (line[this.p] === LT) {
        this.p++
        const origin = this.number()
        if (origin === undefined || line[this.p] !== GT) return FAIL
        this.p++
        data.bodyOrigin = Number(origin)
      }
      if (line[this.p] !== SP) return FAIL
      this.p++
      if (matches(line, this.p, 'NIL') && (this.p + 3 === this.end || line[this.p + 3] === SP || line[this.p + 3] === RPAREN)) {
        this.p += 3
        data.body = null
        return NONE
      }
      // `{n}` must end the line: the literal follows it (RFC 3501 §4.3).
      if (line[this.p] !== LBRACE || line[this.end - 1] !== RBRACE) return FAIL
      const from = ++this.p
      while (this.p < this.end - 1 && isDigit(line[this.p])) this.p++
      if (this.p === from || this.p !== this.end - 1) return FAIL
      this.p = this.end
      return digitsValue(line, from, this.end - 1)
    }
    return FAIL
  }

  /** Whether the item here is `word` (any case): then past it. */
  private at(word: string): boolean {
    if (!matches(this.line, this.p, word)) return false
    this.p += word.length
    return true
  }

  /** Digits, as the number Number() makes of them (without a string for the usual ones); -1 if none. */
  private value(): number {
    const from = this.p
    let value = 0
    while (this.p < this.end && isDigit(this.line[this.p])) value = value * 10 + ((this.line[this.p++] as number) - 0x30)
    if (this.p === from) return -1
    // Beyond 15 digits the sum may round differently from Number()'s parse.
    return this.p - from <= 15 ? value : Number(this.line.toString('latin1', from, this.p))
  }

  /** Digits, as a string (so that a 63-bit MODSEQ keeps every digit). */
  private number(): string | undefined {
    const from = this.p
    while (this.p < this.end && isDigit(this.line[this.p])) this.p++
    return this.p === from ? undefined : this.line.toString('latin1', from, this.p)
  }

  /** `flag *(SP flag) )` after the `(`; `\Recent` left out, as parseFetch() does. */
  private flags(): string[] | undefined {
    const line = this.line
    const flags: string[] = []
    if (line[this.p] === RPAREN) {
      this.p++
      return flags
    }
    for (;;) {
      const from = this.p
      if (line[this.p] === BACKSLASH) this.p++
      const atom = this.p
      while (this.p < this.end && ATOM_CHAR[line[this.p] as number] === 1) this.p++
      if (this.p === atom) return undefined
      const flag = line.toString('latin1', from, this.p)
      if (flag.toUpperCase() !== '\\RECENT') flags.push(flag)
      const next = line[this.p++]
      if (next === RPAREN) return flags
      if (next !== SP) return undefined
    }
  }

  /** A quoted string of printable ASCII without escapes, after its opening `"`. */
  private quoted(): string | undefined {
    const line = this.line
    const from = this.p
    for (; this.p < this.end; this.p++) {
      const c = line[this.p] as number
      if (c === DQUOTE) {
        const text = line.toString('latin1', from, this.p)
        this.p++
        return text
      }
      if (c < 0x20 || c > 0x7e || c === BACKSLASH) return undefined
    }
    return undefined
  }
}
