/**
 * The UID FETCH operations of a session (ImapSession in types.ts): summaries, header fields,
 * whole messages, flag changes and one UID's items. Each says what it asks for and how a message
 * is complete; the session's `stream` runs the command with the link watched (session.ts). The
 * items of one message may come split over several responses (RFC 3501 §7.4.2), so every
 * generator goes through one merge (commands/fetch-stream.ts `mergedItems`, the
 * MessageAssembler for bodies) and one summary (commands/fetch-response.ts `messageSummary`).
 */
import {InternalError} from '../shared/errors.js'
import {MessageAssembler} from './commands/fetch-messages.js'
import {messageSummary, type FetchData} from './commands/fetch-response.js'
import {collectBody, merge, mergedItems, pull} from './commands/fetch-stream.js'
import type {TapConsumer} from './fetch-tap.js'
import type {WireNode} from './flow-internals.js'
import type {FetchedMessage, FlagChanges, MessageHeaderFields, MessageSink, MessageSummary} from './types.js'
import {isValidUidSet, uidSetMatcher} from './uid-set.js'

/** What the FETCH operations need of the session. */
export interface FetchRunner {
  /** One UID FETCH, its responses handed to `consumer`, with the link watched while we wait on the server. */
  stream(uidSet: string, items: WireNode[], consumer: TapConsumer, modifiers?: WireNode[], onVanished?: (uids: number[], earlier: boolean) => void): Promise<void>
  /** The selected folder keeps mod-sequences: CONDSTORE enabled and no NOMODSEQ (RFC 7162 §3.1.2.2). */
  modseq(): boolean
  /** QRESYNC enabled on the connection (RFC 7162 §3.2.3). */
  readonly qresync: boolean
}

/** FETCH items; MODSEQ (RFC 7162 §3.1.4.1) when asked for and the open folder keeps mod-sequences. */
export function fetchItems(runner: FetchRunner, names: string[], modseq: boolean, ...extra: WireNode[]): WireNode[] {
  const nodes: WireNode[] = names.map((n) => ({type: 'ATOM', value: n}))
  if (modseq && runner.modseq()) nodes.push({type: 'ATOM', value: 'MODSEQ'})
  return [...nodes, ...extra]
}

/** Thrown before anything goes on the wire: the engine builds every set, so a bad one is our bug. */
export function checkUidSet(set: string): void {
  if (!isValidUidSet(set)) throw new InternalError(`invalid UID set ${JSON.stringify(set)}`)
}

export function fetchSummaries(runner: FetchRunner, uidSet: string): AsyncIterable<MessageSummary> {
  checkUidSet(uidSet)
  const items = fetchItems(runner, ['UID', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE'], true)
  // Flags and size are what we asked for; a response without them is an unsolicited flag
  // update or one part of a split response (mergedItems).
  const summary = (uid: number, merged: FetchData): MessageSummary | undefined =>
    merged.flags === undefined || merged.size === undefined ? undefined : messageSummary(uid, merged, merged.size)
  return pull<MessageSummary>((push) => runner.stream(uidSet, items, mergedItems(uidSetMatcher(uidSet), summary, push)))
}

export function fetchHeaderFields(runner: FetchRunner, uidSet: string, fields: readonly string[]): AsyncIterable<MessageHeaderFields> {
  checkUidSet(uidSet)
  // RFC 3501 §9 header-fld-name is an astring; we send only plain field names as atoms.
  if (fields.length === 0 || fields.some((f) => !/^[!-9;-~]+$/.test(f) || /[()"{\\%*\]]/.test(f))) {
    throw new InternalError(`invalid header field list ${JSON.stringify(fields)}`)
  }
  const section: WireNode[] = [{type: 'ATOM', value: 'HEADER.FIELDS'}, fields.map((f): WireNode => ({type: 'ATOM', value: f}))]
  const items = fetchItems(runner, ['UID'], false, {type: 'ATOM', value: 'BODY.PEEK', section})
  const headers = (uid: number, merged: FetchData): MessageHeaderFields | undefined => (merged.headerFields === undefined ? undefined : {uid, headers: merged.headerFields})
  return pull<MessageHeaderFields>((push) => runner.stream(uidSet, items, mergedItems(uidSetMatcher(uidSet), headers, push)))
}

export function fetchMessages(runner: FetchRunner, uidSet: string): AsyncIterable<FetchedMessage> {
  checkUidSet(uidSet)
  return pull<FetchedMessage>((push) =>
    streamMessages(runner, uidSet, {
      open: (uid) => collectBody<MessageSummary>((body, summary) => push({uid, flags: summary.flags, internalDate: summary.internalDate, size: summary.size, source: body})),
    }),
  )
}

export async function streamMessages(runner: FetchRunner, uidSet: string, sink: MessageSink): Promise<void> {
  checkUidSet(uidSet)
  // BODY.PEEK[]: the whole message, without setting \Seen (RFC 3501 §6.4.5).
  const items = fetchItems(runner, ['UID', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE'], false, {type: 'ATOM', value: 'BODY.PEEK', section: []})
  await runner.stream(uidSet, items, new MessageAssembler(uidSetMatcher(uidSet), sink))
}

export async function fetchFlags(runner: FetchRunner, uidSet: string, options: {changedSince?: string} = {}): Promise<FlagChanges> {
  checkUidSet(uidSet)
  const condstore = options.changedSince !== undefined && /^\d+$/.test(options.changedSince) && runner.modseq()
  const qresync = condstore && runner.qresync
  const modifiers: WireNode[] = []
  if (condstore) modifiers.push({type: 'ATOM', value: 'CHANGEDSINCE'}, {type: 'ATOM', value: options.changedSince!})
  // RFC 7162 §3.2.6: VANISHED (EARLIER) for what was expunged since CHANGEDSINCE.
  if (qresync) modifiers.push({type: 'ATOM', value: 'VANISHED'})
  const inSet = uidSetMatcher(uidSet)
  const vanished = new Set<number>()
  const changed: FlagChanges['changed'] = []
  const items = fetchItems(runner, ['UID', 'FLAGS'], true)
  // Each response as it comes, not merged: every FLAGS is a change to report.
  const data = (d: FetchData): void => {
    if (d.uid !== undefined && d.flags !== undefined && inSet(d.uid)) changed.push({uid: d.uid, flags: d.flags})
  }
  await runner.stream(uidSet, items, {data, body: (head) => void data(head)}, modifiers, (uids) => uids.forEach((u) => vanished.add(u)))
  const result: FlagChanges = {changed}
  if (qresync) result.vanished = [...vanished].sort((a, b) => a - b)
  return result
}

/** The items of one UID's responses merged, the body (whole or a range) collected. */
export async function fetchOne(runner: FetchRunner, uid: number, items: WireNode[]): Promise<FetchData | undefined> {
  let found: FetchData | undefined
  const data = (d: FetchData): void => {
    if (d.uid === uid) found = merge(found, d)
  }
  await runner.stream(String(uid), items, {
    data,
    body: (head) => collectBody((body, tail) => data({...merge(head, tail), body})),
  })
  return found
}
