/**
 * The reconnect policy of every use-case (docs/backup.md, "Retries and reconnects"): after the
 * link to the server breaks, a NEW connection is tried with exponential backoff and jitter —
 * unlike imap-backup, which retries on the same broken connection without waiting. One loop
 * (`withRetries`), one rule of what is worth retrying (`isRetryable`).
 */
import {rethrowIfStopped, throwIfAborted} from '../../shared/context.js'
import {ConnectionError, InterruptedError, TransientImapError} from '../../shared/errors.js'
import type {RetryPolicy} from './types.js'

export const DEFAULT_RETRY: RetryPolicy = {attempts: 5, baseDelayMs: 1000, maxDelayMs: 30_000}

export function retryPolicy(overrides: Partial<RetryPolicy> | undefined): RetryPolicy {
  const policy = {...DEFAULT_RETRY, ...overrides}
  return {
    attempts: Math.max(0, Math.floor(policy.attempts)),
    baseDelayMs: Math.max(0, policy.baseDelayMs),
    maxDelayMs: Math.max(0, policy.maxDelayMs),
  }
}

/**
 * The wait after the `failure`-th failure in a row (1-based): `base · 2^(failure-1)`, capped at
 * `maxDelayMs`, of which the upper half is random ("equal jitter"), so that several mailkeeps cut
 * off by the same outage do not all come back in the same second, and the wait never collapses
 * to zero.
 */
export function backoffDelay(failure: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, failure - 1))
  return Math.round(exponential / 2 + random() * (exponential / 2))
}

/**
 * Resolves after `ms` (at once for 0 or less, without a timer), or rejects with `signal.reason`
 * (the CLI's InterruptedError, or DeadlineError at --max-duration) as soon as it is aborted.
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason)
  if (ms <= 0) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal.addEventListener('abort', onAbort, {once: true})
  })
}

/** What a retry loop tells its caller before it waits. */
export interface RetryWait {
  /** Failures in a row since the start, or since the budget was last renewed (1 = the first). */
  failure: number
  /** The policy's attempts: retries allowed before giving up. */
  of: number
  delayMs: number
}

export interface RetryOptions {
  policy: RetryPolicy
  /** Aborting it ends a wait at once; an aborted run throws `signal.reason`, never retries. */
  signal: AbortSignal
  /**
   * Called after a retryable failure, before the wait: drop the broken session, say what
   * happened. An error it throws ends the loop.
   */
  onRetry?: (error: unknown, wait: RetryWait) => void | Promise<void>
  /**
   * True when the attempt that just failed saved work: the budget starts again, so that a link
   * that keeps breaking but makes progress each time is not "failing" (docs/backup.md).
   */
  progressed?: () => boolean
  /** No retry whose wait would end after this time (ms since the epoch). */
  deadline?: number
  /** Default `isRetryable`. */
  retryable?: (error: unknown) => boolean
  /** For tests: a source of numbers in [0, 1). */
  random?: () => number
}

/**
 * Runs `attempt` until it resolves. After a failure: an interruption is thrown (rethrowIfStopped);
 * an error that is not retryable is thrown; after `policy.attempts` retryable failures in a row
 * (renewed by progress) or past the deadline, the last error is thrown; otherwise onRetry, then
 * the backoff wait, then the next attempt (1-based number given to `attempt`).
 */
export async function withRetries<T>(attempt: (n: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const {policy, signal} = options
  const retryable = options.retryable ?? isRetryable
  let failures = 0
  for (let n = 1; ; n++) {
    throwIfAborted(signal)
    try {
      return await attempt(n)
    } catch (error) {
      rethrowIfStopped(error, signal)
      if (!retryable(error)) throw error
      if (options.progressed?.() === true) failures = 0
      failures++
      const delayMs = backoffDelay(failures, policy, options.random)
      if (failures > policy.attempts || (options.deadline !== undefined && Date.now() + delayMs > options.deadline)) throw error
      await options.onRetry?.(error, {failure: failures, of: policy.attempts, delayMs})
      await sleep(delayMs, signal)
    }
  }
}

/**
 * Worth another connection? The one rule of mailkeep (docs/imap.md, "Retry policy"): a broken
 * link (TransientImapError: reset, EOF, timeout, BYE, throttling) is; so is a connection that
 * could not be established for a reason that passes: the IMAP layer says so in
 * ImapConnectionError's `retryable` (refused while a server restarts, unreachable, a temporary
 * DNS failure), and a ConnectionError from elsewhere (an OAuth2 server) when a network error
 * code is in its causes. A refused login, a TLS failure, an unknown host, a NO/BAD answer and an
 * interruption are not: retrying a wrong password only gets the account locked by the provider.
 */
export function isRetryable(error: unknown): boolean {
  if (error instanceof InterruptedError) return false
  if (error instanceof TransientImapError) return true
  if (error instanceof ConnectionError) return networkFailure(error)
  return false
}

/** Error codes of a connection that never came up or died, as Node reports them. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED'])

function networkFailure(error: ConnectionError): boolean {
  const flagged = (error as {retryable?: unknown}).retryable
  if (typeof flagged === 'boolean') return flagged
  for (let e: unknown = error; e !== undefined && e !== null; e = (e as {cause?: unknown}).cause) {
    const code = (e as {code?: unknown}).code
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true
    if (typeof e !== 'object') break
  }
  return false
}
