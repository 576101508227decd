/**
 * Repair's one session to the account's server (docs/repair.md): opened when the first folder
 * needs it, with a short retry budget; a server that cannot be reached is remembered, and the
 * folders are repaired without it. What it asks the server about one folder (askFolder).
 */
import type {Account} from '../../config/index.js'
import {compactUidSet} from '../../imap/index.js'
import type {ImapSession, OpenedFolder} from '../../imap/types.js'
import {normaliseDate, normaliseMessageId, parseHeaderFields} from '../../store/rebuild.js'
import {rethrowIfStopped, throwIfAborted, type RunContext} from '../../shared/context.js'
import {InternalError, MailkeepError, MissingFolderError} from '../../shared/errors.js'
import type {RetryPolicy} from '../access/types.js'
import {ascending, slices} from '../access/uid-lists.js'
import {openAccountSession} from '../access/account-session.js'
import type {ServerCandidate} from './match.js'
import type {RepairOptions, RepairReport} from './types.js'

/** Repair asks the server once per account; a down server should not stall it for minutes. */
const REPAIR_RETRY: RetryPolicy = {attempts: 2, baseDelayMs: 1000, maxDelayMs: 5000}
const HEADER_BATCH = 1000
const HEADER_FIELDS = ['MESSAGE-ID', 'DATE']

/** The account's one session, opened when the first folder needs it; unreachable is remembered. */
export class ServerLink {
  state: RepairReport['server'] = 'not-needed'
  error: string | undefined
  private session: ImapSession | undefined

  constructor(
    private readonly options: RepairOptions,
    private readonly account: Account,
    private readonly ctx: RunContext,
  ) {}

  /** The session, or undefined when the server cannot be reached (the reason is kept). */
  async get(): Promise<ImapSession | undefined> {
    if (this.state === 'unreachable') return undefined
    if (this.session !== undefined && !this.session.closed) return this.session
    try {
      const sessionOptions = {retry: {...REPAIR_RETRY, ...this.options.retry}, ...(this.options.connect === undefined ? {} : {connect: this.options.connect})}
      this.session = await openAccountSession(this.options.config, this.account, this.ctx, sessionOptions)
      this.state = 'reachable'
      return this.session
    } catch (error) {
      rethrowIfStopped(error, this.ctx.signal)
      if (!(error instanceof MailkeepError)) throw error
      this.state = 'unreachable'
      this.error = error.message
      this.ctx.logger.warn(`the server cannot be reached (${error.message}); repairing without it`)
      return undefined
    }
  }

  async close(): Promise<void> {
    const session = this.session
    this.session = undefined
    if (session === undefined) return
    if (this.ctx.signal.aborted) session.close()
    else await session.logout()
  }
}


export interface ServerView {
  opened: OpenedFolder
  messages: Map<number, ServerCandidate & {flags: string[]}>
}

/** What the server says about one folder, or why it cannot say it. */
export type ServerAnswer = {kind: 'folder'; view: ServerView} | {kind: 'missing'} | {kind: 'unreachable'}

/** The server's view of folder `name`: UIDNEXT first, then every message's size, dates and flags. */
export async function askFolder(server: ServerLink, name: string, signal: AbortSignal): Promise<ServerAnswer> {
  const session = await server.get()
  if (session === undefined) return {kind: 'unreachable'}
  let opened: OpenedFolder
  try {
    opened = await session.examine(name)
  } catch (error) {
    if (error instanceof MissingFolderError) return {kind: 'missing'}
    throw error
  }
  const messages = new Map<number, ServerCandidate & {flags: string[]}>()
  if (opened.exists > 0) {
    for await (const s of session.fetchSummaries('1:*')) {
      messages.set(s.uid, {uid: s.uid, size: s.size, internalDate: s.internalDate === null ? null : Math.floor(s.internalDate.getTime() / 1000), flags: s.flags})
    }
    const fetchHeaders = session.fetchHeaderFields?.bind(session)
    if (fetchHeaders === undefined) throw new InternalError('this IMAP session cannot fetch header fields, which repair needs to recognise messages')
    for (const slice of slices([...messages.keys()].sort(ascending), HEADER_BATCH)) {
      throwIfAborted(signal)
      for await (const h of fetchHeaders(compactUidSet(slice), HEADER_FIELDS)) {
        const m = messages.get(h.uid)
        if (m === undefined) continue
        const fields = parseHeaderFields(h.headers)
        const messageId = normaliseMessageId(fields.get('message-id'))
        const date = normaliseDate(fields.get('date'))
        if (messageId !== undefined) m.messageId = messageId
        if (date !== undefined) m.date = date
      }
    }
  }
  return {kind: 'folder', view: {opened, messages}}
}
