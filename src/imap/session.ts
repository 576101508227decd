/**
 * ImapSession (types.ts) over one imapflow connection. Every operation runs inside `op()`:
 * the guard watches the link while we wait on the server, and whatever fails is translated
 * once (guard.ts, classify.ts). A broken link closes the session: `closed` turns true and every
 * later call throws TransientImapError, so the engine opens a new session.
 */
import type {ImapFlow} from 'imapflow'
import {InternalError, MissingFolderError, RemoteError, TransientImapError} from '../shared/errors.js'
import type {Logger} from '../shared/logger.js'
import {isOverLimit, type ErrorContext} from './classify.js'
import {appendCommand} from './commands/append.js'
import {createCommand} from './commands/create.js'
import {expungeCommand} from './commands/expunge.js'
import type {FetchData} from './commands/fetch-response.js'
import {MessageAssembler} from './commands/fetch-messages.js'
import {collectBody, merge, mergedItems, pull, runFetch} from './commands/fetch-stream.js'
import {listMailboxes, type ListResult} from './commands/list.js'
import {MailboxNames} from './commands/mailbox-name.js'
import {namespaceCommand} from './commands/namespace.js'
import {openMailbox} from './commands/open.js'
import {uidSearch} from './commands/search.js'
import {statusCommand} from './commands/status.js'
import {uidStore} from './commands/store.js'
import type {FetchTap, TapConsumer} from './fetch-tap.js'
import {command, type FlowInternals, type WireNode} from './flow-internals.js'
import type {LinkGuard} from './guard.js'
import {OversizedResponseError} from './imap-errors.js'
import {responseCode} from './response.js'
import type {
  AppendResult,
  Capabilities,
  FetchedMessage,
  FlagChanges,
  FolderStatus,
  ImapSession,
  MessageHeaderFields,
  MessageSink,
  MessageSummary,
  Namespaces,
  OpenedFolder,
  PeerInfo,
  RemoteFolder,
} from './types.js'
import {distinctNames} from './distinct-names.js'
import {MessageCount, type CountWindow} from './message-count.js'
import {isValidUidSet, uidSetMatcher} from './uid-set.js'

const SPECIAL_USE = new Set(['\\ALL', '\\ARCHIVE', '\\DRAFTS', '\\FLAGGED', '\\JUNK', '\\SENT', '\\TRASH', '\\IMPORTANT'])
const LOGOUT_TIMEOUT_MS = 5000

export interface SessionParts {
  client: ImapFlow
  flow: FlowInternals
  tap: FetchTap
  guard: LinkGuard
  capabilities: Capabilities
  user: string
  server: string
  logger: Logger
  signal: AbortSignal
  secrets: () => readonly string[]
  downloadChunkBytes: number
  peer?: PeerInfo
}

interface OpenState {
  name: string
  readOnly: boolean
  /** CONDSTORE usable in this folder: enabled and not NOMODSEQ (RFC 7162 §3.1.2.2). */
  modseq: boolean
}

export class FlowSession implements ImapSession {
  readonly capabilities: Capabilities
  readonly peer: PeerInfo | undefined
  readonly user: string
  private readonly client: ImapFlow
  private readonly flow: FlowInternals
  private readonly tap: FetchTap
  private readonly guard: LinkGuard
  private readonly names = new MailboxNames()
  private readonly logger: Logger
  private readonly signal: AbortSignal
  private readonly server: string
  private readonly secrets: () => readonly string[]
  private readonly chunkBytes: number
  private current: OpenState | undefined
  /** The selected folder's message count as this session was told it (message-count.ts). */
  private readonly count: MessageCount
  private shut = false
  private loggingOut = false
  private lastLinkError: unknown
  /** The server refused LIST … RETURN (STATUS …) once: use STATUS per folder from now on. */
  private listStatusRefused = false

  constructor(parts: SessionParts) {
    this.client = parts.client
    this.flow = parts.flow
    this.tap = parts.tap
    this.guard = parts.guard
    this.capabilities = parts.capabilities
    this.peer = parts.peer
    this.user = parts.user
    this.server = parts.server
    this.logger = parts.logger
    this.signal = parts.signal
    this.secrets = parts.secrets
    this.chunkBytes = parts.downloadChunkBytes
    this.count = new MessageCount(this.flow)
    this.client.on('close', () => {
      this.current = undefined
      this.count.reset(undefined)
      this.guard.dispose()
    })
    this.client.on('error', (error: Error) => {
      this.lastLinkError = error
    })
    // An untagged BYE (RFC 3501 §7.1.5) ends the session. imapflow only notes it and waits for
    // the server to close the socket; a server that does not would leave the running command
    // hanging until the inactivity timeout. Unless we are logging out, close at once: the
    // running command then fails with the BYE reason (TransientImapError).
    const bye = this.flow.untaggedHandlers.BYE
    this.flow.untaggedHandlers.BYE = async (untagged) => {
      await bye?.(untagged)
      if (!this.loggingOut) setImmediate(() => this.client.close())
    }
  }

  get closed(): boolean {
    return this.shut || this.flow.isClosed
  }

  /** Bytes sent and received on this connection (for benchmarks and tests). */
  wireStats(): {sent: number; received: number} {
    return this.flow.stats()
  }

  // ---- folders

  async namespaces(): Promise<Namespaces> {
    return this.op({command: 'NAMESPACE'}, () => namespaceCommand(this.flow))
  }

  async listFolders(options: {status?: boolean} = {}): Promise<RemoteFolder[]> {
    return this.op({command: 'LIST'}, async () => {
      const items = this.statusItems()
      const inline = options.status === true && this.capabilities.listStatus && !this.listStatusRefused
      const all = '*'
      let result: ListResult
      try {
        result = await listMailboxes(
          this.flow,
          {reference: '', mailbox: all},
          inline ? {statusItems: items, specialUse: this.capabilities.all.has('SPECIAL-USE')} : {},
        )
      } catch (error) {
        // RFC 9051 §6.3.9: BAD is how a server refuses RETURN options it does not know.
        if (!inline || (error as {responseStatus?: unknown}).responseStatus !== 'BAD') throw error
        this.logger.debug('LIST RETURN (STATUS) refused: falling back to STATUS per folder')
        this.listStatusRefused = true
        result = await listMailboxes(this.flow, {reference: '', mailbox: all})
      }
      const folders: RemoteFolder[] = []
      // Names that decode alike get distinct ones (distinct-names.ts): each is its own folder.
      const names = distinctNames(result.entries)
      for (const [i, entry] of result.entries.entries()) {
        const name = names[i]!
        this.names.remember(name, entry.wire)
        const upper = entry.flags.map((f) => f.toUpperCase())
        const noselect = upper.includes('\\NOSELECT') || upper.includes('\\NONEXISTENT')
        const special = entry.flags.find((f) => SPECIAL_USE.has(f.toUpperCase()))
        const folder: RemoteFolder = {name, delimiter: entry.delimiter, flags: entry.flags, noselect}
        if (name !== entry.name) folder.decodesAs = entry.name
        if (special !== undefined) folder.specialUse = special
        if (options.status === true && !noselect) {
          const inlineStatus = result.status.get(entry.wire)
          if (inlineStatus !== undefined) folder.status = inlineStatus
          else {
            try {
              folder.status = await statusCommand(this.flow, this.names.node(name), items)
              this.guard.progress() // one STATUS per folder in one operation: each completes
            } catch (error) {
              // The folder went away between LIST and STATUS, or cannot be examined: it is
              // listed without status, and EXAMINE will say what is wrong with it.
              if ((error as {responseStatus?: unknown}).responseStatus !== 'NO') throw error
              this.logger.debug('STATUS refused for a listed folder', {folder: name})
            }
          }
        }
        folders.push(folder)
      }
      return folders
    })
  }

  async status(folder: string): Promise<FolderStatus> {
    return this.op({command: 'STATUS', folder}, async () => {
      try {
        return await statusCommand(this.flow, this.names.node(folder), this.statusItems())
      } catch (error) {
        throw await this.missingOr(error, folder)
      }
    })
  }

  async createFolder(folder: string): Promise<void> {
    await this.op({command: 'CREATE', folder}, () => createCommand(this.flow, this.names.node(folder)))
  }

  // ---- open

  async examine(folder: string, options: {qresync?: {uidValidity: number; highestModseq: string}} = {}): Promise<OpenedFolder> {
    return this.open(folder, true, options.qresync)
  }

  async select(folder: string): Promise<OpenedFolder> {
    return this.open(folder, false, undefined)
  }

  private async open(folder: string, readOnly: boolean, qresync: {uidValidity: number; highestModseq: string} | undefined): Promise<OpenedFolder> {
    const name = readOnly ? 'EXAMINE' : 'SELECT'
    return this.op({command: name, folder}, async () => {
      this.current = undefined
      this.count.reset(undefined)
      const useQresync = qresync !== undefined && this.capabilities.qresync && /^\d+$/.test(qresync.highestModseq) && qresync.highestModseq !== '0'
      let result
      try {
        result = await openMailbox(this.flow, this.names.node(folder), {readOnly, qresync: useQresync ? qresync : undefined})
      } catch (error) {
        // A failed SELECT/EXAMINE leaves no folder selected (RFC 3501 §6.3.1).
        throw await this.missingOr(error, folder)
      }
      if (result.uidValidity === undefined) throw new RemoteError(`${this.server} sent no UIDVALIDITY for '${folder}'`, {cause: new Error('missing [UIDVALIDITY]')})
      let uidNext = result.uidNext
      if (uidNext === undefined) {
        // RFC 3501 requires [UIDNEXT]; some old servers leave it out. STATUS of the selected
        // folder is allowed (§6.3.10 only discourages it).
        uidNext = (await statusCommand(this.flow, this.names.node(folder), ['UIDNEXT'])).uidNext
        if (uidNext === undefined) throw new RemoteError(`${this.server} sent no UIDNEXT for '${folder}'`, {cause: new Error('missing [UIDNEXT]')})
      }
      const modseq = this.capabilities.condstore && !result.noModseq && result.highestModseq !== undefined
      this.current = {name: folder, readOnly: result.readOnly, modseq}
      this.count.reset(result.exists)
      const opened: OpenedFolder = {name: folder, readOnly: result.readOnly, uidValidity: result.uidValidity, uidNext, exists: result.exists}
      if (modseq) opened.highestModseq = result.highestModseq
      if (result.permanentFlags !== undefined) opened.permanentFlags = result.permanentFlags
      if (result.vanished !== undefined) {
        // Only meaningful when the server accepted our UIDVALIDITY (RFC 7162 §3.2.5.2).
        const accepted = result.uidValidity === qresync?.uidValidity
        opened.vanished = accepted ? [...new Set(result.vanished)].sort((a, b) => a - b) : []
        opened.changed = accepted ? (result.changed ?? []) : []
      }
      return opened
    })
  }

  // ---- messages

  async searchUids(criteria: {uidRange?: string; larger?: number; unseen?: boolean; header?: {field: string; value: string}} = {}): Promise<number[]> {
    if (criteria.uidRange !== undefined) checkUidSet(criteria.uidRange)
    return this.op({command: 'UID SEARCH', folder: this.current?.name}, async () => {
      const search = (): Promise<{result: number[]; window: CountWindow | undefined}> => this.count.observe(() => uidSearch(this.flow, criteria, this.capabilities.all.has('ESEARCH')))
      let {result: uids, window} = await search()
      const all = criteria.uidRange === undefined && criteria.larger === undefined && criteria.unseen !== true && criteria.header === undefined
      if (all && this.contradicts(uids, window)) {
        // A server may keep an expunge or new mail for its next untagged answers: NOOP lets it
        // tell us (RFC 3501 §6.1.2), and the search is asked once more before it counts as a fault.
        await command(this.flow, 'NOOP', false)
        ;({result: uids, window} = await search())
        if (this.contradicts(uids, window)) this.refuseAll(uids, window)
      }
      if (criteria.uidRange === undefined) return uids
      const inSet = uidSetMatcher(criteria.uidRange)
      return uids.filter(inSet)
    })
  }

  /**
   * `UID SEARCH ALL` names every message of the folder, so it must name as many as the session
   * was told the folder holds while the command ran (and each once): an answer that contradicts
   * the session's own state is a failed comparison, never "these are all" (docs/backup.md B1;
   * issue 11 item 9: an empty answer after '* 7 EXISTS' would have made mirror mode delete every
   * local message).
   */
  private contradicts(uids: readonly number[], window: CountWindow | undefined): boolean {
    return distinctCount(uids) !== uids.length || (window !== undefined && (uids.length < window.low || uids.length > window.high))
  }

  private refuseAll(uids: readonly number[], window: CountWindow | undefined): never {
    const distinct = distinctCount(uids)
    const told = window === undefined ? '' : window.low === window.high ? ` while it reported ${window.low} message(s) in the folder (EXISTS)` : ` while it reported between ${window.low} and ${window.high} message(s) in the folder (EXISTS)`
    const repeated = distinct === uids.length ? '' : ` (${uids.length - distinct} of them repeated)`
    throw new RemoteError(`${this.server} answered UID SEARCH ALL in '${this.current?.name ?? '?'}' with ${uids.length} UID(s)${repeated}${told}; the answer contradicts itself, so nothing is concluded from it`, {
      hint: 'this is a server problem; rerun later, and report it to the server operator if it persists',
    })
  }

  fetchSummaries(uidSet: string): AsyncIterable<MessageSummary> {
    checkUidSet(uidSet)
    const items = this.items(['UID', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE'], true)
    // Flags and size are what we asked for; a response without them is an unsolicited flag
    // update or one part of a split response (mergedItems).
    const summary = (uid: number, merged: FetchData): MessageSummary | undefined => {
      if (merged.flags === undefined || merged.size === undefined) return undefined
      const out: MessageSummary = {uid, flags: merged.flags, internalDate: merged.internalDate ?? null, size: merged.size}
      if (merged.modseq !== undefined) out.modseq = merged.modseq
      return out
    }
    return pull<MessageSummary>((push) => this.stream('UID FETCH', uidSet, items, mergedItems(uidSetMatcher(uidSet), summary, push)))
  }

  fetchMessages(uidSet: string): AsyncIterable<FetchedMessage> {
    checkUidSet(uidSet)
    return pull<FetchedMessage>((push) =>
      this.streamMessages(uidSet, {
        open: (uid) => collectBody<MessageSummary>((body, summary) => push({uid, flags: summary.flags, internalDate: summary.internalDate, size: summary.size, source: body})),
      }),
    )
  }

  async streamMessages(uidSet: string, sink: MessageSink): Promise<void> {
    checkUidSet(uidSet)
    // BODY.PEEK[]: the whole message, without setting \Seen (RFC 3501 §6.4.5).
    const items = this.items(['UID', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE'], false, {type: 'ATOM', value: 'BODY.PEEK', section: []})
    await this.stream('UID FETCH', uidSet, items, new MessageAssembler(uidSetMatcher(uidSet), sink))
  }

  fetchHeaderFields(uidSet: string, fields: readonly string[]): AsyncIterable<MessageHeaderFields> {
    checkUidSet(uidSet)
    // RFC 3501 §9 header-fld-name is an astring; we send only plain field names as atoms.
    if (fields.length === 0 || fields.some((f) => !/^[!-9;-~]+$/.test(f) || /[()"{\\%*\]]/.test(f))) {
      throw new InternalError(`invalid header field list ${JSON.stringify(fields)}`)
    }
    const section: WireNode[] = [{type: 'ATOM', value: 'HEADER.FIELDS'}, fields.map((f): WireNode => ({type: 'ATOM', value: f}))]
    const items = this.items(['UID'], false, {type: 'ATOM', value: 'BODY.PEEK', section})
    const headers = (uid: number, merged: FetchData): MessageHeaderFields | undefined => (merged.headerFields === undefined ? undefined : {uid, headers: merged.headerFields})
    return pull<MessageHeaderFields>((push) => this.stream('UID FETCH', uidSet, items, mergedItems(uidSetMatcher(uidSet), headers, push)))
  }

  async downloadMessage(uid: number): Promise<{summary: MessageSummary; chunks: AsyncIterable<Buffer>} | null> {
    if (!Number.isInteger(uid) || uid <= 0) throw new InternalError(`downloadMessage: bad UID ${uid}`)
    const chunk = this.chunkBytes
    const folder = this.current?.name
    const headItems = this.items(['UID', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE'], true, bodyRange(0, chunk))
    const first = await this.fetchOne(uid, headItems)
    if (first === undefined || first.body === undefined || first.body === null) return null
    const size = first.size ?? 0
    const summary: MessageSummary = {uid, flags: first.flags ?? [], internalDate: first.internalDate ?? null, size}
    if (first.modseq !== undefined) summary.modseq = first.modseq
    return {summary, chunks: this.chunks(uid, first.body, size, folder)}
  }

  /** The rest of a download, one partial FETCH per chunk, each when the consumer asks. */
  private async *chunks(uid: number, firstBody: Buffer, size: number, folder: string | undefined): AsyncGenerator<Buffer, void, undefined> {
    const chunk = this.chunkBytes
    const server = this.server
    let data = firstBody
    let offset = 0
    for (;;) {
      if (data.length > chunk) {
        // The server ignored the partial range and sent the whole message (some do).
        if (offset > 0) throw new RemoteError(`${server} ignored the byte range of a partial FETCH of UID ${uid}`, {cause: new Error(`asked ${chunk} bytes at ${offset}, got ${data.length}`)})
        yield data
        return
      }
      if (data.length > 0) yield data
      if (data.length < chunk) return
      offset += data.length
      if (size > 0 && offset > 2 * size + chunk) {
        throw new RemoteError(`${server} sent more than twice the RFC822.SIZE of UID ${uid}`, {cause: new Error(`size ${size}, received ${offset}`)})
      }
      const next = await this.fetchOne(uid, [{type: 'ATOM', value: 'UID'}, bodyRange(offset, chunk)])
      if (next === undefined) {
        throw new RemoteError(`message UID ${uid} disappeared from '${folder ?? '?'}' during its download`, {cause: new Error('no FETCH response for a partial range')})
      }
      data = next.body ?? Buffer.alloc(0)
    }
  }

  async fetchFlags(uidSet: string, options: {changedSince?: string} = {}): Promise<FlagChanges> {
    checkUidSet(uidSet)
    const condstore = options.changedSince !== undefined && /^\d+$/.test(options.changedSince) && this.current?.modseq === true
    const qresync = condstore && this.capabilities.qresync
    const modifiers: WireNode[] = []
    if (condstore) modifiers.push({type: 'ATOM', value: 'CHANGEDSINCE'}, {type: 'ATOM', value: options.changedSince!})
    // RFC 7162 §3.2.6: VANISHED (EARLIER) for what was expunged since CHANGEDSINCE.
    if (qresync) modifiers.push({type: 'ATOM', value: 'VANISHED'})
    const inSet = uidSetMatcher(uidSet)
    const vanished = new Set<number>()
    const changed: FlagChanges['changed'] = []
    const items = this.items(['UID', 'FLAGS'], true)
    const data = (d: FetchData): void => {
      if (d.uid !== undefined && d.flags !== undefined && inSet(d.uid)) changed.push({uid: d.uid, flags: d.flags})
    }
    await this.stream('UID FETCH', uidSet, items, {data, body: (head) => void data(head)}, modifiers, (uids) => uids.forEach((u) => vanished.add(u)))
    const result: FlagChanges = {changed}
    if (qresync) result.vanished = [...vanished].sort((a, b) => a - b)
    return result
  }

  async storeFlags(uidSet: string, flags: string[], mode: 'add' | 'remove' | 'set'): Promise<void> {
    checkUidSet(uidSet)
    await this.op({command: 'UID STORE', folder: this.current?.name}, () => uidStore(this.flow, uidSet, flags, mode))
  }

  async expunge(uidSet?: string): Promise<void> {
    if (uidSet !== undefined) checkUidSet(uidSet)
    const name = uidSet !== undefined && this.capabilities.uidplus ? 'UID EXPUNGE' : 'EXPUNGE'
    await this.op({command: name, folder: this.current?.name}, () => expungeCommand(this.flow, uidSet, this.capabilities.uidplus))
  }

  async append(folder: string, source: Buffer, options: {flags: string[]; internalDate: Date | null}): Promise<AppendResult> {
    return this.op({command: 'APPEND', folder}, () => appendCommand(this.flow, this.names.node(folder), source, options, this.capabilities.uidplus))
  }

  async noop(): Promise<void> {
    await this.op({command: 'NOOP'}, () => command(this.flow, 'NOOP', false))
  }

  async logout(): Promise<void> {
    if (this.closed) {
      this.close()
      return
    }
    let timer: NodeJS.Timeout | undefined
    this.loggingOut = true
    try {
      await Promise.race([this.client.logout(), new Promise((resolve) => (timer = setTimeout(resolve, LOGOUT_TIMEOUT_MS)))])
    } catch (error) {
      this.logger.debug('LOGOUT failed; closing anyway', {error: (error as Error).message})
    } finally {
      clearTimeout(timer)
      this.close()
    }
  }

  close(): void {
    this.shut = true
    this.current = undefined
    try {
      this.client.close()
    } catch (error) {
      this.logger.debug('closing the IMAP connection failed', {error: (error as Error).message})
    }
    this.guard.dispose()
  }

  // ---- internals

  private statusItems(): string[] {
    return ['UIDVALIDITY', 'UIDNEXT', 'MESSAGES', ...(this.capabilities.condstore ? ['HIGHESTMODSEQ'] : [])]
  }

  /** FETCH items; MODSEQ (RFC 7162 §3.1.4.1) when the open folder keeps mod-sequences. */
  private items(names: string[], modseq: boolean, ...extra: WireNode[]): WireNode[] {
    const nodes: WireNode[] = names.map((n) => ({type: 'ATOM', value: n}))
    if (modseq && this.current?.modseq === true) nodes.push({type: 'ATOM', value: 'MODSEQ'})
    return [...nodes, ...extra]
  }

  /** A UID FETCH, its responses handed to `consumer`, with the link watched while we wait on the server. */
  private async stream(
    name: string,
    uidSet: string,
    items: WireNode[],
    consumer: TapConsumer,
    modifiers?: WireNode[],
    onVanished?: (uids: number[], earlier: boolean) => void,
  ): Promise<void> {
    this.usable()
    const gate = this.guard.gate()
    // Taken now: a connection that closes forgets the open folder.
    const context = {command: name, folder: this.current?.name}
    // A VANISHED this command receives (RFC 7162 §3.2.10) also shrinks the folder's count.
    const vanished = (uids: number[], earlier: boolean): void => {
      if (!earlier) this.count.expunged(uids.length)
      onVanished?.(uids, earlier)
    }
    const progress = fetchProgress(uidSet, () => this.guard.progress())
    try {
      // Each response that brings a UID asked for is progress for the link watch.
      const watched: TapConsumer = {
        data: (d) => {
          progress(d.uid)
          return consumer.data(d)
        },
        body: (head, size) => {
          progress(head.uid)
          return consumer.body(head, size)
        },
      }
      await runFetch(this.flow, this.tap, {uidSet, items, modifiers, onVanished: vanished, waiting: gate}, watched)
      this.guard.progress() // the tagged response: the command is complete
    } catch (error) {
      throw this.failure(error, context)
    } finally {
      gate(false)
    }
  }

  /** The items of one UID's responses merged, the body (whole or a range) collected. */
  private async fetchOne(uid: number, items: WireNode[]): Promise<FetchData | undefined> {
    let found: FetchData | undefined
    const data = (d: FetchData): void => {
      if (d.uid === uid) found = merge(found, d)
    }
    await this.stream('UID FETCH', String(uid), items, {
      data,
      body: (head) => collectBody((body, tail) => data({...merge(head, tail), body})),
    })
    return found
  }

  private async op<T>(context: {command: string; folder?: string}, fn: () => Promise<T>): Promise<T> {
    this.usable()
    this.guard.begin()
    try {
      const result = await fn()
      this.guard.progress() // the command completed
      return result
    } catch (error) {
      throw this.failure(error, context)
    } finally {
      this.guard.end()
    }
  }

  private usable(): void {
    if (this.signal.aborted) throw this.signal.reason
    if (this.closed) {
      throw new TransientImapError(`the IMAP session with ${this.server} is closed`, {cause: this.lastLinkError ?? new Error('connection closed')})
    }
  }

  private failure(error: unknown, context: {command: string; folder?: string}): unknown {
    const full: ErrorContext = {server: this.server, user: this.user, secrets: this.secrets(), ...context}
    // A literal over the limit (limits.ts) reaches us as imapflow's 'error' event, and the
    // command fails only with the "connection closed" that followed: say what happened instead.
    const translated = this.guard.translate(isOverLimit(this.lastLinkError) ? this.lastLinkError : error, full)
    // A broken link, a timeout, an interruption or a response imapflow refused to read ends the
    // session for good.
    if (translated instanceof TransientImapError || translated instanceof OversizedResponseError || this.signal.aborted || this.guard.timedOut) this.close()
    return translated
  }

  /** MissingFolderError for a NO that means "no such folder" (RFC 5530 NONEXISTENT, or LIST says so). */
  private async missingOr(error: unknown, folder: string): Promise<unknown> {
    if ((error as {responseStatus?: unknown}).responseStatus !== 'NO') return error
    const response = (error as {response?: unknown}).response
    const code = typeof response === 'object' && response !== null ? responseCode(response)?.code : undefined
    if (code === 'NONEXISTENT') return new MissingFolderError(folder, {cause: error})
    if (code !== undefined) return error
    const wire = this.names.wire(folder)
    try {
      const {entries} = await listMailboxes(this.flow, {reference: '', mailbox: wire})
      const same = (w: string): boolean => w === wire || (wire.toUpperCase() === 'INBOX' && w.toUpperCase() === 'INBOX')
      const found = entries.find((e) => same(e.wire))
      if (found === undefined || found.flags.some((f) => f.toUpperCase() === '\\NONEXISTENT')) return new MissingFolderError(folder, {cause: error})
    } catch {
      // The LIST failed too: report the original NO.
    }
    return error
  }
}

/**
 * Marks progress for the inactivity guard (guard.ts) when a FETCH response brings a UID that was
 * asked for and is beyond every UID seen so far in this command, either way (servers answer in
 * UID order, RFC 3501 §6.4.8 does not promise which): a server repeating the same responses, or
 * answering for UIDs nobody asked for, makes no progress. Constant memory, whatever the set.
 */
function fetchProgress(uidSet: string, progress: () => void): (uid: number | undefined) => void {
  const inSet = uidSetMatcher(uidSet)
  let low = Infinity
  let high = -Infinity
  return (uid) => {
    if (uid === undefined || (uid >= low && uid <= high) || !inSet(uid)) return
    low = Math.min(low, uid)
    high = Math.max(high, uid)
    progress()
  }
}

/**
 * How many distinct UIDs a SEARCH answer holds. An answer in ascending order (an ESEARCH set
 * expanded, nearly every classic answer) holds each once without a Set of them: for 162,755
 * messages that Set was megabytes in the large-object space, freed only by a full collection.
 */
function distinctCount(uids: readonly number[]): number {
  let ascending = true
  for (let i = 1; i < uids.length && ascending; i++) ascending = (uids[i] as number) > (uids[i - 1] as number)
  return ascending ? uids.length : new Set(uids).size
}

function checkUidSet(set: string): void {
  if (!isValidUidSet(set)) throw new InternalError(`invalid UID set ${JSON.stringify(set)}`)
}

/** BODY.PEEK[]<origin.length> (RFC 3501 §6.4.5): a byte range of the whole message. */
function bodyRange(origin: number, length: number): WireNode {
  return {type: 'ATOM', value: 'BODY.PEEK', section: [], partial: [origin, length]}
}
