/**
 * Watches one connection for the two ways an operation ends without the server's help:
 *
 * - inactivity: while we wait on the server, no *progress* for `idleTimeoutMs` means the link is
 *   broken (TransientImapError). Progress is what moves the operation toward its end, not bytes:
 *   a command completing, a message (or summary, or chunk) we asked for arriving (the session
 *   calls progress()), or the response being received (a message literal, a long line) or a
 *   literal we send moving on by PROGRESS_BYTES. A server that trickles a byte a second, or sends status lines, flag updates or
 *   FETCH responses nobody asked for without end, makes no progress and is cut off like a silent
 *   one. Time the consumer spends holding a FETCH result does not count. imapflow's own socket
 *   timeout is pushed out of the way (it would also fire on a session left idle between
 *   commands, which is not a failure);
 * - interruption: an aborted signal closes the socket at once, and the operation rejects with
 *   `signal.reason` (the CLI's InterruptedError, or the engine's DeadlineError).
 */
import {TransientImapError} from '../shared/errors.js'
import type {Logger} from '../shared/logger.js'
import {classifyImapError, type ErrorContext} from './classify.js'

export interface GuardTarget {
  /** Bytes received so far on this connection. */
  received(): number
  /** Bytes sent so far on this connection. */
  sent(): number
  /**
   * The response being received: bytes of its literal that have not arrived yet (undefined when
   * not in a literal), and bytes of its line so far (0 between lines).
   */
  inProgress(): {literalRemaining: number | undefined; lineBytes: number}
  /** Closes the connection at once. */
  close(): void
}

/**
 * A literal moving on by this much counts as progress: at the slowest, about 550 bytes per
 * second with the default 120 s (a working link is hundreds of times faster; a byte a second is
 * not a link that works).
 */
export const PROGRESS_BYTES = 64 * 1024

export class LinkGuard {
  private active = 0
  /** Time spent waiting on the server since the last progress (only while active). */
  private stalledMs = 0
  private lastTick = 0
  private lastBytes = 0
  /** Bytes received since the last progress (for the message). */
  private bytesSinceProgress = 0
  private literalMark: number | undefined
  private lineMark = 0
  private sentMark: number | undefined
  private timer: NodeJS.Timeout | undefined
  private timedOutAt: number | undefined
  /** What the timeout saw: no byte at all, or bytes without progress. */
  private silent = true
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
    this.lastTick = Date.now()
    this.lastBytes = this.target.received()
    this.sentMark ??= this.target.sent()
    // A stream hands on each response and waits again (gate()), possibly more often than the
    // timer ticks: a stall that built up over such short waits is caught here too.
    if (this.stalledMs >= this.idleTimeoutMs) {
      this.fire()
      return
    }
    const interval = Math.min(1000, Math.max(20, Math.floor(this.idleTimeoutMs / 10)))
    this.timer = setInterval(() => this.check(), interval)
    this.timer.unref()
  }

  end(): void {
    if (this.active === 0) return
    if (--this.active === 0) {
      this.observe()
      this.stopTimer()
    }
  }

  /** The operation moved on: a command completed, or something asked for arrived. */
  progress(): void {
    this.stalledMs = 0
    this.bytesSinceProgress = 0
    this.lastTick = Date.now()
    this.lastBytes = this.target.received()
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
      const during = context.command ?? 'a command'
      const message = this.silent
        ? `no data from ${context.server} for ${this.idleTimeoutMs} ms during ${during}: connection considered broken`
        : `no progress from ${context.server} for ${this.idleTimeoutMs} ms during ${during}: it sent ${this.bytesSinceProgress} bytes meanwhile but completed nothing asked for (a server that trickles data or sends only status lines); connection considered broken`
      return new TransientImapError(message, {cause: error})
    }
    return classifyImapError(error, context)
  }

  dispose(): void {
    this.stopTimer()
    this.signal.removeEventListener('abort', this.onAbort)
  }

  /**
   * Adds the time since the last look to the stall, and the bytes since then; a literal coming
   * in (a message body) or going out (APPEND), or a line being received, that moved on by
   * PROGRESS_BYTES is progress.
   */
  private observe(): void {
    const now = Date.now()
    this.stalledMs += now - this.lastTick
    this.lastTick = now
    const bytes = this.target.received()
    this.bytesSinceProgress += bytes - this.lastBytes
    this.lastBytes = bytes
    const {literalRemaining: remaining, lineBytes} = this.target.inProgress()
    if (remaining === undefined || this.literalMark === undefined || remaining > this.literalMark) this.literalMark = remaining
    else if (this.literalMark - remaining >= PROGRESS_BYTES) {
      this.literalMark = remaining
      this.progress()
    }
    // A long line (a SEARCH answer of many UIDs) growing is progress too; lines that end, each
    // a response of its own (status lines without end), are not.
    if (lineBytes < this.lineMark) this.lineMark = lineBytes
    else if (lineBytes - this.lineMark >= PROGRESS_BYTES) {
      this.lineMark = lineBytes
      this.progress()
    }
    const sent = this.target.sent()
    if (sent - (this.sentMark ?? sent) >= PROGRESS_BYTES) {
      this.sentMark = sent
      this.progress()
    }
  }

  private check(): void {
    this.observe()
    if (this.stalledMs >= this.idleTimeoutMs) this.fire()
  }

  /** No progress for the whole timeout: the link counts as broken and is closed. */
  private fire(): void {
    this.timedOutAt = Date.now()
    this.silent = this.bytesSinceProgress === 0
    this.stopTimer()
    this.logger.debug(this.silent ? 'IMAP connection silent too long: closing it' : 'IMAP connection made no progress too long: closing it', {
      idleTimeoutMs: this.idleTimeoutMs,
      bytes: this.bytesSinceProgress,
    })
    this.target.close()
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }
}
