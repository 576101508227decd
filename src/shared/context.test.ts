import {describe, expect, it} from 'vitest'
import {isInterruption, isStop, rethrowIfInterrupted, rethrowIfStopped, stopError} from './context.js'
import {DeadlineError, InterruptedError, TransientImapError} from './errors.js'

function aborted(reason: Error): AbortSignal {
  const controller = new AbortController()
  controller.abort(reason)
  return controller.signal
}

const running = (): AbortSignal => new AbortController().signal
const thrown = (f: () => void): unknown => {
  try {
    f()
  } catch (error) {
    return error
  }
  return undefined
}

describe('the interrupt helpers', () => {
  it('rethrowIfStopped: the signal reason once aborted (not the failure the abort caused), an InterruptedError as it is, else returns', () => {
    const closed = new TransientImapError('socket closed')
    const sigint = new InterruptedError('SIGINT')
    expect(thrown(() => rethrowIfStopped(closed, aborted(sigint)))).toBe(sigint)
    const deadline = new DeadlineError('maximum duration reached')
    expect(thrown(() => rethrowIfStopped(closed, aborted(deadline)))).toBe(deadline)
    expect(thrown(() => rethrowIfStopped(sigint, running()))).toBe(sigint)
    expect(thrown(() => rethrowIfStopped(closed, running()))).toBeUndefined()
    expect(isStop(closed, aborted(deadline))).toBe(true)
    expect(isStop(sigint, running())).toBe(true)
    expect(isStop(closed, running())).toBe(false)
  })

  it('rethrowIfInterrupted: like rethrowIfStopped, except that the maximum duration returns for the caller to report', () => {
    const closed = new TransientImapError('socket closed')
    const sigterm = new InterruptedError('SIGTERM')
    expect(thrown(() => rethrowIfInterrupted(closed, aborted(sigterm)))).toBe(sigterm)
    expect(thrown(() => rethrowIfInterrupted(closed, aborted(new DeadlineError('maximum duration reached'))))).toBeUndefined()
    expect(thrown(() => rethrowIfInterrupted(sigterm, running()))).toBe(sigterm)
    expect(thrown(() => rethrowIfInterrupted(closed, running()))).toBeUndefined()
    expect(isInterruption(closed, aborted(sigterm))).toBe(true)
    expect(isInterruption(closed, aborted(new DeadlineError('maximum duration reached')))).toBe(false)
    expect(isInterruption(sigterm, running())).toBe(true)
    expect(isInterruption(closed, running())).toBe(false)
  })

  it('stopError: the signal reason once aborted, else the error itself', () => {
    const closed = new TransientImapError('socket closed')
    const sigint = new InterruptedError('SIGINT')
    expect(stopError(closed, aborted(sigint))).toBe(sigint)
    expect(stopError(sigint, running())).toBe(sigint)
    expect(stopError(closed, running())).toBe(closed)
  })
})
