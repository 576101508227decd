/**
 * ImapSession (types.ts) over one imapflow connection. Every operation runs inside `op()`:
 * the guard watches the link while we wait on the server, and whatever fails is translated
 * once (guard.ts, classify.ts). A broken link closes the session: `closed` turns true and every
 * later call throws TransientImapError, so the engine opens a new session.
 *
 * This file holds the session's state and that one way to run a command (`op`, and `stream` for
 * UID FETCH); what each command asks and makes of the answer lives beside it, one job a file:
 * folder-list.ts (LIST), folder-open.ts (SELECT/EXAMINE), missing-folder.ts, search-all.ts
 * (UID SEARCH), message-fetch.ts (the FETCH operations), message-download.ts (ranged FETCH).
 */
import type {ImapFlow} from 'imapflow'
import {TransientImapError} from '../shared/errors.js'
import type {Logger} from '../shared/logger.js'
import {isOverLimit, type ErrorContext} from './classify.js'
import {appendCommand} from './commands/append.js'
import {createCommand} from './commands/create.js'
import {expungeCommand} from './commands/expunge.js'
import {runFetch} from './commands/fetch-stream.js'
import {MailboxNames} from './commands/mailbox-name.js'
import {namespaceCommand} from './commands/namespace.js'
import {statusCommand} from './commands/status.js'
import {uidStore} from './commands/store.js'
import {fetchProgress} from './fetch-progress.js'
import type {FetchTap, TapConsumer} from './fetch-tap.js'
import {command, type FlowInternals, type WireNode} from './flow-internals.js'
import {FolderList, statusItems} from './folder-list.js'
import {openFolder, type QresyncState} from './folder-open.js'
import type {LinkGuard} from './guard.js'
import {OversizedResponseError} from './imap-errors.js'
import {MessageCount} from './message-count.js'
import {downloadMessage} from './message-download.js'
import {checkUidSet, fetchFlags, fetchHeaderFields, fetchMessages, fetchSummaries, streamMessages, type FetchRunner} from './message-fetch.js'
import {missingOr} from './missing-folder.js'
import {checkedSearch} from './search-all.js'
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
  private readonly folders: FolderList
  /** What the FETCH operations (message-fetch.ts) need of this session. */
  private readonly fetcher: FetchRunner

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
    this.folders = new FolderList({flow: this.flow, names: this.names, capabilities: this.capabilities, logger: this.logger, progress: () => this.guard.progress()})
    this.fetcher = {
      stream: (uidSet, items, consumer, modifiers, onVanished) => this.stream(uidSet, items, consumer, modifiers, onVanished),
      modseq: () => this.current?.modseq === true,
      qresync: this.capabilities.qresync,
    }
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
    return this.op({command: 'LIST'}, () => this.folders.list(options))
  }

  async status(folder: string): Promise<FolderStatus> {
    return this.op({command: 'STATUS', folder}, async () => {
      try {
        return await statusCommand(this.flow, this.names.node(folder), statusItems(this.capabilities))
      } catch (error) {
        throw await missingOr(this.flow, this.names, error, folder)
      }
    })
  }

  async createFolder(folder: string): Promise<void> {
    await this.op({command: 'CREATE', folder}, () => createCommand(this.flow, this.names.node(folder)))
  }

  // ---- open

  async examine(folder: string, options: {qresync?: QresyncState} = {}): Promise<OpenedFolder> {
    return this.open(folder, true, options.qresync)
  }

  async select(folder: string): Promise<OpenedFolder> {
    return this.open(folder, false, undefined)
  }

  private async open(folder: string, readOnly: boolean, qresync: QresyncState | undefined): Promise<OpenedFolder> {
    return this.op({command: readOnly ? 'EXAMINE' : 'SELECT', folder}, async () => {
      // Forgotten first: once SELECT/EXAMINE is sent, the previous folder is no longer selected (RFC 3501 §6.3.1).
      this.current = undefined
      this.count.reset(undefined)
      const {opened, modseq} = await openFolder({flow: this.flow, names: this.names, capabilities: this.capabilities, server: this.server}, folder, readOnly, qresync)
      this.current = {name: folder, readOnly: opened.readOnly, modseq}
      this.count.reset(opened.exists)
      return opened
    })
  }

  // ---- messages

  async searchUids(criteria: {uidRange?: string; larger?: number; unseen?: boolean; header?: {field: string; value: string}} = {}): Promise<number[]> {
    if (criteria.uidRange !== undefined) checkUidSet(criteria.uidRange)
    const folder = this.current?.name
    return this.op({command: 'UID SEARCH', folder}, () =>
      checkedSearch({flow: this.flow, count: this.count, esearch: this.capabilities.all.has('ESEARCH'), server: this.server, folder}, criteria),
    )
  }

  fetchSummaries(uidSet: string): AsyncIterable<MessageSummary> {
    return fetchSummaries(this.fetcher, uidSet)
  }

  fetchMessages(uidSet: string): AsyncIterable<FetchedMessage> {
    return fetchMessages(this.fetcher, uidSet)
  }

  streamMessages(uidSet: string, sink: MessageSink): Promise<void> {
    return streamMessages(this.fetcher, uidSet, sink)
  }

  fetchHeaderFields(uidSet: string, fields: readonly string[]): AsyncIterable<MessageHeaderFields> {
    return fetchHeaderFields(this.fetcher, uidSet, fields)
  }

  downloadMessage(uid: number): Promise<{summary: MessageSummary; chunks: AsyncIterable<Buffer>} | null> {
    return downloadMessage({runner: this.fetcher, chunkBytes: this.chunkBytes, server: this.server, folder: this.current?.name}, uid)
  }

  fetchFlags(uidSet: string, options: {changedSince?: string} = {}): Promise<FlagChanges> {
    return fetchFlags(this.fetcher, uidSet, options)
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

  /** A UID FETCH, its responses handed to `consumer`, with the link watched while we wait on the server. */
  private async stream(
    uidSet: string,
    items: WireNode[],
    consumer: TapConsumer,
    modifiers?: WireNode[],
    onVanished?: (uids: number[], earlier: boolean) => void,
  ): Promise<void> {
    this.usable()
    const gate = this.guard.gate()
    // Taken now: a connection that closes forgets the open folder.
    const context = {command: 'UID FETCH', folder: this.current?.name}
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
}

