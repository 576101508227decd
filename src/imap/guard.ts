/**
 * Watches one connection for the two ways an operation ends without the server's help:
 *
 * - inactivity: while we wait on the server, no byte for `idleTimeoutMs` means the link is
 *   broken (TransientImapError). Time the consumer spends holding a FETCH result does not
 *   count. imapflow's own socket timeout is pushed out of the way (it would also fire on a
 *   session left idle between commands, which is not a failure);
 * - interruption: an aborted signal closes the socket at once, and the operation rejects with
 *   `signal.reason` (the CLI's InterruptedError).
 */
import {TransientImapError} from '../shared/errors.js'
import type {Logger} from '../shared/logger.js'
import {classifyImapError, type ErrorContext} from './classify.js'

export interface GuardTarget {
  /** Bytes received so far on this connection. */
  received(): number
  /** Closes the connection at once. */
  close(): void
}

export class LinkGuard {
  private active = 0
  private lastBytes = 0
  private lastChange = 0
  private timer: NodeJS.Timeout | undefined
  private timedOutAt: number | undefined
  private readonly onAbort = (): void => {
    this.logger.debug('interrupted: closing the IMAP connection')
    this.stopTimer()
    this.target.close()
  }

  constructor(
    private readonly target: GuardTarget,
    private readonly idleTimeoutMs: number,
    private readonly signal: AbortSignal,
    private readonly logger: Logger,
  ) {
    signal.addEventListener('abort', this.onAbort, {once: true})
  }

  get timedOut(): boolean {
    return this.timedOutAt !== undefined
  }

  /** We start waiting on the server. Calls nest. */
  begin(): void {
    if (this.active++ > 0) return
    this.lastBytes = this.target.received()
    this.lastChange = Date.now()
    const interval = Math.min(1000, Math.max(20, Math.floor(this.idleTimeoutMs / 10)))
    this.timer = setInterval(() => this.check(), interval)
    this.timer.unref()
  }

  end(): void {
    if (this.active === 0) return
    if (--this.active === 0) this.stopTimer()
  }

  /** A begin/end pair driven by a boolean (for streams that alternate). */
  gate(): (waiting: boolean) => void {
    let on = false
    return (waiting) => {
      if (waiting && !on) this.begin()
      else if (!waiting && on) this.end()
      on = waiting
    }
  }

  /** The error to throw for `error`: the interruption, the timeout, or its classification. */
  translate(error: unknown, context: ErrorContext): unknown {
    if (this.signal.aborted) return this.signal.reason
    if (this.timedOutAt !== undefined) {
      return new TransientImapError(`no data from ${context.server} for ${this.idleTimeoutMs} ms during ${context.command ?? 'a command'}: connection considered broken`, {
        cause: error,
      })
    }
    return classifyImapError(error, context)
  }

  dispose(): void {
    this.stopTimer()
    this.signal.removeEventListener('abort', this.onAbort)
  }

  private check(): void {
    const bytes = this.target.received()
    const now = Date.now()
    if (bytes !== this.lastBytes) {
      this.lastBytes = bytes
      this.lastChange = now
      return
    }
    if (now - this.lastChange < this.idleTimeoutMs) return
    this.timedOutAt = now
    this.stopTimer()
    this.logger.debug('IMAP connection silent too long: closing it', {idleTimeoutMs: this.idleTimeoutMs})
    this.target.close()
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }
}
