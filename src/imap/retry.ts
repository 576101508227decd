/**
 * Retries with exponential backoff and jitter (docs/imap.md "Retry policy").
 *
 * Only failures that a new attempt can cure are retried (`isTransient`): a broken link
 * (TransientImapError: reset, EOF, BYE, timeout, throttling) and a connection that could not be
 * made for a reason that passes (ImapConnectionError with `retryable`: ECONNREFUSED while a
 * server restarts, EHOSTUNREACH, a temporary DNS failure). A refused login, a TLS or certificate
 * failure, an unknown host, a NO/BAD answer and an interruption are never retried: repeating a
 * refused login only risks locking the account.
 */
import {InterruptedError, TransientImapError} from '../shared/errors.js'
import {ImapConnectionError} from './imap-errors.js'

export function isTransient(error: unknown): boolean {
  if (error instanceof TransientImapError) return true
  return error instanceof ImapConnectionError && error.retryable
}

export interface RetryEvent {
  /** The attempt that failed (1 = the first). */
  attempt: number
  attempts: number
  /** How long we wait before the next attempt. */
  delayMs: number
  error: unknown
}

export interface RetryOptions {
  /** Total attempts, the first included (1 = no retry). */
  attempts: number
  /** Delay before the second attempt; doubled for each further one. */
  baseDelayMs: number
  maxDelayMs: number
  /** Aborting it ends a wait at once and rejects with `signal.reason`. */
  signal: AbortSignal
  onRetry?: (event: RetryEvent) => void
  /** Default `isTransient`. */
  isRetryable?: (error: unknown) => boolean
  /** For tests: a source of numbers in [0, 1). */
  random?: () => number
}

/**
 * Runs `fn` until it resolves, a non-retryable error is thrown, the attempts are used up (the
 * last error is thrown) or the signal is aborted (its reason is thrown).
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const attempts = Math.max(1, Math.floor(options.attempts))
  const retryable = options.isRetryable ?? isTransient
  for (let attempt = 1; ; attempt++) {
    if (options.signal.aborted) throw options.signal.reason
    try {
      return await fn(attempt)
    } catch (error) {
      if (options.signal.aborted) throw options.signal.reason
      if (error instanceof InterruptedError || attempt >= attempts || !retryable(error)) throw error
      const delayMs = backoffDelay(attempt, options.baseDelayMs, options.maxDelayMs, options.random)
      options.onRetry?.({attempt, attempts, delayMs, error})
      await sleep(delayMs, options.signal)
    }
  }
}

/**
 * The wait after the `attempt`-th failure: `base · 2^(attempt-1)`, capped at `max`, of which the
 * upper half is random ("equal jitter"), so clients that failed together do not return together
 * while the wait still grows.
 */
export function backoffDelay(attempt: number, baseDelayMs: number, maxDelayMs: number, random: () => number = Math.random): number {
  const exponential = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(exponential / 2 + random() * (exponential / 2))
}

/**
 * Resolves after `ms` (at once for 0 or less, without a timer), or rejects with `signal.reason`
 * as soon as the signal is aborted.
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
