/**
 * Extracting the first well-formed addr-spec (`local@domain`) from an address header such as
 * `From:`, `Sender:` or `Return-Path:` (RFC 5322 §3.4, §3.4.1, with the obsolete syntax of §4.4).
 *
 * Handled: display names (quoted ones may contain `,` `<` `@`), angle addresses, comments
 * anywhere (nested, RFC 5322 §3.2.2), groups (`team: a@b, c@d;`), several addresses, obsolete
 * source routes (`<@relay:a@b>`) and CFWS around the dots and the `@`. The addr-spec is returned
 * as written but without comments and whitespace; a quoted local part keeps its quotes.
 *
 * "Well-formed" means a local part and a domain (imap-backup's mail gem behaves the same way):
 * `example <www.example.com>` has no domain and yields nothing. Bytes ≥ 0x80 count as atom text
 * (RFC 6532 §3.2, internationalised addresses). Control characters make an address malformed,
 * which also keeps CR, LF and NUL out of the separator line.
 */

type TokenKind = 'atom' | 'quoted' | 'literal' | 'special' | 'bad'

interface Token {
  kind: TokenKind
  text: string
}

/** RFC 5322 §3.2.3 dot-atom-text, with 8-bit atext (RFC 6532). */
const DOT_ATOM = "[A-Za-z0-9!#$%&'*+\\-/=?^_`{|}~\\x80-\\xff]+(?:\\.[A-Za-z0-9!#$%&'*+\\-/=?^_`{|}~\\x80-\\xff]+)*"
const ATOMS = "[A-Za-z0-9!#$%&'*+\\-/=?^_`{|}~\\x80-\\xff \\t]*"
/**
 * The two forms nearly every message uses, `a@b.c` and `Name <a@b.c>` with a plain display
 * name, are matched directly; the result is the one the full parser below would give.
 */
// No two adjacent quantifiers can match the same text, so a failing match stays linear (the
// value is untrusted and may be 256 KiB long).
const SIMPLE = new RegExp(`^(?:${ATOMS}<(${DOT_ATOM}@${DOT_ATOM})>|[ \\t]*(${DOT_ATOM}@${DOT_ATOM}))[ \\t]*$`)

/** The first well-formed addr-spec in an address-list field value, if any. */
export function firstAddrSpec(value: string): string | undefined {
  const simple = SIMPLE.exec(value)
  if (simple !== null) return simple[1] ?? simple[2]
  for (const mailbox of mailboxes(tokenize(value))) {
    const spec = mailboxAddrSpec(mailbox)
    if (spec !== undefined) return spec
  }
  return undefined
}

/** RFC 5322 §3.2.3 atext, plus 8-bit bytes (RFC 6532). */
function isAtext(code: number): boolean {
  if (code >= 0x80) return code <= 0xff
  if ((code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a)) {
    return true
  }
  return "!#$%&'*+-/=?^_`{|}~".includes(String.fromCharCode(code))
}

function isControl(code: number): boolean {
  return (code < 0x20 && code !== 0x09) || code === 0x7f
}

function tokenize(s: string): Token[] {
  const tokens: Token[] = []
  const n = s.length
  let i = 0
  while (i < n) {
    const c = s.charCodeAt(i)
    if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) {
      i++
    } else if (c === 0x28 /* ( */) {
      i = skipComment(s, i)
    } else if (c === 0x22 /* " */) {
      const end = scanDelimited(s, i, 0x22)
      tokens.push({kind: end < 0 ? 'bad' : 'quoted', text: s.slice(i, end < 0 ? n : end)})
      i = end < 0 ? n : end
    } else if (c === 0x5b /* [ */) {
      const end = scanDelimited(s, i, 0x5d)
      tokens.push({kind: end < 0 ? 'bad' : 'literal', text: s.slice(i, end < 0 ? n : end)})
      i = end < 0 ? n : end
    } else if ('<>@,;:.'.includes(s[i] as string)) {
      tokens.push({kind: 'special', text: s[i] as string})
      i++
    } else if (isAtext(c)) {
      let j = i + 1
      while (j < n && isAtext(s.charCodeAt(j))) j++
      tokens.push({kind: 'atom', text: s.slice(i, j)})
      i = j
    } else {
      tokens.push({kind: 'bad', text: s[i] as string})
      i++
    }
  }
  return tokens
}

/** Skips a comment starting at `start` (RFC 5322 §3.2.2: nested, with quoted-pairs). */
function skipComment(s: string, start: number): number {
  let depth = 0
  for (let i = start; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x5c /* \ */) i++
    else if (c === 0x28) depth++
    else if (c === 0x29 && --depth === 0) return i + 1
  }
  return s.length
}

/**
 * Scans a quoted-string or domain-literal from its opening delimiter; returns the index after
 * the closing one, or -1 if it is unterminated or contains a control character.
 */
function scanDelimited(s: string, start: number, close: number): number {
  for (let i = start + 1; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (isControl(c)) return -1
    if (c === 0x5c) {
      i++
      if (i >= s.length || isControl(s.charCodeAt(i))) return -1
    } else if (c === close) {
      return i + 1
    } else if (close === 0x5d && c === 0x5b) {
      return -1
    }
  }
  return -1
}

/** Splits an address-list into mailboxes; group names and group delimiters are dropped. */
function* mailboxes(tokens: Token[]): Generator<Token[]> {
  let item: Token[] = []
  let inAngle = false
  for (const token of tokens) {
    const t = token.kind === 'special' ? token.text : ''
    if (t === '<') inAngle = true
    else if (t === '>') inAngle = false
    if (!inAngle && (t === ',' || t === ';')) {
      if (item.length > 0) yield item
      item = []
    } else if (!inAngle && t === ':') {
      // RFC 5322 §3.4 group: "display-name : [group-list] ;" — the name is not an address.
      item = []
    } else {
      item.push(token)
    }
  }
  if (item.length > 0) yield item
}

function mailboxAddrSpec(tokens: Token[]): string | undefined {
  const open = tokens.findIndex((t) => t.kind === 'special' && t.text === '<')
  if (open < 0) return addrSpec(tokens)
  const close = tokens.findIndex((t, i) => i > open && t.kind === 'special' && t.text === '>')
  if (close !== tokens.length - 1) return undefined
  // display-name is a phrase: words, and (obs-phrase, RFC 5322 §4.1) dots.
  for (let i = 0; i < open; i++) {
    const t = tokens[i] as Token
    if (!(t.kind === 'atom' || t.kind === 'quoted' || (t.kind === 'special' && t.text === '.'))) return undefined
  }
  let inner = tokens.slice(open + 1, close)
  const first = inner[0]
  if (first !== undefined && first.kind === 'special' && first.text === '@') {
    // obs-route (RFC 5322 §4.4): "@relay1,@relay2:" before the addr-spec.
    const colon = inner.findIndex((t) => t.kind === 'special' && t.text === ':')
    if (colon < 0) return undefined
    inner = inner.slice(colon + 1)
  }
  return addrSpec(inner)
}

/** addr-spec = local-part "@" domain, consuming every token. */
function addrSpec(tokens: Token[]): string | undefined {
  const at = tokens.findIndex((t) => t.kind === 'special' && t.text === '@')
  if (at < 0) return undefined
  const local = dottedWords(tokens.slice(0, at), true)
  if (local === undefined) return undefined
  const domainTokens = tokens.slice(at + 1)
  let domain: string | undefined
  const only = domainTokens[0]
  if (domainTokens.length === 1 && only !== undefined && only.kind === 'literal') domain = only.text
  else domain = dottedWords(domainTokens, false)
  if (domain === undefined) return undefined
  return `${local}@${domain}`
}

/** word *("." word); quoted strings are words only in the local part. */
function dottedWords(tokens: Token[], allowQuoted: boolean): string | undefined {
  if (tokens.length === 0 || tokens.length % 2 === 0) return undefined
  let out = ''
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token
    if (i % 2 === 1) {
      if (t.kind !== 'special' || t.text !== '.') return undefined
      out += '.'
    } else {
      if (!(t.kind === 'atom' || (allowQuoted && t.kind === 'quoted'))) return undefined
      out += t.text
    }
  }
  return out
}
