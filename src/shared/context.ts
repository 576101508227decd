/**
 * What the engine gets from its caller: a logger, a progress reporter and an AbortSignal. The
 * engine never prints and never exits; the CLI supplies real implementations, tests the silent
 * ones.
 */
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
