/**
 * INTERNALDATE (RFC 3501 §2.3.3, `date-time` in §9): `"14-Mar-2021 12:30:45 +0100"`. Parsed
 * here instead of by imapflow (which hands it to `new Date()` and falls back to the string), so
 * the result is exact and never depends on the JavaScript engine's lenient date parser.
 */
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const DATE_TIME = /^\s?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/

/** The instant, or null when the text is not an IMAP date-time. */
export function parseInternalDate(text: string): Date | null {
  // date-day-fixed allows a leading space for one-digit days (` 1-Jan-2024 …`).
  const m = DATE_TIME.exec(text)
  if (!m) return null
  const month = MONTHS.findIndex((name) => name.toLowerCase() === m[2]!.toLowerCase())
  if (month < 0) return null
  const offset = (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9]))
  const utc = Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]))
  const date = new Date(utc - offset * 60_000)
  return Number.isNaN(date.getTime()) ? null : date
}

/** The date-time for APPEND, in UTC (`"dd-Mon-yyyy hh:mm:ss +0000"` without the quotes). */
export function formatInternalDate(date: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0')
  return `${p(date.getUTCDate())}-${MONTHS[date.getUTCMonth()]}-${date.getUTCFullYear()} ${p(date.getUTCHours())}:${p(date.getUTCMinutes())}:${p(
    date.getUTCSeconds(),
  )} +0000`
}
