/**
 * What `local list` and `local search` show of each stored message: UID, date, sender,
 * recipients, subject and size, from its header block alone. Only the first 8 KiB of each entry
 * are read (up to 256 KiB when its header block is longer), neighbouring entries together in
 * windows of at most 1 MiB (`FolderStore.readEntryHeads`), never a whole large message: a
 * 100,000-message folder costs a few hundred reads and memory for one window
 * (docs/benchmarks.md, "Reading the backup").
 */
import type {Account} from '../../config/index.js'
import {throwIfAborted, type RunContext} from '../../shared/context.js'
import type {AccountStore} from '../../store/account-store.js'
import type {FolderStore} from '../../store/folder-store.js'
import {parseHeaderFields} from '../../store/message-headers.js'
import {openLocalFolder} from './local-access.js'
import {decodeHeaderText, isoDate} from './local-headers.js'

export interface MessageSummary {
  uid: number
  /** The Date field as ISO 8601 with its own offset (`2024-03-05T08:07:09+01:00`), or ''. */
  date: string
  /** The From field, RFC 2047 decoded (`Ann Example <ann@example.com>`); '' when there is none. */
  from: string
  /** The To and Cc fields, decoded, joined with `, `; '' when there are none. */
  to: string
  /** The Subject field, RFC 2047 decoded; '' when there is none. */
  subject: string
  /** The message's size in bytes as the server gave it (RFC822.SIZE), or as stored. */
  size: number
  /** The server's INTERNALDATE (Unix seconds), when mailkeep recorded it. */
  internalDate: number | undefined
}

const FIRST_READ = 8 * 1024
const MAX_HEADER = 256 * 1024

/** Every stored message of the folder, in metadata order. */
export async function* summarize(folder: FolderStore, signal: AbortSignal): AsyncGenerator<MessageSummary, void, undefined> {
  const messages = folder.messages
  let row = 0
  for await (const {uid, head} of folder.readEntryHeads(FIRST_READ)) {
    throwIfAborted(signal)
    const length = messages.lengthAt(row)
    const exact = messages.exactnessAt(row)
    row++
    // Headers longer than the first read (rare): one more bounded read of this entry.
    const block = !hasEmptyLine(head) && length > head.length ? await folder.readEntryHead(uid, MAX_HEADER) : head
    const separator = block.indexOf(0x0a) + 1
    const fields = parseHeaderFields(block.subarray(separator))
    const to = [fields.get('to'), fields.get('cc')].filter((v): v is string => v !== undefined).map(decodeHeaderText).filter((v) => v !== '')
    yield {
      uid,
      date: isoDate(fields.get('date')),
      from: decodeHeaderText(fields.get('from') ?? ''),
      to: to.join(', '),
      subject: decodeHeaderText(fields.get('subject') ?? ''),
      // Without an exactness record (imap-backup wrote it): the stored entry without its separator line.
      size: exact?.[1] ?? Math.max(0, length - separator),
      internalDate: exact?.[2] ?? undefined,
    }
  }
}

/** The summaries of one backed-up folder, by its server name; the folder is closed at the end. */
export async function* folderSummaries(store: AccountStore | undefined, account: Account, name: string, ctx: RunContext): AsyncGenerator<MessageSummary, void, undefined> {
  const folder = await openLocalFolder(store, account, name, ctx)
  try {
    yield* summarize(folder, ctx.signal)
  } finally {
    await folder.close()
  }
}

/**
 * The sender for a narrow column: the display name when the From field has one
 * (`"Ann Example" <ann@example.com>` → `Ann Example`), else the address, else the field.
 */
export function senderName(from: string): string {
  const match = /^\s*(?:"((?:[^"\\]|\\.)*)"|([^<]*?))\s*<([^>]*)>/.exec(from)
  if (match === null) return from.trim()
  const name = (match[1] ?? match[2] ?? '').replace(/\\(.)/g, '$1').trim()
  return name !== '' ? name : (match[3] ?? '').trim()
}

function hasEmptyLine(bytes: Buffer): boolean {
  return bytes.includes('\n\n') || bytes.includes('\n\r\n')
}
