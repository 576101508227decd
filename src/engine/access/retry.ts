/**
 * The reconnect policy (docs/backup.md, "Retries and reconnects"): after the link to the server
 * breaks, a NEW connection is tried with exponential backoff and jitter — unlike imap-backup,
 * which retries on the same broken connection without waiting (compat §6.7).
 */
import {backoffDelay as imapBackoffDelay} from '../../imap/index.js'
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
 * Delay before the `attempt`-th retry (1-based): the IMAP layer's exponential backoff with "equal
 * jitter" (src/imap/retry.ts) under this policy, so that several mailkeeps cut off by the same
 * outage do not all come back in the same second, and the wait never collapses to zero.
 */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  return imapBackoffDelay(attempt, policy.baseDelayMs, policy.maxDelayMs, random)
}

/** Waits `ms`, or rejects with the signal's reason (the CLI's InterruptedError) when aborted. */
export {sleep} from '../../imap/index.js'

/**
 * Worth another connection? A broken link (reset, EOF, timeout, BYE) is; so is a connection
 * that could not be established for a network reason. A refused login or a TLS failure is not:
 * retrying a wrong password only gets the account locked by the provider.
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
