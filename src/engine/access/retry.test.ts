import {describe, expect, it} from 'vitest'
import {ConnectionError, InterruptedError, RemoteError, TransientImapError} from '../../shared/errors.js'
import {backoffDelay, isRetryable, retryPolicy, sleep} from './retry.js'

describe('retry policy', () => {
  it('defaults to 5 new connections, 1 s doubling up to 30 s', () => {
    expect(retryPolicy(undefined)).toEqual({attempts: 5, baseDelayMs: 1000, maxDelayMs: 30_000})
    expect(retryPolicy({attempts: 2})).toEqual({attempts: 2, baseDelayMs: 1000, maxDelayMs: 30_000})
  })

  it('backs off exponentially with jitter in the upper half, capped', () => {
    const policy = retryPolicy(undefined)
    expect(backoffDelay(1, policy, () => 0)).toBe(500)
    expect(backoffDelay(1, policy, () => 0.999999)).toBe(1000)
    expect(backoffDelay(3, policy, () => 1)).toBe(4000)
    expect(backoffDelay(10, policy, () => 1)).toBe(30_000)
    expect(backoffDelay(10, policy, () => 0)).toBe(15_000)
  })

  it('retries a broken link and a connection refused, never a refused login or a NO', () => {
    expect(isRetryable(new TransientImapError('reset'))).toBe(true)
    const refused = Object.assign(new ConnectionError('refused'), {retryable: true})
    expect(isRetryable(refused)).toBe(true)
    const login = Object.assign(new ConnectionError('login refused'), {retryable: false})
    expect(isRetryable(login)).toBe(false)
    expect(isRetryable(new ConnectionError('x', {cause: Object.assign(new Error('x'), {code: 'ECONNREFUSED'})}))).toBe(true)
    expect(isRetryable(new ConnectionError('tls'))).toBe(false)
    expect(isRetryable(new RemoteError('NO'))).toBe(false)
    expect(isRetryable(new InterruptedError('SIGINT'))).toBe(false)
  })

  it('sleep ends at once with the signal reason', async () => {
    const controller = new AbortController()
    const waiting = sleep(60_000, controller.signal)
    controller.abort(new InterruptedError('SIGTERM'))
    await expect(waiting).rejects.toBeInstanceOf(InterruptedError)
  })
})
