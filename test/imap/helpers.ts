/**
 * Helpers shared by the IMAP layer's tests (local to test/imap: test/support belongs to the
 * harness).
 */
import {memoryLogger, silentLogger, type Logger, type MemoryLogger} from '../../src/shared/logger.js'
import {connect} from '../../src/imap/index.js'
import type {ConnectOptions, Endpoint, ImapSession} from '../../src/imap/index.js'
import type {FlowSession} from '../../src/imap/session.js'
import type {TestUser} from '../support/dovecot.js'

export interface Target {
  host: string
  port: number
}

export function endpointFor(target: Target, overrides: Partial<Endpoint> = {}): Endpoint {
  return {
    host: target.host,
    port: target.port,
    security: 'plain',
    verifyCertificate: true,
    connectTimeoutMs: 5000,
    idleTimeoutMs: 10_000,
    ...overrides,
  }
}

export interface ConnectAs {
  endpoint?: Partial<Endpoint>
  logger?: Logger
  signal?: AbortSignal
  traceProtocol?: boolean
  clientId?: {name: string; version: string}
  downloadChunkBytes?: number
  wholeMessageBytes?: number
}

export function connectAs(target: Target, user: TestUser, options: ConnectAs = {}): Promise<ImapSession> {
  const connectOptions: ConnectOptions = {
    endpoint: endpointFor(target, options.endpoint),
    credentials: {kind: 'password', user: user.user, password: user.password},
    logger: options.logger ?? silentLogger,
    signal: options.signal ?? new AbortController().signal,
    traceProtocol: options.traceProtocol,
    clientId: options.clientId,
    downloadChunkBytes: options.downloadChunkBytes,
    wholeMessageBytes: options.wholeMessageBytes,
  }
  return connect(connectOptions)
}

/** The protocol trace of a MemoryLogger, one line per protocol line. */
export function traceLines(logger: MemoryLogger): string[] {
  return logger.records.map((r) => r.message).filter((m) => m.startsWith('C: ') || m.startsWith('S: '))
}

export function tracingLogger(): MemoryLogger {
  return memoryLogger()
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of iterable) out.push(item)
  return out
}

export function wireStats(session: ImapSession): {sent: number; received: number} {
  return (session as FlowSession).wireStats()
}

/** Resolves with what `promise` rejects with; fails the test when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection, but the promise resolved')
}

/** Dovecot 2.3's post-login capability list, minus what a test hides (harness `capabilities`). */
export function capabilitiesWithout(...hidden: string[]): string {
  const all =
    'IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+ NOTIFY'
  return all
    .split(' ')
    .filter((c) => !hidden.includes(c))
    .join(' ')
}
