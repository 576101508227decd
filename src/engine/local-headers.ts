/**
 * Header values for display (`local list`, the repair report): RFC 2047 encoded-words decoded,
 * raw 8-bit text read as UTF-8 (RFC 6532) or else Latin-1, and the Date field (RFC 5322 §3.3)
 * as ISO 8601 with its own offset, as imap-backup prints it (Ruby `DateTime#to_s`,
 * `2012-12-13T18:23:45+00:00`). Values arrive as latin1 strings (one code unit per byte) from
 * the store's header parser, so no byte is lost before it is decoded here.
 */

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

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']
const MONTH_NAMES = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december']
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday']

/** RFC 5322 §4.3 obsolete zones, in minutes east of UTC. Military letters count as -0000 (§4.3). */
const ZONES: Record<string, number> = {ut: 0, utc: 0, gmt: 0, z: 0, est: -300, edt: -240, cst: -360, cdt: -300, mst: -420, mdt: -360, pst: -480, pdt: -420}

const DATE_TIME =
  /^(?:([a-z]+) ?,? ?)?(\d{1,2}) ?([a-z]+) ?(\d{2,4}) (\d{1,2}) ?: ?(\d{2})(?: ?: ?(\d{2}))?(?: ?([+-]\d{2}:?\d{2}|[a-z]{1,5}\b))?/i

/**
 * The Date field as `YYYY-MM-DDTHH:MM:SS±hh:mm` in the header's own zone, or '' when the field
 * is missing or not a date (RFC 5322 §3.3 with the obsolete forms of §4.3, comments allowed).
 */
export function isoDate(value: string | undefined): string {
  if (value === undefined) return ''
  const m = DATE_TIME.exec(stripComments(value).replace(/\s+/g, ' ').trim())
  if (m === null) return ''
  const [, weekday, dayText, monthText, yearText, hourText, minuteText, secondText, zoneText] = m
  if (weekday !== undefined && !DAYS.includes(weekday.toLowerCase())) return ''
  const lower = monthText!.toLowerCase()
  let month = MONTHS.indexOf(lower)
  if (month < 0) month = MONTH_NAMES.indexOf(lower)
  if (month < 0) return ''
  const year = fullYear(yearText!)
  const day = Number(dayText)
  const hour = Number(hourText)
  const minute = Number(minuteText)
  const second = secondText === undefined ? 0 : Number(secondText)
  if (year < 1900 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 60) return ''
  const offset = zoneMinutes(zoneText)
  if (offset === undefined) return ''
  const sign = offset < 0 ? '-' : '+'
  const abs = Math.abs(offset)
  return `${year}-${pad(month + 1)}-${pad(day)}T${pad(hour)}:${pad(minute)}:${pad(Math.min(second, 59))}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
}

function zoneMinutes(zone: string | undefined): number | undefined {
  if (zone === undefined) return 0
  const numeric = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)
  if (numeric !== null) {
    const minutes = Number(numeric[2]) * 60 + Number(numeric[3])
    if (Number(numeric[3]) > 59) return undefined
    return numeric[1] === '-' ? -minutes : minutes
  }
  return ZONES[zone.toLowerCase()] ?? 0
}

function stripComments(value: string): string {
  if (!value.includes('(')) return value
  let out = ''
  let depth = 0
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!
    if (depth > 0 && c === '\\') i++
    else if (c === '(') {
      if (depth++ === 0) out += ' '
    } else if (c === ')' && depth > 0) depth--
    else if (depth === 0) out += c
  }
  return out
}

function fullYear(text: string): number {
  const year = Number(text)
  if (text.length === 2) return year < 50 ? 2000 + year : 1900 + year
  if (text.length === 3) return 1900 + year
  return year
}

function daysInMonth(year: number, month: number): number {
  if (month === 1) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28
  return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month]!
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n)
}
