/**
 * The one parser of `Date:` header values (RFC 5322 §3.3 date-time, with the obsolete forms of
 * §4.3). The separator line's asctime (date-asctime.ts), `local list` and the INTERNALDATE of an
 * upload (src/engine) all read dates with it, so they agree on what is a date.
 *
 * Accepted, beyond the strict grammar: no weekday; missing seconds; 2- and 3-digit years
 * (§4.3: 00–49 → 20xx, 50–99 → 19xx, 3 digits → +1900); full English day and month names; any
 * letter case; alphabetic zones (`UT`, `GMT`, `EST`, military letters, and other abbreviations
 * such as `CET`), `+hh:mm`, a missing zone, more than one zone (`+0100 CET`), and comments
 * anywhere (`+0100 (CET)`). Anything else (ISO 8601, trailing garbage), or an impossible date such
 * as 30 Feb or 24:00, is not a date. A weekday is checked for spelling only: RFC 5322 says it must
 * agree with the date, but real mail gets it wrong and Ruby's parser ignores it.
 */

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']
const DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday']
const MONTH_NAMES = [
  ...['january', 'february', 'march', 'april', 'may', 'june'],
  ...['july', 'august', 'september', 'october', 'november', 'december'],
]

/** Lower-case abbreviations and full names → index. */
const DAY_INDEX = nameTable(DAYS, DAY_NAMES)
const MONTH_INDEX = nameTable(MONTHS, MONTH_NAMES)

/**
 * RFC 5322 §4.3 obsolete zones, in minutes east of UTC. Military letters and every other
 * abbreviation are not listed: §4.3 says to take them as `-0000` (0).
 */
const ZONES: Readonly<Record<string, number>> = {ut: 0, utc: 0, gmt: 0, z: 0, est: -300, edt: -240, cst: -360, cdt: -300, mst: -420, mdt: -360, pst: -480, pdt: -420}

/**
 * Matched against the value with comments removed and whitespace runs collapsed to one space,
 * so that no two quantifiers compete for the same spaces (linear time on hostile input). The
 * first zone is captured; the ones after it are only checked for form.
 */
const DATE_TIME =
  /^(?:([a-z]+) ?,? ?)?(\d{1,2}) ?([a-z]+) ?(\d{2,4}) (\d{1,2}) ?: ?(\d{2})(?: ?: ?(\d{2}))?(?: ?([+-]\d{2}:?\d{2}|[a-z]{1,5}\b)(?: ?(?:[+-]\d{2}:?\d{2}|[a-z]{1,5}\b))*)?$/i

/** A `Date:` value as written: the fields are in the header's own zone. */
export interface DateTimeFields {
  year: number
  /** 0 = January. */
  month: number
  day: number
  hour: number
  minute: number
  /** 0 to 60 (60 is a leap second). */
  second: number
  /** The first zone as written (`+0100`, `+01:00`, `EST`, `CET`), undefined when there is none. */
  zone: string | undefined
  /**
   * The zone in minutes east of UTC: a numeric zone as written; `UT`, `GMT` and the US zones of
   * §4.3; 0 for a missing zone and for other letters (§4.3: `-0000`, unknown). Undefined when a
   * numeric zone's minutes are more than 59.
   */
  offset: number | undefined
}

/** The fields of a `Date:` header value, or undefined if it is missing or not a date. */
export function parseDateTime(value: string | undefined): DateTimeFields | undefined {
  if (value === undefined) return undefined
  const m = DATE_TIME.exec(stripComments(value).replace(/\s+/g, ' ').trim())
  if (m === null) return undefined
  const [, weekday, dayText, monthText, yearText, hourText, minuteText, secondText, zone] = m
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
  return {year, month, day, hour, minute, second, zone, offset: zoneOffset(zone)}
}

function zoneOffset(zone: string | undefined): number | undefined {
  if (zone === undefined) return 0
  const numeric = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)
  if (numeric === null) return ZONES[zone.toLowerCase()] ?? 0
  if (Number(numeric[3]) > 59) return undefined
  const minutes = Number(numeric[2]) * 60 + Number(numeric[3])
  return numeric[1] === '-' ? -minutes : minutes
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
  short.forEach((name, i) => table.set(name, i))
  long.forEach((name, i) => table.set(name, i))
  return table
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
