/**
 * What the engine gets from its caller: a logger, a progress reporter and an AbortSignal. The
 * engine never prints and never exits; the CLI supplies real implementations, tests the silent
 * ones.
 */
import {DeadlineError, InterruptedError} from './errors.js'
import {silentLogger, type Logger} from './logger.js'

export interface ProgressTask {
  /**
   * Adds to the counters (messages done, bytes done). Bytes may come before the message they
   * belong to: a message that arrives in pieces reports `advance(0, n)` for each piece as it is
   * received, then `advance(1, 0)` once it is stored (and `advance(0, -n)` for the pieces of a
   * message that was not stored after all), so that the display moves during a big message.
   */
  advance(messages: number, bytes?: number): void
  /** Updates the totals once they are known. */
  setTotal(messages: number | undefined, bytes?: number): void
  done(): void
}

/** The parts of a run that a whole-run display counts. */
export type RunUnit = 'account' | 'folder'

export interface ProgressReporter {
  /** Starts a unit of work with counters, e.g. one folder's download. */
  start(label: string, total?: {messages?: number; bytes?: number}): ProgressTask
  // The rest is the shape of the whole run, for a display of it (src/cli/progress-state.ts).
  // Optional: a reporter that shows only tasks (a test's) leaves them out, so callers use `?.`.
  /**
   * Adds to the number of accounts or folders the run will go through, as it becomes known: a
   * backup says how many accounts it has, then each account how many folders it selected.
   */
  expect?(unit: RunUnit, count: number): void
  /** An account or folder of the run begins; the display names it until end(). */
  begin?(unit: RunUnit, name: string): void
  /** The account or folder begun last ends, whatever its outcome (skipped and failed ones too). */
  end?(unit: RunUnit): void
}

export interface RunContext {
  logger: Logger
  progress: ProgressReporter
  signal: AbortSignal
}

const silentTask: ProgressTask = {advance: () => {}, setTotal: () => {}, done: () => {}}
export const silentProgress: ProgressReporter = {start: () => silentTask, expect: () => {}, begin: () => {}, end: () => {}}

export function silentContext(overrides: Partial<RunContext> = {}): RunContext {
  return {logger: silentLogger, progress: silentProgress, signal: new AbortController().signal, ...overrides}
}

/** Throws the signal's reason (an InterruptedError from the CLI) if the run was stopped. */
export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason
}

/**
 * Whether `error` ends the run rather than one folder or account: the run was stopped (its signal
 * aborted: SIGINT/SIGTERM or the maximum duration), or an InterruptedError got here first.
 */
export function isStop(error: unknown, signal: AbortSignal): boolean {
  return signal.aborted || error instanceof InterruptedError
}

/**
 * Rethrows a stop (isStop): the signal's reason once it is aborted, so that whatever failure the
 * abort caused (a closed socket) is reported as the interruption it is; else the InterruptedError.
 * Anything else returns, for the caller to handle as a failure.
 */
export function rethrowIfStopped(error: unknown, signal: AbortSignal): void {
  if (isStop(error, signal)) throw stopError(error, signal)
}

/**
 * Rethrows an interruption by the user (SIGINT/SIGTERM, `interrupted`) or an InterruptedError, as
 * rethrowIfStopped does; the maximum duration (a DeadlineError) returns instead, for the caller
 * to report, keeping what is complete (docs/backup.md: the run reaches --max-duration).
 */
export function rethrowIfInterrupted(error: unknown, signal: AbortSignal): void {
  if (isInterruption(error, signal)) throw stopError(error, signal)
}

/**
 * Whether `error` is an interruption by the user (SIGINT/SIGTERM, `interrupted`) or an
 * InterruptedError: isStop without the maximum duration, which the caller reports instead.
 */
export function isInterruption(error: unknown, signal: AbortSignal): boolean {
  return interrupted(signal) || error instanceof InterruptedError
}

/**
 * What a stop is thrown as: the signal's reason once it is aborted (so that a failure the abort
 * caused, a closed socket, is reported as the interruption it is), else the error itself.
 */
export function stopError(error: unknown, signal: AbortSignal): unknown {
  return signal.aborted ? signal.reason : error
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
