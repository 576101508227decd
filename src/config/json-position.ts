/**
 * Locates a JSON syntax error by line and column. JSON.parse's own message cannot be shown: since
 * V8 10 it quotes the text around the error, and a config file holds passwords. So when JSON.parse
 * fails, this small RFC 8259 scanner finds the first offending position and says what was
 * expected there, naming at most a structural character (`{}[],:`), never file content.
 */

export interface JsonSyntaxProblem {
  /** Offset in UTF-16 code units. */
  readonly offset: number
  /** 1-based. */
  readonly line: number
  /** 1-based, in characters (code points). */
  readonly column: number
  readonly reason: string
}

class Fail {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {}
}

const STRUCTURAL = new Set(['{', '}', '[', ']', ',', ':'])
const MAX_DEPTH = 10_000

export function locateJsonSyntaxError(text: string): JsonSyntaxProblem | undefined {
  const scanner = new Scanner(text)
  try {
    scanner.document()
    return undefined
  } catch (error) {
    if (!(error instanceof Fail)) throw error
    return {offset: error.offset, ...lineAndColumn(text, error.offset), reason: error.reason}
  }
}

export function lineAndColumn(text: string, offset: number): {line: number; column: number} {
  let line = 1
  let lineStart = 0
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++
      lineStart = i + 1
    }
  }
  return {line, column: Array.from(text.slice(lineStart, offset)).length + 1}
}

class Scanner {
  private pos = 0
  private depth = 0

  constructor(private readonly text: string) {}

  document(): void {
    this.skipSpace()
    this.value()
    this.skipSpace()
    if (this.pos < this.text.length) throw new Fail(this.pos, 'unexpected data after the end of the JSON value')
  }

  private value(): void {
    const c = this.text[this.pos]
    if (c === undefined) throw new Fail(this.pos, 'unexpected end of file')
    if (c === '{') return this.object()
    if (c === '[') return this.array()
    if (c === '"') return this.string()
    if (c === '-' || (c >= '0' && c <= '9')) return this.number()
    for (const literal of ['true', 'false', 'null']) {
      if (this.text.startsWith(literal, this.pos)) {
        this.pos += literal.length
        return
      }
    }
    throw this.unexpected('expected a value (a string in double quotes, a number, true, false, null, an object or an array)')
  }

  private object(): void {
    this.enter()
    this.pos++ // {
    this.skipSpace()
    if (this.text[this.pos] === '}') {
      this.pos++
      this.depth--
      return
    }
    for (;;) {
      this.skipSpace()
      if (this.text[this.pos] !== '"') {
        const trailing = this.text[this.pos] === '}' ? ' (a trailing comma?)' : ''
        throw this.unexpected(`expected a property name in double quotes${trailing}`)
      }
      this.string()
      this.skipSpace()
      if (this.text[this.pos] !== ':') throw this.unexpected("expected ':' after the property name")
      this.pos++
      this.skipSpace()
      this.value()
      if (!this.another('}', 'a property value')) return
    }
  }

  /** After a property value or an element: a comma (another follows: true) or the closing bracket. */
  private another(close: '}' | ']', after: string): boolean {
    this.skipSpace()
    const c = this.text[this.pos]
    if (c === ',') {
      this.pos++
      return true
    }
    if (c === close) {
      this.pos++
      this.depth--
      return false
    }
    throw this.unexpected(`expected ',' or '${close}' after ${after} (a missing comma?)`)
  }

  private array(): void {
    this.enter()
    this.pos++ // [
    this.skipSpace()
    if (this.text[this.pos] === ']') {
      this.pos++
      this.depth--
      return
    }
    for (;;) {
      this.skipSpace()
      if (this.text[this.pos] === ']') throw this.unexpected('expected a value (a trailing comma?)')
      this.value()
      if (!this.another(']', 'an array element')) return
    }
  }

  private string(): void {
    const start = this.pos
    this.pos++ // "
    for (;;) {
      const code = this.text.charCodeAt(this.pos)
      if (Number.isNaN(code)) throw new Fail(start, 'unterminated string (no closing double quote)')
      if (code === 0x22) {
        this.pos++
        return
      }
      if (code < 0x20) throw new Fail(this.pos, 'control character (such as a line break or tab) inside a string; write it as \\n or \\t')
      if (code === 0x5c) {
        const next = this.text[this.pos + 1]
        if (next === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(this.text.slice(this.pos + 2, this.pos + 6))) throw new Fail(this.pos, 'invalid \\u escape in a string (needs 4 hex digits)')
          this.pos += 6
          continue
        }
        if (next === undefined || !'"\\/bfnrt'.includes(next)) throw new Fail(this.pos, 'invalid escape in a string (a backslash must be written \\\\)')
        this.pos += 2
        continue
      }
      this.pos++
    }
  }

  private number(): void {
    const match = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(this.text.slice(this.pos))
    if (match === null) throw new Fail(this.pos, 'invalid number')
    this.pos += match[0].length
    const c = this.text[this.pos]
    if (c !== undefined && /[0-9.eE+-]/.test(c)) throw new Fail(this.pos, 'invalid number')
  }

  private skipSpace(): void {
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos)
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return
      this.pos++
    }
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) throw new Fail(this.pos, 'nested too deeply')
  }

  /** A failure at the current position; names the character only if it is structural. */
  private unexpected(expectation: string): Fail {
    const c = this.text[this.pos]
    if (c === undefined) return new Fail(this.pos, `unexpected end of file, ${expectation}`)
    const what = STRUCTURAL.has(c) ? `unexpected '${c}'` : 'unexpected character'
    return new Fail(this.pos, `${what}, ${expectation}`)
  }
}
