/**
 * The account's one IMAP connection (one at a time, as imap-backup: servers limit connections per
 * user, imap-backup issue #123). A connection that broke is discarded and a NEW one is opened the
 * next time one is needed; the retries are the caller's (withRetries in retry.ts), because the
 * caller knows what an attempt is (a folder resumes from its savepoint).
 */
import type {Connect, ConnectOptions, ImapSession} from '../../imap/types.js'
import type {Logger} from '../../shared/logger.js'
import type {RetryPolicy} from './types.js'
import {withRetries} from './retry.js'

export interface SessionPoolOptions {
  connect: Connect
  connectOptions: ConnectOptions
  retry: RetryPolicy
  signal: AbortSignal
  logger: Logger
}

export class SessionPool {
  private current: ImapSession | undefined
  /** Connections opened so far (the first one included). */
  connections = 0

  constructor(private readonly options: SessionPoolOptions) {}

  /** The live session, or a new one (one try: no retries here). */
  async session(): Promise<ImapSession> {
    if (this.current !== undefined && !this.current.closed) return this.current
    this.current = undefined
    const session = await this.options.connect(this.options.connectOptions)
    this.connections++
    this.current = session
    return session
  }

  /**
   * The first connection of the account: transient network failures are retried with backoff
   * (`retry.attempts` more tries), but only while the next try starts within the connect
   * timeout (`open_timeout`) of the first one, so that a server that cannot be reached is
   * reported within about that time; a refused login, a wrong port or security setting are not
   * retried at all.
   */
  async open(): Promise<ImapSession> {
    const {retry, signal, logger} = this.options
    return withRetries(() => this.session(), {
      policy: retry,
      signal,
      deadline: Date.now() + this.options.connectOptions.endpoint.connectTimeoutMs,
      onRetry: (error, wait) =>
        logger.warn(`could not connect (${(error as Error).message}); retrying in ${(wait.delayMs / 1000).toFixed(1)} s (${wait.failure} of ${wait.of})`),
    })
  }

  /** Drops a session that failed (its socket is closed at once; no LOGOUT on a dead link). */
  discard(): void {
    const session = this.current
    this.current = undefined
    session?.close()
  }

  /** LOGOUT when the run is over; close at once when interrupted. Never throws. */
  async release(interrupted: boolean): Promise<void> {
    const session = this.current
    this.current = undefined
    if (session === undefined || session.closed) return
    if (interrupted) session.close()
    else await session.logout()
  }
}
