/**
 * Header values for display (`local list`, the repair report): RFC 2047 encoded-words decoded,
 * raw 8-bit text read as UTF-8 (RFC 6532) or else Latin-1, and the Date field (RFC 5322 §3.3)
 * as ISO 8601 with its own offset, as imap-backup prints it (Ruby `DateTime#to_s`,
 * `2012-12-13T18:23:45+00:00`). Values arrive as latin1 strings (one code unit per byte) from
 * the store's header parser, so no byte is lost before it is decoded here.
 */
import {parseDateTime} from '../../store/mboxrd/index.js'

/** `=?charset[*lang]?B|Q?text?=` (RFC 2047 §2, RFC 2231 §5 for the language suffix). */
const ENCODED_WORD = /=\?([^?\s*]+)(?:\*[^?\s]*)?\?([BbQq])\?([^?\s]*)\?=/g

/** A header value (raw bytes as latin1) as text. */
export function decodeHeaderText(raw: string): string {
  let out = ''
  let last = 0
  let previousWasWord = false
  for (const match of raw.matchAll(ENCODED_WORD)) {
    const between = raw.slice(last, match.index)
    // RFC 2047 §6.2: whitespace between two adjacent encoded-words is not displayed.
    if (!(previousWasWord && /^[ \t]*$/.test(between))) out += rawText(between)
    const decoded = decodeWord(match[1]!, match[2]!, match[3]!)
    out += decoded ?? match[0]
    previousWasWord = decoded !== undefined
    last = match.index + match[0].length
  }
  out += rawText(raw.slice(last))
  return out.trim()
}

function decodeWord(charset: string, encoding: string, text: string): string | undefined {
  let bytes: Buffer
  if (encoding.toUpperCase() === 'B') {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined
    bytes = Buffer.from(text, 'base64')
  } else {
    const parts: number[] = []
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!
      if (c === '_') parts.push(0x20)
      else if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
        parts.push(Number.parseInt(text.slice(i + 1, i + 3), 16))
        i += 2
      } else parts.push(c.charCodeAt(0) & 0xff)
    }
    bytes = Buffer.from(parts)
  }
  try {
    return new TextDecoder(charset.toLowerCase()).decode(bytes)
  } catch {
    return undefined // a charset Node does not know: show the encoded-word as it is
  }
}

/** Raw header bytes: UTF-8 if they are valid UTF-8 (RFC 6532), else Latin-1. */
function rawText(latin1: string): string {
  if (!/[\u0080-\u00ff]/.test(latin1)) return latin1
  const bytes = Buffer.from(latin1, 'latin1')
  try {
    return new TextDecoder('utf-8', {fatal: true}).decode(bytes)
  } catch {
    return latin1
  }
}

/**
 * The Date field as `YYYY-MM-DDTHH:MM:SS±hh:mm` in the header's own zone, or '' when the field
 * is missing or not a date (the codec's RFC 5322 parser, so `local list` and the separator line
 * agree on what is a date). Zones other than numeric ones, `UT`/`GMT` and the US zones of RFC 5322
 * §4.3 count as `+00:00`; a leap second is shown as :59.
 */
export function isoDate(value: string | undefined): string {
  const date = parseDateTime(value)
  if (date === undefined || date.offset === undefined) return ''
  const {year, month, day, hour, minute, second, offset} = date
  const sign = offset < 0 ? '-' : '+'
  const abs = Math.abs(offset)
  return `${year}-${pad(month + 1)}-${pad(day)}T${pad(hour)}:${pad(minute)}:${pad(Math.min(second, 59))}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n)
}
