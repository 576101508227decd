/**
 * Turning a `Date:` header (RFC 5322 §3.3, with the obsolete forms of §4.3) into the asctime
 * text of the separator line, `%a %b %e %H:%M:%S %Y`, e.g. `Tue Mar  5 08:07:09 2024`.
 *
 * As imap-backup does (compat §4.2), the time is shown in the header's OWN zone: the fields are
 * printed as written, never converted to UTC, so the zone only has to be well-formed. The
 * weekday is computed from the date; a weekday in the header is checked for spelling only
 * (RFC 5322 says it must agree, but real mail gets it wrong and Ruby's parser ignores it).
 *
 * Accepted, beyond the strict grammar: no weekday; missing seconds; 2- and 3-digit years
 * (§4.3: 00–49 → 20xx, 50–99 → 19xx, 3 digits → +1900); full English day and month names;
 * alphabetic zones (`UT`, `GMT`, `EST`, military letters, and other abbreviations such as
 * `CET`), `+hh:mm`, a missing zone, and comments anywhere (`+0100 (CET)`). Anything else, or an
 * impossible date such as 30 Feb or 24:00, is invalid and the asctime is left out.
 */

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday']
const MONTH_NAMES = [
  ...['january', 'february', 'march', 'april', 'may', 'june'],
  ...['july', 'august', 'september', 'october', 'november', 'december'],
]

/** Lower-case abbreviations and full names → index. */
const DAY_INDEX = nameTable(DAYS, DAY_NAMES)
const MONTH_INDEX = nameTable(MONTHS, MONTH_NAMES)

/**
 * Matched against the value with comments removed and whitespace runs collapsed to one space,
 * so that no two quantifiers compete for the same spaces (linear time on hostile input).
 */
const DATE_TIME =
  /^(?:([a-z]+) ?,? ?)?(\d{1,2}) ?([a-z]+) ?(\d{2,4}) (\d{1,2}) ?: ?(\d{2})(?: ?: ?(\d{2}))?((?: ?(?:[+-]\d{2}:?\d{2}|[a-z]{1,5}\b))*)$/i

/** The asctime text for a Date header value, or undefined if the date is missing or invalid. */
export function asctimeFromDate(value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  const m = DATE_TIME.exec(stripComments(value).replace(/\s+/g, ' ').trim())
  if (m === null) return undefined
  const [, weekday, dayText, monthText, yearText, hourText, minuteText, secondText] = m
  if (weekday !== undefined && !DAY_INDEX.has(weekday.toLowerCase())) return undefined
  const month = MONTH_INDEX.get((monthText as string).toLowerCase())
  if (month === undefined) return undefined
  const year = fullYear(yearText as string)
  const day = Number(dayText)
  const hour = Number(hourText)
  const minute = Number(minuteText)
  const second = secondText === undefined ? 0 : Number(secondText)
  // RFC 5322 §3.3: year 1900 or later; second 60 is a leap second.
  if (year < 1900 || day < 1 || day > daysInMonth(year, month)) return undefined
  if (hour > 23 || minute > 59 || second > 60) return undefined
  return (
    `${DAYS[weekdayOf(year, month, day)]} ${MONTHS[month]} ${String(day).padStart(2, ' ')} ` +
    `${pad2(hour)}:${pad2(minute)}:${pad2(second)} ${year}`
  )
}

/** Replaces comments (nested, with quoted-pairs; RFC 5322 §3.2.2) by a space. */
function stripComments(value: string): string {
  if (!value.includes('(')) return value
  let out = ''
  let depth = 0
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string
    if (depth > 0 && c === '\\') {
      i++
    } else if (c === '(') {
      if (depth++ === 0) out += ' '
    } else if (c === ')' && depth > 0) {
      depth--
    } else if (depth === 0) {
      out += c
    }
  }
  return out
}

function nameTable(short: string[], long: string[]): Map<string, number> {
  const table = new Map<string, number>()
  short.forEach((name, i) => table.set(name.toLowerCase(), i))
  long.forEach((name, i) => table.set(name, i))
  return table
}

/** Day of the week (0 = Sunday) in the proleptic Gregorian calendar (Sakamoto's method). */
function weekdayOf(year: number, month: number, day: number): number {
  const offsets = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4]
  const y = month < 2 ? year - 1 : year
  return (y + Math.floor(y / 4) - Math.floor(y / 100) + Math.floor(y / 400) + (offsets[month] as number) + day) % 7
}

function fullYear(text: string): number {
  const year = Number(text)
  if (text.length === 2) return year < 50 ? 2000 + year : 1900 + year
  if (text.length === 3) return 1900 + year
  return year
}

function daysInMonth(year: number, month: number): number {
  if (month === 1) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28
  return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month] as number
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n)
}
