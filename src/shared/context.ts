/**
 * What the engine gets from its caller: a logger, a progress reporter and an AbortSignal. The
 * engine never prints and never exits; the CLI supplies real implementations, tests the silent
 * ones.
 */
import {DeadlineError} from './errors.js'
import {silentLogger, type Logger} from './logger.js'

export interface ProgressTask {
  /** Adds to the counters (messages done, bytes done). */
  advance(messages: number, bytes?: number): void
  /** Updates the totals once they are known. */
  setTotal(messages: number | undefined, bytes?: number): void
  done(): void
}

export interface ProgressReporter {
  /** Starts a unit of work, e.g. one folder's download. */
  start(label: string, total?: {messages?: number; bytes?: number}): ProgressTask
}

export interface RunContext {
  logger: Logger
  progress: ProgressReporter
  signal: AbortSignal
}

const silentTask: ProgressTask = {advance: () => {}, setTotal: () => {}, done: () => {}}
export const silentProgress: ProgressReporter = {start: () => silentTask}

export function silentContext(overrides: Partial<RunContext> = {}): RunContext {
  return {logger: silentLogger, progress: silentProgress, signal: new AbortController().signal, ...overrides}
}

/** Throws the signal's reason (an InterruptedError from the CLI) if the run was stopped. */
export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason
}

/** The run was stopped by the user (SIGINT/SIGTERM): roll back and end, rather than its deadline. */
export function interrupted(signal: AbortSignal): boolean {
  return signal.aborted && !(signal.reason instanceof DeadlineError)
}

/** The run reached its maximum duration (withDeadline): stop at a savepoint and report. */
export function deadlineReached(signal: AbortSignal): boolean {
  return signal.aborted && signal.reason instanceof DeadlineError
}

/**
 * `ctx` with a signal that is also aborted, with a DeadlineError, `ms` after now: the IMAP layer
 * closes its connection at once (as for an interruption) and whatever waits on the server fails
 * with that error; the engine then stops at a savepoint (`deadlineReached`). `ms` undefined: no
 * deadline. Call dispose() when the run is over.
 */
export function withDeadline(ctx: RunContext, ms: number | undefined, describe: string): {ctx: RunContext; dispose: () => void} {
  if (ms === undefined) return {ctx, dispose: () => {}}
  const controller = new AbortController()
  const onStop = (): void => controller.abort(ctx.signal.reason)
  if (ctx.signal.aborted) onStop()
  else ctx.signal.addEventListener('abort', onStop, {once: true})
  const timer = setTimeout(() => {
    ctx.logger.warn(`the run reached its maximum duration (${describe}): stopping at a savepoint`)
    controller.abort(
      new DeadlineError(`the run reached its maximum duration (${describe}) and stopped at a savepoint`, {hint: 'everything saved so far is kept; the next run continues from there'}),
    )
  }, ms)
  timer.unref()
  return {
    ctx: {...ctx, signal: controller.signal},
    dispose: () => {
      clearTimeout(timer)
      ctx.signal.removeEventListener('abort', onStop)
    },
  }
}
