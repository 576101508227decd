/**
 * `mailkeep local list EMAIL FOLDER`: UID, subject and date of each stored message (compat
 * §2.2). Only the first 8 KiB of each entry are read (up to 256 KiB when its headers are
 * longer), neighbouring entries together in windows of at most 1 MiB
 * (`FolderStore.readEntryHeads`), never a whole large message: a 100,000-message folder costs a
 * few hundred reads, and memory for one window.
 */
import type {Config} from '../config/index.js'
import type {RunContext} from '../shared/context.js'
import {throwIfAborted} from '../shared/context.js'
import {parseHeaderFields} from '../store/rebuild.js'
import {findAccount} from './account-access.js'
import {openLocalFolder, openStoreIfPresent} from './local-access.js'
import {decodeHeaderText, isoDate} from './local-headers.js'

export interface ListedMessage {
  uid: number
  /** The Date field as ISO 8601 with its own offset (`2024-03-05T08:07:09+01:00`), or ''. */
  date: string
  /** The Subject field, RFC 2047 decoded; '' when there is none. */
  subject: string
}

const FIRST_READ = 8 * 1024
const MAX_HEADER = 256 * 1024

export async function listMessages(config: Config, email: string, folderName: string, ctx: RunContext): Promise<ListedMessage[]> {
  const account = findAccount(config, email)
  const store = await openStoreIfPresent(config, account, ctx)
  try {
    const folder = await openLocalFolder(store, account, folderName, ctx)
    try {
      const out: ListedMessage[] = []
      for await (const {uid, head} of folder.readEntryHeads(FIRST_READ)) {
        throwIfAborted(ctx.signal)
        const entry = folder.entry(uid)
        // Headers longer than the first read (rare): one more bounded read of this entry.
        const block = !hasEmptyLine(head) && entry !== undefined && entry.length > head.length ? await folder.readEntryHead(uid, MAX_HEADER) : head
        const fields = parseHeaderFields(withoutSeparator(block))
        out.push({uid, date: isoDate(fields.get('date')), subject: decodeHeaderText(fields.get('subject') ?? '')})
      }
      return out
    } finally {
      await folder.close()
    }
  } finally {
    await store?.close()
  }
}

/** The entry's bytes after its separator line. */
function withoutSeparator(head: Buffer): Buffer {
  const lf = head.indexOf(0x0a)
  return lf < 0 ? Buffer.alloc(0) : head.subarray(lf + 1)
}

function hasEmptyLine(bytes: Buffer): boolean {
  return bytes.includes('\n\n') || bytes.includes('\n\r\n')
}
