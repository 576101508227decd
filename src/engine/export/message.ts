/**
 * Reading the messages of one backed-up folder for an export: one message in memory at a time
 * (bounded memory whatever the folder size), each with what the export formats need besides its
 * bytes: its stored flags and when it was received.
 *
 * The backup is only read (the caller opened the account with mode 'read', which takes the
 * shared lock and never writes; docs/design.md I5).
 */
import {DamagedError} from '../../shared/errors.js'
import {asctimeFromDate, HEADER_CAP, readSenderFields} from '../../store/mboxrd/index.js'
import type {FolderStore} from '../../store/folder-store.js'

export interface ExportMessage {
  uid: number
  /** The original bytes (mailkeep entries), or imap-backup's stored text (legacy entries). */
  bytes: Buffer
  exact: boolean
  /** Stored form: `Seen`, `Flagged`, …, keywords as they are. */
  flags: readonly string[]
  /** Milliseconds since the epoch: INTERNALDATE, else the Date header; null if neither is known. */
  receivedAt: number | null
}

export type MessageRead = {ok: true; message: ExportMessage} | {ok: false; uid: number; reason: string}

/**
 * The folder's messages in mbox order, each UID once (imap-backup's duplicate-UID bug can list
 * one twice; the store reads the first, so the second would be the same message again). A
 * message the store cannot decode is yielded as a failure with its reason, so the caller can
 * report it and go on; any other error ends the iteration.
 */
export async function* readFolderMessages(folder: FolderStore, signal: AbortSignal): AsyncGenerator<MessageRead> {
  const seen = new Set<number>()
  for (const entry of folder.messages) {
    if (signal.aborted) throw signal.reason
    if (seen.has(entry.uid)) continue
    seen.add(entry.uid)
    let stored
    try {
      stored = await folder.readMessage(entry.uid)
    } catch (error) {
      if (error instanceof DamagedError) {
        yield {ok: false, uid: entry.uid, reason: error.message}
        continue
      }
      throw error
    }
    const internalDate = folder.exactness(entry.uid)?.[2]
    yield {
      ok: true,
      message: {
        uid: entry.uid,
        bytes: stored.bytes,
        exact: stored.exact,
        flags: entry.flags,
        receivedAt: typeof internalDate === 'number' ? internalDate * 1000 : dateHeaderTime(stored.bytes),
      },
    }
  }
}

/**
 * The instant of the message's `Date:` header, if it is a valid RFC 5322 date by the store's
 * rules (date-asctime.ts, so both agree on what is valid); otherwise null.
 */
export function dateHeaderTime(message: Buffer): number | null {
  const value = readSenderFields(headerBlock(message)).date
  if (value === undefined || asctimeFromDate(value) === undefined) return null
  // V8 reads RFC 5322 dates (zones, comments, 2-digit years) into an instant; the check above
  // keeps its lenient guesses for other strings out.
  const time = Date.parse(value.replace(/\([^)]*\)/g, ' '))
  return Number.isFinite(time) ? time : null
}

/** The bytes before the first empty line, at most HEADER_CAP of them (cut back to a line end). */
export function headerBlock(message: Buffer): Buffer {
  const limit = Math.min(message.length, HEADER_CAP)
  let start = 0
  while (start < limit) {
    const lf = message.indexOf(0x0a, start)
    if (lf < 0 || lf >= limit) break
    const length = lf - start
    if (length === 0 || (length === 1 && message[start] === 0x0d)) return message.subarray(0, start)
    start = lf + 1
  }
  if (message.length <= HEADER_CAP) return message
  return message.subarray(0, start)
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/** `Tue Mar  5 08:07:09 2024`: C's asctime (day padded with a space), in UTC (RFC 4155 §2). */
export function asctimeUtc(time: number): string {
  const d = new Date(time)
  const pad = (n: number): string => String(n).padStart(2, '0')
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${d.getUTCFullYear()}`
}
