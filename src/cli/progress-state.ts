/**
 * The progress of a whole run, as a ProgressReporter (src/shared/context.ts) keeps it: which
 * account and folder it is at out of how many, the messages and bytes done out of those known to
 * be missing so far, the recent rates and the time left. Two displays read it: the progress line
 * on a terminal (progress-bar.ts) and the progress log line elsewhere (progress-log.ts).
 *
 * Totals grow while the run goes on: a folder's count of missing messages is known only when
 * the folder is examined, so "1,200/20,000 msgs" and the time left are about the work known so
 * far. Rates are measured over the last RATE_WINDOW_MS, so that they follow a slow big message
 * and recover after it, and are shown only once a second of work has been measured.
 */
import type {ProgressReporter, ProgressTask, RunUnit} from '../shared/context.js'

export interface Counts {
  messages: number
  bytes: number
}

interface TaskState {
  readonly label: string
  messages: number
  bytes: number
  totalMessages: number | undefined
  totalBytes: number | undefined
}

interface UnitState {
  /** How many the run expects (0: not said). */
  expected: number
  /** Ended ones. */
  ended: number
  /** The one begun last and not ended yet. */
  current: string | undefined
}

/** What a display shows; undefined fields are unknown. */
export interface ProgressSnapshot {
  /** `alice@example.com: INBOX`: the active task's label, or the current account and folder. */
  label: string
  /** Number of the current account and of all expected (only when more than one is expected). */
  account?: {at: number; of: number}
  folder?: {at: number; of: number}
  messages: number
  totalMessages: number | undefined
  bytes: number
  totalBytes: number | undefined
  /** Other tasks running at the same time (uploads run several). */
  others: number
  messagesPerSecond: number | undefined
  bytesPerSecond: number | undefined
  etaSeconds: number | undefined
  elapsedSeconds: number
}

const RATE_WINDOW_MS = 10_000
const MIN_RATE_SPAN_MS = 1000
const SAMPLE_EVERY_MS = 250
const MIN_ETA_MESSAGES = 5

export class ProgressState implements ProgressReporter {
  private readonly tasks: TaskState[] = []
  /** Counters of the tasks that are done (still part of the run's totals). */
  private readonly finished = {messages: 0, bytes: 0, totalMessages: 0, totalBytes: 0, unknownTotals: false}
  private readonly units: Record<RunUnit, UnitState> = {account: {expected: 0, ended: 0, current: undefined}, folder: {expected: 0, ended: 0, current: undefined}}
  private readonly samples: Array<{at: number} & Counts> = []
  private started: number | undefined
  private readonly listeners: Array<() => void> = []

  constructor(private readonly now: () => number = Date.now) {}

  /** `listener` runs after every change (the display decides whether to redraw). */
  onChange(listener: () => void): void {
    this.listeners.push(listener)
  }

  start(label: string, total: {messages?: number; bytes?: number} = {}): ProgressTask {
    this.markStart()
    const state: TaskState = {label, messages: 0, bytes: 0, totalMessages: total.messages, totalBytes: total.bytes}
    this.tasks.push(state)
    this.changed()
    let finished = false
    return {
      advance: (messages: number, bytes = 0) => {
        if (finished) return
        state.messages += messages
        state.bytes += bytes
        this.changed()
      },
      setTotal: (messages: number | undefined, bytes?: number) => {
        if (finished) return
        state.totalMessages = messages
        state.totalBytes = bytes
        this.changed()
      },
      done: () => {
        if (finished) return
        finished = true
        const index = this.tasks.indexOf(state)
        if (index >= 0) this.tasks.splice(index, 1)
        this.finished.messages += state.messages
        this.finished.bytes += state.bytes
        // A task done early (an error) counts as what it did, not as what it meant to do.
        this.finished.totalMessages += state.messages
        this.finished.totalBytes += state.bytes
        this.changed()
      },
    }
  }

  expect(unit: RunUnit, count: number): void {
    this.units[unit].expected += count
    this.changed()
  }

  begin(unit: RunUnit, name: string): void {
    this.markStart()
    this.units[unit].current = name
    // A new account starts with no current folder.
    if (unit === 'account') this.units.folder.current = undefined
    this.changed()
  }

  end(unit: RunUnit): void {
    const state = this.units[unit]
    state.ended++
    state.current = undefined
    if (unit === 'account') this.units.folder.current = undefined
    this.changed()
  }

  /** Whether there is anything to show: a task, or an account or folder under way. */
  get active(): boolean {
    return this.tasks.length > 0 || this.units.account.current !== undefined || this.units.folder.current !== undefined
  }

  /** Messages and bytes done so far in the run. */
  counts(): Counts {
    let messages = this.finished.messages
    let bytes = this.finished.bytes
    for (const t of this.tasks) {
      messages += t.messages
      bytes += t.bytes
    }
    return {messages, bytes}
  }

  snapshot(): ProgressSnapshot {
    const now = this.now()
    const done = this.counts()
    if (this.started !== undefined) this.sample(now, done)
    const task = this.tasks.at(-1)
    let totalMessages: number | undefined = this.finished.totalMessages
    let totalBytes: number | undefined = this.finished.totalBytes
    for (const t of this.tasks) {
      totalMessages = t.totalMessages === undefined || totalMessages === undefined ? undefined : totalMessages + t.totalMessages
      totalBytes = t.totalBytes === undefined || totalBytes === undefined ? undefined : totalBytes + t.totalBytes
    }
    // A byte total only while every task under way announced one (between folders, none).
    if (this.tasks.length === 0) totalBytes = undefined
    if (totalMessages === 0 && this.tasks.length === 0) totalMessages = undefined
    const rate = this.rates(now, done)
    const snapshot: ProgressSnapshot = {
      label: task?.label ?? this.unitLabel(),
      messages: done.messages,
      totalMessages,
      bytes: done.bytes,
      totalBytes: totalBytes === 0 ? undefined : totalBytes,
      others: Math.max(0, this.tasks.length - 1),
      messagesPerSecond: rate?.messages,
      bytesPerSecond: rate?.bytes,
      etaSeconds: eta(done, {messages: totalMessages, bytes: totalBytes}, rate),
      elapsedSeconds: this.started === undefined ? 0 : Math.max(0, (now - this.started) / 1000),
    }
    const account = position(this.units.account)
    const folder = position(this.units.folder)
    if (account !== undefined) snapshot.account = account
    if (folder !== undefined) snapshot.folder = folder
    return snapshot
  }

  private unitLabel(): string {
    const {account, folder} = this.units
    if (account.current !== undefined && folder.current !== undefined) return `${account.current}: ${folder.current}`
    return account.current ?? folder.current ?? ''
  }

  private sample(now: number, done: Counts): void {
    const last = this.samples.at(-1)
    if (last === undefined || now - last.at >= SAMPLE_EVERY_MS) this.samples.push({at: now, ...done})
    while (this.samples.length > 2 && now - this.samples[1]!.at >= RATE_WINDOW_MS) this.samples.shift()
  }

  /** Per second over the window; undefined until a second of work has been measured. */
  private rates(now: number, done: Counts): (Counts & {windowMessages: number}) | undefined {
    const first = this.samples[0]
    if (first === undefined) return undefined
    const span = now - first.at
    if (span < MIN_RATE_SPAN_MS) return undefined
    const windowMessages = done.messages - first.messages
    return {messages: (windowMessages * 1000) / span, bytes: ((done.bytes - first.bytes) * 1000) / span, windowMessages}
  }

  /** The run's clock starts with its first task or unit; rates are measured from there. */
  private markStart(): void {
    if (this.started !== undefined) return
    this.started = this.now()
    this.samples.push({at: this.started, messages: 0, bytes: 0})
  }

  private changed(): void {
    if (this.started !== undefined) this.sample(this.now(), this.counts())
    for (const listener of this.listeners) listener()
  }
}

/** `3/12` for the unit under way, when more than one is expected (counted over the whole run). */
function position(unit: UnitState): {at: number; of: number} | undefined {
  if (unit.expected <= 1 || unit.current === undefined) return undefined
  return {at: Math.min(unit.expected, unit.ended + 1), of: unit.expected}
}

/**
 * Seconds left for the work known so far: by bytes when their total is known (a few big
 * messages make a message rate meaningless), else by messages, once the rate rests on enough of
 * them (MIN_ETA_MESSAGES in the window): during one big message there is no telling.
 */
function eta(done: Counts, total: {messages: number | undefined; bytes: number | undefined}, rate: (Counts & {windowMessages: number}) | undefined): number | undefined {
  if (rate === undefined) return undefined
  if (total.bytes !== undefined && total.bytes > 0 && rate.bytes > 0) return Math.max(0, (total.bytes - done.bytes) / rate.bytes)
  if (total.messages !== undefined && rate.messages > 0 && rate.windowMessages >= MIN_ETA_MESSAGES) return Math.max(0, (total.messages - done.messages) / rate.messages)
  return undefined
}
