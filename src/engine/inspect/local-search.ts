/**
 * `mailkeep local search EMAIL [--from T] [--to T] [--subject T] [--since D] [--before D]
 * [--folder F]...`: the stored messages of an account whose headers match, across its folders,
 * without restoring anything. Read-only and without a lock (docs/design.md, "Readers"); only
 * header blocks are read (local-summaries.ts).
 *
 * Matching (docs/commands/local.md): text criteria are case-insensitive substrings of the
 * decoded field (RFC 2047), `--from` of From (name and address), `--to` of To and Cc,
 * `--subject` of Subject; dates compare the calendar day of the Date field in the message's own
 * time zone, as IMAP's SENTSINCE/SENTBEFORE do (RFC 3501 §6.4.4): `--since` is that day or
 * later, `--before` an earlier day. A message without a valid Date field is dated by the
 * server's INTERNALDATE (UTC) when mailkeep recorded it, else it matches no date criterion.
 * Every criterion given must match.
 */
import type {Config} from '../../config/index.js'
import type {RunContext} from '../../shared/context.js'
import {throwIfAborted} from '../../shared/context.js'
import {UsageError} from '../../shared/errors.js'
import {findAccount} from '../access/account-access.js'
import {openStoreIfPresent} from './local-access.js'
import {folderSummaries, type MessageSummary} from './local-summaries.js'

export interface SearchCriteria {
  from?: string
  to?: string
  subject?: string
  /** `YYYY-MM-DD`: on or after that day. */
  since?: string
  /** `YYYY-MM-DD`: before that day. */
  before?: string
  /** Only these folders (server names); default every backed-up folder. */
  folders?: readonly string[]
}

/** A match: its folder (server name), then what `local list` shows of it and its recipients. */
export type FoundMessage = {folder: string} & Omit<MessageSummary, 'internalDate'>

/** The matching messages one by one, as they are found (see streamMessages in local-list.ts). */
export async function* streamSearch(config: Config, email: string, criteria: SearchCriteria, ctx: RunContext): AsyncGenerator<FoundMessage, void, undefined> {
  const match = matcher(criteria)
  const account = findAccount(config, email)
  const store = await openStoreIfPresent(config, account, ctx)
  try {
    const names = criteria.folders ?? (store === undefined ? [] : (await store.listFolders()).map((f) => f.name))
    for (const name of names) {
      throwIfAborted(ctx.signal)
      for await (const m of folderSummaries(store, account, name, ctx)) {
        if (match(m)) yield {folder: name, uid: m.uid, date: m.date, from: m.from, to: m.to, subject: m.subject, size: m.size}
      }
    }
  } finally {
    await store?.close()
  }
}

export async function searchMessages(config: Config, email: string, criteria: SearchCriteria, ctx: RunContext): Promise<FoundMessage[]> {
  const found: FoundMessage[] = []
  for await (const m of streamSearch(config, email, criteria, ctx)) found.push(m)
  return found
}

/** The test a message must pass; invalid dates are refused before anything is read. */
export function matcher(criteria: SearchCriteria): (m: MessageSummary) => boolean {
  const since = criteria.since === undefined ? undefined : day(criteria.since, '--since')
  const before = criteria.before === undefined ? undefined : day(criteria.before, '--before')
  const from = needle(criteria.from)
  const to = needle(criteria.to)
  const subject = needle(criteria.subject)
  return (m) => {
    if (from !== undefined && !fold(m.from).includes(from)) return false
    if (to !== undefined && !fold(m.to).includes(to)) return false
    if (subject !== undefined && !fold(m.subject).includes(subject)) return false
    if (since !== undefined || before !== undefined) {
      const sent = sentDay(m)
      if (sent === undefined) return false
      if (since !== undefined && sent < since) return false
      if (before !== undefined && sent >= before) return false
    }
    return true
  }
}

/** The day a message was sent, `YYYY-MM-DD`: the Date field's own day, else INTERNALDATE's (UTC). */
function sentDay(m: MessageSummary): string | undefined {
  if (m.date !== '') return m.date.slice(0, 10)
  if (m.internalDate !== undefined) return new Date(m.internalDate * 1000).toISOString().slice(0, 10)
  return undefined
}

function day(text: string, flag: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim())
  const date = m === null ? undefined : new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])))
  if (m === null || date === undefined || date.toISOString().slice(0, 10) !== text.trim()) {
    throw new UsageError(`${flag} '${text}' is not a date`, {hint: `give the day as YYYY-MM-DD, e.g. ${flag} 2024-03-05`})
  }
  return text.trim()
}

function needle(text: string | undefined): string | undefined {
  if (text === undefined) return undefined
  return fold(text)
}

/** Case- and form-insensitive comparison (NFKC, then lower case). */
function fold(text: string): string {
  return text.normalize('NFKC').toLowerCase()
}
