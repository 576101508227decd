/**
 * INTERNALDATE (RFC 3501 §2.3.3, `date-time` in §9): `"14-Mar-2021 12:30:45 +0100"`. Parsed
 * here instead of by imapflow (which hands it to `new Date()` and falls back to the string), so
 * the result is exact and never depends on the JavaScript engine's lenient date parser.
 */
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
/** Month index by the lower-case letters' codes packed into one number. */
const MONTH_BY_CODE = new Map(MONTHS.map((name, i) => [pack(name.toLowerCase(), 0), i]))

/**
 * The instant, or null when the text is not an IMAP date-time:
 * `^\s?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$`, month names in
 * any case. Read character by character rather than with that regular expression: a backup reads
 * one per message, and the match objects were a twentieth of its garbage.
 */
export function parseInternalDate(text: string): Date | null {
  // date-day-fixed allows a leading space for one-digit days (` 1-Jan-2024 …`).
  let p = text.length > 0 && /\s/.test(text[0] as string) ? 1 : 0
  const dayDigits = digit(text, p + 1) >= 0 ? 2 : 1
  const day = number(text, p, dayDigits)
  p += dayDigits
  if (day < 0 || text.charCodeAt(p) !== 0x2d || text.charCodeAt(p + 4) !== 0x2d || text.length !== p + 24) return null
  if (!isLetter(text.charCodeAt(p + 1)) || !isLetter(text.charCodeAt(p + 2)) || !isLetter(text.charCodeAt(p + 3))) return null
  const month = MONTH_BY_CODE.get(pack(text, p + 1))
  const year = number(text, p + 5, 4)
  const hours = number(text, p + 10, 2)
  const minutes = number(text, p + 13, 2)
  const seconds = number(text, p + 16, 2)
  const sign = text.charCodeAt(p + 19)
  const zoneHours = number(text, p + 20, 2)
  const zoneMinutes = number(text, p + 22, 2)
  if (month === undefined || year < 0 || hours < 0 || minutes < 0 || seconds < 0 || zoneHours < 0 || zoneMinutes < 0) return null
  if (text.charCodeAt(p + 9) !== 0x20 || text.charCodeAt(p + 12) !== 0x3a || text.charCodeAt(p + 15) !== 0x3a || text.charCodeAt(p + 18) !== 0x20) return null
  if (sign !== 0x2b && sign !== 0x2d) return null
  const offset = (sign === 0x2d ? -1 : 1) * (zoneHours * 60 + zoneMinutes)
  const date = new Date(Date.UTC(year, month, day, hours, minutes, seconds) - offset * 60_000)
  return Number.isNaN(date.getTime()) ? null : date
}

/** The ASCII digit at `at` as a number, or -1. */
function digit(text: string, at: number): number {
  const c = text.charCodeAt(at)
  return c >= 0x30 && c <= 0x39 ? c - 0x30 : -1
}

/** The `count` digits at `at` as a number, or -1. */
function number(text: string, at: number, count: number): number {
  let value = 0
  for (let i = 0; i < count; i++) {
    const d = digit(text, at + i)
    if (d < 0) return -1
    value = value * 10 + d
  }
  return value
}

function isLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
}

/** Three letters at `at`, lower-cased, as one number. */
function pack(text: string, at: number): number {
  return ((text.charCodeAt(at) | 0x20) << 16) | ((text.charCodeAt(at + 1) | 0x20) << 8) | (text.charCodeAt(at + 2) | 0x20)
}

/** The date-time for APPEND, in UTC (`"dd-Mon-yyyy hh:mm:ss +0000"` without the quotes). */
export function formatInternalDate(date: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0')
  return `${p(date.getUTCDate())}-${MONTHS[date.getUTCMonth()]}-${date.getUTCFullYear()} ${p(date.getUTCHours())}:${p(date.getUTCMinutes())}:${p(
    date.getUTCSeconds(),
  )} +0000`
}
