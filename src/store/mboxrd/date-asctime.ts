/**
 * Turning a `Date:` header (RFC 5322 §3.3, with the obsolete forms of §4.3; parsed by
 * date-time.ts) into the asctime text of the separator line, `%a %b %e %H:%M:%S %Y`, e.g.
 * `Tue Mar  5 08:07:09 2024`.
 *
 * As imap-backup does (compat §4.2), the time is shown in the header's OWN zone: the fields are
 * printed as written, never converted to UTC, so the zone only has to be well-formed. The
 * weekday is computed from the date, not copied from the header. An invalid date leaves the
 * asctime out.
 */
import {parseDateTime} from './date-time.js'

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/** The asctime text for a Date header value, or undefined if the date is missing or invalid. */
export function asctimeFromDate(value: string | undefined): string | undefined {
  const date = parseDateTime(value)
  if (date === undefined) return undefined
  const {year, month, day, hour, minute, second} = date
  return (
    `${DAYS[weekdayOf(year, month, day)]} ${MONTHS[month]} ${String(day).padStart(2, ' ')} ` +
    `${pad2(hour)}:${pad2(minute)}:${pad2(second)} ${year}`
  )
}

/** Day of the week (0 = Sunday) in the proleptic Gregorian calendar (Sakamoto's method). */
function weekdayOf(year: number, month: number, day: number): number {
  const offsets = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4]
  const y = month < 2 ? year - 1 : year
  return (y + Math.floor(y / 4) - Math.floor(y / 100) + Math.floor(y / 400) + (offsets[month] as number) + day) % 7
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n)
}
