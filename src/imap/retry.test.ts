import {describe, expect, it} from 'vitest'
import {InterruptedError, RemoteError, TransientImapError} from '../shared/errors.js'
import {ImapConnectionError} from './imap-errors.js'
import {backoffDelay, isTransient, sleep, withRetry, type RetryEvent} from './retry.js'

const transient = (): TransientImapError => new TransientImapError('link broke', {cause: new Error('ECONNRESET')})
const options = (overrides = {}) => ({attempts: 4, baseDelayMs: 5, maxDelayMs: 20, signal: new AbortController().signal, ...overrides})

describe('isTransient', () => {
  it('retries broken links and passing connection failures only', () => {
    expect(isTransient(transient())).toBe(true)
    expect(isTransient(new ImapConnectionError('refused', 'refused', true))).toBe(true)
    expect(isTransient(new ImapConnectionError('login refused', 'auth', false))).toBe(false)
    expect(isTransient(new ImapConnectionError('cert', 'tls', false))).toBe(false)
    expect(isTransient(new RemoteError('NO'))).toBe(false)
    expect(isTransient(new InterruptedError('SIGINT'))).toBe(false)
    expect(isTransient(new Error('ECONNRESET'))).toBe(false)
  })
})

describe('backoffDelay', () => {
  it('doubles, caps, and keeps the lower half fixed', () => {
    expect(backoffDelay(1, 100, 1000, () => 0)).toBe(50)
    expect(backoffDelay(1, 100, 1000, () => 0.999999)).toBe(100)
    expect(backoffDelay(2, 100, 1000, () => 0)).toBe(100)
    expect(backoffDelay(3, 100, 1000, () => 1)).toBe(400)
    expect(backoffDelay(10, 100, 1000, () => 0)).toBe(500)
    expect(backoffDelay(10, 100, 1000, () => 1)).toBe(1000)
  })
})

describe('withRetry', () => {
  it('retries transient failures with growing delays, then succeeds', async () => {
    const events: RetryEvent[] = []
    let calls = 0
    const result = await withRetry(
      async (attempt) => {
        calls++
        if (attempt < 3) throw transient()
        return 'ok'
      },
      options({onRetry: (e: RetryEvent) => events.push(e), random: () => 1}),
    )
    expect(result).toBe('ok')
    expect(calls).toBe(3)
    expect(events.map((e) => [e.attempt, e.delayMs])).toEqual([
      [1, 5],
      [2, 10],
    ])
  })

  it('gives up after the last attempt with the last error', async () => {
    let calls = 0
    const last = transient()
    await expect(
      withRetry(async () => {
        calls++
        throw calls === 4 ? last : transient()
      }, options()),
    ).rejects.toBe(last)
    expect(calls).toBe(4)
  })

  it('never retries a refused login or a NO', async () => {
    for (const error of [new ImapConnectionError('login refused', 'auth', false), new RemoteError('NO')]) {
      let calls = 0
      await expect(
        withRetry(async () => {
          calls++
          throw error
        }, options()),
      ).rejects.toBe(error)
      expect(calls).toBe(1)
    }
  })

  it('stops waiting at once when the signal is aborted, with its reason', async () => {
    const controller = new AbortController()
    const reason = new InterruptedError('SIGTERM')
    const started = Date.now()
    const pending = withRetry(
      async () => {
        throw transient()
      },
      options({baseDelayMs: 10_000, maxDelayMs: 10_000, signal: controller.signal}),
    )
    setTimeout(() => controller.abort(reason), 20)
    await expect(pending).rejects.toBe(reason)
    expect(Date.now() - started).toBeLessThan(2000)
  })

  it('does not start when the signal is already aborted', async () => {
    const controller = new AbortController()
    controller.abort(new InterruptedError('SIGINT'))
    let calls = 0
    await expect(withRetry(async () => calls++, options({signal: controller.signal}))).rejects.toBeInstanceOf(InterruptedError)
    expect(calls).toBe(0)
  })

  it('sleep resolves after the delay', async () => {
    const started = Date.now()
    await sleep(15, new AbortController().signal)
    expect(Date.now() - started).toBeGreaterThanOrEqual(10)
  })
})
