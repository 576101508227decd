/**
 * The few header fields an upload needs, read from a message's header block: `Date:` (the
 * INTERNALDATE of a message whose backup has none, as imap-backup does; compat §7 step 3) and
 * `Message-ID:` (to find a message again on a server without UIDPLUS). Pure functions.
 *
 * The header block is the text before the first empty line, at most HEADER_LIMIT bytes; fields
 * are unfolded (RFC 5322 §2.2.3) and the first occurrence counts.
 */

const HEADER_LIMIT = 256 * 1024

export interface UploadHeaders {
  date?: string
  messageId?: string
}

/** `Date:` and `Message-ID:` of a message (latin1: every byte survives, nothing can throw). */
export function readUploadHeaders(message: Buffer): UploadHeaders {
  const head = message.subarray(0, Math.min(message.length, HEADER_LIMIT)).toString('latin1')
  const end = headerEnd(head)
  const lines = head.slice(0, end).split(/\r?\n/)
  const out: UploadHeaders = {}
  let current: keyof UploadHeaders | undefined
  let value = ''
  const finish = (): void => {
    if (current !== undefined && out[current] === undefined) out[current] = value.trim()
    current = undefined
  }
  for (const line of lines) {
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (current !== undefined) value += line
      continue
    }
    finish()
    const m = /^(date|message-id)[ \t]*:(.*)$/i.exec(line)
    if (m !== null) {
      current = m[1]!.toLowerCase() === 'date' ? 'date' : 'messageId'
      value = m[2]!
    }
  }
  finish()
  return out
}

function headerEnd(text: string): number {
  const m = /\r?\n\r?\n/.exec(text)
  return m === null ? text.length : m.index
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']

/** RFC 5322 §4.3 obsolete zones, and a few common abbreviations; unknown ones count as UTC. */
const ZONES: Record<string, number> = {
  ut: 0,
  utc: 0,
  gmt: 0,
  z: 0,
  est: -300,
  edt: -240,
  cst: -360,
  cdt: -300,
  mst: -420,
  mdt: -360,
  pst: -480,
  pdt: -420,
  wet: 0,
  west: 60,
  bst: 60,
  cet: 60,
  met: 60,
  cest: 120,
  mest: 120,
  eet: 120,
  eest: 180,
  msk: 180,
  jst: 540,
}

/** Same grammar as the store's asctime parser (comments removed, spaces collapsed first). */
const DATE_TIME =
  /^(?:[a-z]+ ?,? ?)?(\d{1,2}) ?([a-z]+) ?(\d{2,4}) (\d{1,2}) ?: ?(\d{2})(?: ?: ?(\d{2}))?(?: ?([+-]\d{2}:?\d{2}|[a-z]{1,5}\b))?/i

/**
 * The instant of a `Date:` value (RFC 5322 §3.3 and the obsolete forms of §4.3), or undefined
 * when it is missing or not a date. Military zones and unknown abbreviations count as `-0000`.
 */
export function parseDateHeader(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined
  const m = DATE_TIME.exec(stripComments(value).replace(/\s+/g, ' ').trim())
  if (m === null) return undefined
  const month = MONTHS.indexOf(m[2]!.slice(0, 3).toLowerCase())
  if (month < 0) return undefined
  const yearText = m[3]!
  let year = Number(yearText)
  if (yearText.length === 2) year += year < 50 ? 2000 : 1900
  else if (yearText.length === 3) year += 1900
  const day = Number(m[1])
  const hour = Number(m[4])
  const minute = Number(m[5])
  const second = m[6] === undefined ? 0 : Math.min(59, Number(m[6]))
  if (year < 1900 || day < 1 || day > 31 || hour > 23 || minute > 59) return undefined
  const utc = Date.UTC(year, month, day, hour, minute, second)
  const check = new Date(utc)
  if (check.getUTCMonth() !== month || check.getUTCDate() !== day) return undefined // 30 Feb
  return new Date(utc - zoneMinutes(m[7]) * 60_000)
}

function zoneMinutes(zone: string | undefined): number {
  if (zone === undefined) return 0
  const numeric = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)
  if (numeric !== null) return (numeric[1] === '-' ? -1 : 1) * (Number(numeric[2]) * 60 + Number(numeric[3]))
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
