/**
 * `mailkeep local list EMAIL FOLDER`: UID, date, sender, size and subject of each stored message,
 * from the header blocks alone (local-summaries.ts). Read-only, without a lock (the last
 * committed state, docs/design.md "Readers").
 */
import type {Config} from '../../config/index.js'
import type {RunContext} from '../../shared/context.js'
import {findAccount} from '../access/account-access.js'
import {openStoreIfPresent} from './local-access.js'
import {folderSummaries} from './local-summaries.js'

/** imap-backup's three fields (uid, date, subject), then mailkeep's (from, size). */
export interface ListedMessage {
  uid: number
  /** The Date field as ISO 8601 with its own offset (`2024-03-05T08:07:09+01:00`), or ''. */
  date: string
  /** The Subject field, RFC 2047 decoded; '' when there is none. */
  subject: string
  /** The From field, RFC 2047 decoded; '' when there is none. */
  from: string
  /** Size in bytes (the server's RFC822.SIZE when mailkeep backed it up). */
  size: number
}

/**
 * The messages one by one, as they are read: a caller that prints each at once holds only one
 * window of the mbox in memory, however big the folder (docs/benchmarks.md).
 */
export async function* streamMessages(config: Config, email: string, folderName: string, ctx: RunContext): AsyncGenerator<ListedMessage, void, undefined> {
  const account = findAccount(config, email)
  const store = await openStoreIfPresent(config, account, ctx)
  try {
    for await (const m of folderSummaries(store, account, folderName, ctx)) yield {uid: m.uid, date: m.date, subject: m.subject, from: m.from, size: m.size}
  } finally {
    await store?.close()
  }
}

/** All of them, in metadata order. */
export async function listMessages(config: Config, email: string, folderName: string, ctx: RunContext): Promise<ListedMessage[]> {
  const out: ListedMessage[] = []
  for await (const m of streamMessages(config, email, folderName, ctx)) out.push(m)
  return out
}
