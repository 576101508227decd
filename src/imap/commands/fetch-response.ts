/**
 * One untagged FETCH response (RFC 3501 §7.4.2) read into plain values. `\Recent` is left out
 * of the flags: it is a session flag that no client can set or restore (RFC 3501 §2.3.2) and
 * IMAP4rev2 dropped it (RFC 9051 appendix E).
 */
import type {ImapResponse} from 'imapflow'
import {parseInternalDate} from '../internal-date.js'
import {list, strings, text} from '../response.js'
import type {MessageSummary} from '../types.js'

export interface FetchData {
  uid?: number
  flags?: string[]
  internalDate?: Date | null
  size?: number
  modseq?: string
  /** BODY[] or BODY[]<origin> (RFC 3501 §7.4.2); null for NIL. */
  body?: Buffer | null
  /** BODY[HEADER.FIELDS (…)] (RFC 3501 §6.4.5): the header fields asked for. */
  headerFields?: Buffer
  bodyOrigin?: number
}

/**
 * A message's summary from its merged items, `size` standing for RFC822.SIZE (the caller says
 * what counts when the server left it out). One place, so that every FETCH that yields a
 * message (summaries, whole messages, downloads) reports it alike; MODSEQ only when sent.
 */
export function messageSummary(uid: number, merged: FetchData, size: number): MessageSummary {
  const summary: MessageSummary = {uid, flags: merged.flags ?? [], internalDate: merged.internalDate ?? null, size}
  if (merged.modseq !== undefined) summary.modseq = merged.modseq
  return summary
}

export function parseFetch(untagged: ImapResponse): FetchData {
  const items = list(untagged.attributes?.[1])
  const data: FetchData = {}
  for (let i = 0; i + 1 < items.length; i += 2) {
    const key = items[i]
    const value = items[i + 1]
    if (key === null || key === undefined || Array.isArray(key)) continue
    const name = String(key.value ?? '').toUpperCase()
    switch (name) {
      case 'UID': {
        const s = text(value)
        if (s !== null && /^\d+$/.test(s)) data.uid = Number(s)
        break
      }
      case 'FLAGS':
        data.flags = strings(value).filter((flag) => flag.toUpperCase() !== '\\RECENT')
        break
      case 'INTERNALDATE': {
        const s = text(value)
        data.internalDate = s === null ? null : parseInternalDate(s)
        break
      }
      case 'RFC822.SIZE': {
        const s = text(value)
        if (s !== null && /^\d+$/.test(s)) data.size = Number(s)
        break
      }
      case 'MODSEQ': {
        const s = text(list(value)[0])
        if (s !== null && /^\d+$/.test(s)) data.modseq = s
        break
      }
      case 'BODY': {
        if (key.section && key.section.length > 0) {
          // BODY[HEADER.FIELDS (…)]: the fields fetchHeaderFields() asked for.
          const part = key.section[0]
          if (part !== null && part !== undefined && !Array.isArray(part) && String(part.value ?? '').toUpperCase() === 'HEADER.FIELDS') {
            data.headerFields = body(value) ?? Buffer.alloc(0)
          }
          break
        }
        // Otherwise only the whole message: BODY[] and its partial form BODY[]<origin>.
        data.body = body(value)
        if (key.partial && typeof key.partial[0] === 'number') data.bodyOrigin = key.partial[0]
        break
      }
    }
  }
  return data
}

function body(value: ReturnType<typeof list>[number] | undefined): Buffer | null {
  if (value === null || value === undefined || Array.isArray(value)) return null
  if (Buffer.isBuffer(value.value)) return value.value
  // A server may send a small body as a quoted string (nstring, RFC 3501 §9); imapflow's
  // tokenizer decoded it as UTF-8, so encoding it the same way gives back its bytes.
  if (typeof value.value === 'string') return Buffer.from(value.value, 'utf8')
  return null
}
