import {describe, expect, it} from 'vitest'
import {ConnectionError, DeadlineError, InterruptedError, RemoteError, TransientImapError} from '../../shared/errors.js'
import {ImapConnectionError} from '../../imap/index.js'
import {backoffDelay, isRetryable, retryPolicy, sleep, withRetries, type RetryOptions, type RetryWait} from './retry.js'

const transient = (): TransientImapError => new TransientImapError('link broke', {cause: new Error('ECONNRESET')})
const options = (overrides: Partial<RetryOptions> = {}): RetryOptions => ({policy: {attempts: 3, baseDelayMs: 5, maxDelayMs: 20}, signal: new AbortController().signal, ...overrides})

/** Runs withRetries on `fail(n)` (throw to fail, return to succeed); the attempts and waits seen. */
async function run(fail: (n: number) => void, overrides: Partial<RetryOptions> = {}): Promise<{result: unknown; calls: number; waits: RetryWait[]}> {
  const waits: RetryWait[] = []
  let calls = 0
  let result: unknown
  try {
    result = await withRetries(
      async (n) => {
        calls++
        fail(n)
        return 'ok'
      },
      options({onRetry: (_error, wait) => void waits.push(wait), ...overrides}),
    )
  } catch (error) {
    result = error
  }
  return {result, calls, waits}
}

describe('retry policy', () => {
  it('defaults to 5 new connections, 1 s doubling up to 30 s', () => {
    expect(retryPolicy(undefined)).toEqual({attempts: 5, baseDelayMs: 1000, maxDelayMs: 30_000})
    expect(retryPolicy({attempts: 2})).toEqual({attempts: 2, baseDelayMs: 1000, maxDelayMs: 30_000})
    expect(retryPolicy({attempts: -1.5})).toEqual({attempts: 0, baseDelayMs: 1000, maxDelayMs: 30_000})
  })

  it('backs off exponentially with jitter in the upper half, capped', () => {
    const policy = retryPolicy(undefined)
    expect(backoffDelay(1, policy, () => 0)).toBe(500)
    expect(backoffDelay(1, policy, () => 0.999999)).toBe(1000)
    expect(backoffDelay(2, policy, () => 0)).toBe(1000)
    expect(backoffDelay(3, policy, () => 1)).toBe(4000)
    expect(backoffDelay(10, policy, () => 1)).toBe(30_000)
    expect(backoffDelay(10, policy, () => 0)).toBe(15_000)
  })

  it('retries a broken link and a connection refused, never a refused login, a NO or an interruption', () => {
    expect(isRetryable(transient())).toBe(true)
    expect(isRetryable(new ImapConnectionError('refused', 'refused', true))).toBe(true)
    expect(isRetryable(new ImapConnectionError('login refused', 'auth', false))).toBe(false)
    expect(isRetryable(new ImapConnectionError('cert', 'tls', false))).toBe(false)
    // A ConnectionError from elsewhere (an OAuth2 server): by the network code of its cause.
    expect(isRetryable(new ConnectionError('x', {cause: Object.assign(new Error('x'), {code: 'ECONNREFUSED'})}))).toBe(true)
    expect(isRetryable(new ConnectionError('tls'))).toBe(false)
    expect(isRetryable(new RemoteError('NO'))).toBe(false)
    expect(isRetryable(new InterruptedError('SIGINT'))).toBe(false)
    expect(isRetryable(new Error('ECONNRESET'))).toBe(false)
  })
})

describe('withRetries', () => {
  it('retries retryable failures with growing waits, then returns', async () => {
    const {result, calls, waits} = await run((n) => {
      if (n < 3) throw transient()
    }, {random: () => 1})
    expect(result).toBe('ok')
    expect(calls).toBe(3)
    expect(waits).toEqual([
      {failure: 1, of: 3, delayMs: 5},
      {failure: 2, of: 3, delayMs: 10},
    ])
  })

  it('gives up after policy.attempts retries with the last error', async () => {
    const errors: Error[] = []
    const {result, calls, waits} = await run(() => {
      errors.push(transient())
      throw errors.at(-1)
    })
    expect(calls).toBe(4)
    expect(waits).toHaveLength(3)
    expect(result).toBe(errors[3])
  })

  it('tries once with attempts 0', async () => {
    const {calls} = await run(() => {
      throw transient()
    }, {policy: {attempts: 0, baseDelayMs: 1, maxDelayMs: 1}})
    expect(calls).toBe(1)
  })

  it('never retries a refused login or a NO', async () => {
    for (const error of [new ImapConnectionError('login refused', 'auth', false), new RemoteError('NO')]) {
      const {result, calls} = await run(() => {
        throw error
      })
      expect(result).toBe(error)
      expect(calls).toBe(1)
    }
  })

  it('starts the budget again after an attempt that made progress', async () => {
    // Fails 7 times, 3 retries allowed: only possible because attempts 3 and 6 saved work.
    let progressCalls = 0
    const {result, calls, waits} = await run(
      (n) => {
        if (n <= 7) throw transient()
      },
      {progressed: () => [3, 6].includes(progressCalls++ + 1)},
    )
    expect(result).toBe('ok')
    expect(calls).toBe(8)
    expect(waits.map((w) => w.failure)).toEqual([1, 2, 1, 2, 3, 1, 2])
  })

  it('without progress the same failures give up', async () => {
    const {result, calls} = await run((n) => {
      if (n <= 7) throw transient()
    }, {progressed: () => false})
    expect(result).toBeInstanceOf(TransientImapError)
    expect(calls).toBe(4)
  })

  it('does not retry when the wait would end after the deadline', async () => {
    const {result, calls} = await run(() => {
      throw transient()
    }, {policy: {attempts: 5, baseDelayMs: 60_000, maxDelayMs: 60_000}, deadline: Date.now() + 1000})
    expect(result).toBeInstanceOf(TransientImapError)
    expect(calls).toBe(1)
  })

  it('stops waiting at once when the signal is aborted, with its reason', async () => {
    const controller = new AbortController()
    const reason = new InterruptedError('SIGTERM')
    const started = Date.now()
    const pending = run(() => {
      throw transient()
    }, {policy: {attempts: 3, baseDelayMs: 10_000, maxDelayMs: 10_000}, signal: controller.signal})
    setTimeout(() => controller.abort(reason), 20)
    const {result, calls} = await pending
    expect(result).toBe(reason)
    expect(calls).toBe(1)
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it('throws the signal reason, not the failure the abort caused; an InterruptedError as it is', async () => {
    const controller = new AbortController()
    const reason = new DeadlineError('maximum duration reached')
    const aborted = await run(() => {
      controller.abort(reason)
      throw transient()
    }, {signal: controller.signal})
    expect(aborted.result).toBe(reason)
    expect(aborted.calls).toBe(1)
    const interrupt = new InterruptedError('SIGINT')
    const interrupted = await run(() => {
      throw interrupt
    })
    expect(interrupted.result).toBe(interrupt)
    expect(interrupted.calls).toBe(1)
  })

  it('does not start when the signal is already aborted', async () => {
    const controller = new AbortController()
    controller.abort(new InterruptedError('SIGINT'))
    const {result, calls} = await run(() => {}, {signal: controller.signal})
    expect(result).toBeInstanceOf(InterruptedError)
    expect(calls).toBe(0)
  })
})

describe('sleep', () => {
  it('resolves after the delay', async () => {
    const started = Date.now()
    await sleep(15, new AbortController().signal)
    expect(Date.now() - started).toBeGreaterThanOrEqual(10)
  })

  it('ends at once with the signal reason', async () => {
    const controller = new AbortController()
    const waiting = sleep(60_000, controller.signal)
    controller.abort(new InterruptedError('SIGTERM'))
    await expect(waiting).rejects.toBeInstanceOf(InterruptedError)
  })
})
