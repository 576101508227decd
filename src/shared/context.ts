/**
 * What the engine gets from its caller: a logger, a progress reporter and an AbortSignal. The
 * engine never prints and never exits; the CLI supplies real implementations, tests the silent
 * ones.
 */
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
