/**
 * The few header fields an upload needs, read from a message's header block: `Date:` (the
 * INTERNALDATE of a message whose backup has none, as imap-backup does; compat §7 step 3) and
 * `Message-ID:` (to find a message again on a server without UIDPLUS). Pure functions.
 *
 * The header block is the text before the first empty line, at most HEADER_LIMIT bytes; fields
 * are unfolded (RFC 5322 §2.2.3) and the first occurrence counts.
 */
import {parseDateTime} from '../../store/mboxrd/index.js'

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

/**
 * Common abbreviations beyond RFC 5322 §4.3, in minutes east of UTC, taken at their usual meaning
 * for an INTERNALDATE (the codec's parser counts them as `-0000`).
 */
const MORE_ZONES: Readonly<Record<string, number>> = {
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

/**
 * The instant of a `Date:` value (the codec's RFC 5322 parser, obsolete forms of §4.3 included),
 * or undefined when it is missing or not a date. Military zones and unknown abbreviations count
 * as `-0000`; a leap second as :59.
 */
export function parseDateHeader(value: string | undefined): Date | undefined {
  const date = parseDateTime(value)
  if (date === undefined) return undefined
  const offset = (date.zone === undefined ? undefined : MORE_ZONES[date.zone.toLowerCase()]) ?? date.offset
  if (offset === undefined) return undefined
  const utc = Date.UTC(date.year, date.month, date.day, date.hour, date.minute, Math.min(59, date.second))
  return new Date(utc - offset * 60_000)
}
