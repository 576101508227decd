/**
 * Reads the few header fields the separator line needs from a header block.
 *
 * The block is decoded as latin1, which maps every byte to one code unit and back, so 8-bit
 * bytes (raw UTF-8 per RFC 6532, or undeclared legacy charsets) survive into the separator line
 * unchanged and nothing here can throw on invalid UTF-8.
 */

export interface SenderFields {
  /** The unfolded value of the first `From:` field. */
  from?: string
  sender?: string
  returnPath?: string
  date?: string
  /** The rest of a leading envelope line `From <envelope> <date>` (mbox, RFC 4155). */
  envelope?: string
}

/**
 * The wanted field names, matched at a line start. The name must be followed by optional WSP
 * (the obsolete syntax of RFC 5322 §4.5) and the colon, so `From-X:` or `Dates:` do not match.
 */
const WANTED_FIELD = /(from|sender|return-path|date)[ \t]*:/iy

const KEYS = new Map<string, keyof SenderFields>([
  ['from', 'from'],
  ['sender', 'sender'],
  ['return-path', 'returnPath'],
  ['date', 'date'],
])

export function readSenderFields(header: Buffer): SenderFields {
  const text = header.toString('latin1')
  const n = text.length
  const fields: SenderFields = {}
  let p = 0
  if (text.startsWith('From ')) {
    const end = lineEnd(text, 0)
    fields.envelope = text.slice(5, Math.max(5, contentEnd(text, 0, end)))
    p = end + 1
  }
  let current: keyof SenderFields | undefined
  let value = ''
  while (p < n) {
    const end = lineEnd(text, p)
    const stop = contentEnd(text, p, end)
    const first = text.charCodeAt(p)
    if (first === 0x20 || first === 0x09) {
      // RFC 5322 §2.2.3: unfolding removes the line break before the whitespace, nothing else.
      if (current !== undefined) value += text.slice(p, stop)
    } else {
      if (current !== undefined && fields[current] === undefined) fields[current] = value
      current = undefined
      WANTED_FIELD.lastIndex = p
      const m = WANTED_FIELD.exec(text)
      if (m !== null && WANTED_FIELD.lastIndex <= stop) {
        current = KEYS.get((m[1] as string).toLowerCase())
        value = text.slice(WANTED_FIELD.lastIndex, stop)
      }
    }
    p = end + 1
  }
  if (current !== undefined && fields[current] === undefined) fields[current] = value
  return fields
}

/** Index of the LF ending the line that starts at p, or the text length. */
function lineEnd(text: string, p: number): number {
  const lf = text.indexOf('\n', p)
  return lf < 0 ? text.length : lf
}

/** The end of the line's content: before a CR that precedes the LF. */
function contentEnd(text: string, p: number, end: number): number {
  return end > p && text.charCodeAt(end - 1) === 0x0d ? end - 1 : end
}
