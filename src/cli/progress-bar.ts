/**
 * The progress line of long-running commands: a ProgressReporter (src/shared/context.ts) that
 * draws one line on a terminal and rewrites it in place with `\r` and `\x1b[2K` (erase line):
 *
 *     alice@example.com: INBOX   1,200/20,000 msgs  14.2 MiB    310 msg/s 3.64 MiB/s  0:04
 *
 * It draws only on a TTY (a cron mail or a pipe must never get carriage returns), at most every
 * `minIntervalMs` (10 times a second by default, however often the engine reports), and never
 * wider than the terminal, so that the line cannot wrap and leave debris.
 *
 * Log lines are written through log(): it erases the progress line, writes the log line, and
 * draws the progress line again below it, so the two never interleave.
 */
import type {ProgressReporter, ProgressTask} from '../shared/context.js'
import {displayLength, formatBytes, formatClock, formatCount, formatRate, printable, truncateEnd, truncateMiddle} from './render/text.js'

/** What the bar needs of process.stderr; tests pass a fake. */
export interface ProgressStream {
  readonly isTTY?: boolean
  readonly columns?: number
  write(text: string): unknown
}

export interface ProgressBarOptions {
  /** Shortest time between two redraws; default 100 ms. */
  minIntervalMs?: number
  /** The clock (tests use fake timers, which replace Date.now). */
  now?: () => number
}

export interface ProgressSettings {
  quiet: boolean
  json: boolean
  logFormat: 'text' | 'json'
}

/**
 * Whether a progress line may be drawn: only for a person at a terminal. `--quiet`, `--json`
 * and JSON logs mean a program reads the output, and a non-TTY stderr (cron, systemd, a pipe)
 * would store every redraw.
 */
export function progressAllowed(stream: ProgressStream, settings: ProgressSettings): boolean {
  return stream.isTTY === true && !settings.quiet && !settings.json && settings.logFormat === 'text'
}

const ERASE_LINE = '\r\x1b[2K'
const DEFAULT_COLUMNS = 80

interface TaskState {
  readonly label: string
  readonly started: number
  messages: number
  bytes: number
  totalMessages: number | undefined
  totalBytes: number | undefined
}

export class ProgressBar implements ProgressReporter {
  private readonly minIntervalMs: number
  private readonly now: () => number
  private readonly tasks: TaskState[] = []
  /** Whether the progress line is on the screen now (and must be erased before other output). */
  private shown = false
  private lastDraw = Number.NEGATIVE_INFINITY
  private timer: NodeJS.Timeout | undefined
  private stopped = false

  constructor(
    private readonly stream: ProgressStream,
    options: ProgressBarOptions = {},
  ) {
    this.minIntervalMs = options.minIntervalMs ?? 100
    this.now = options.now ?? Date.now
  }

  start(label: string, total: {messages?: number; bytes?: number} = {}): ProgressTask {
    const state: TaskState = {label, started: this.now(), messages: 0, bytes: 0, totalMessages: total.messages, totalBytes: total.bytes}
    this.tasks.push(state)
    this.draw()
    let finished = false
    return {
      advance: (messages: number, bytes = 0) => {
        if (finished) return
        state.messages += messages
        state.bytes += bytes
        this.requestDraw()
      },
      setTotal: (messages: number | undefined, bytes?: number) => {
        if (finished) return
        state.totalMessages = messages
        state.totalBytes = bytes
        this.requestDraw()
      },
      done: () => {
        if (finished) return
        finished = true
        const index = this.tasks.indexOf(state)
        if (index >= 0) this.tasks.splice(index, 1)
        // The summary tells what each folder did; a finished folder's line just goes away.
        this.draw()
      },
    }
  }

  /** Writes a complete log line (ending in "\n") without tearing the progress line. */
  log(line: string): void {
    if (!this.isTty()) {
      this.stream.write(line)
      return
    }
    this.erase()
    this.stream.write(line)
    if (!this.stopped) this.draw()
  }

  /** Erases the progress line and draws no more (before the summary is printed, or on exit). */
  stop(): void {
    this.stopped = true
    this.cancelTimer()
    if (this.isTty()) this.erase()
  }

  /** The text of the progress line for the current state, at most `columns - 1` wide. */
  render(columns = this.columns()): string {
    const task = this.tasks[this.tasks.length - 1]
    if (task === undefined) return ''
    const others = this.tasks.length - 1
    const elapsedSeconds = Math.max(0, (this.now() - task.started) / 1000)
    // Fixed-width fields: the line does not jitter as the numbers grow, and a long label is
    // shortened once, not anew at every redraw.
    const count = formatDone(task.messages, task.totalMessages, 'msgs')
    const bytes = formatBytesDone(task.bytes, task.totalBytes)
    // Rates are shown after a second: before that they are noise.
    const measured = elapsedSeconds >= 1
    const rate = `${(measured ? formatRate(task.messages / elapsedSeconds) : '–').padStart(5)} msg/s ${(measured ? formatBytes(task.bytes / elapsedSeconds) : '–').padStart(8)}/s`
    const clock = formatClock(elapsedSeconds).padStart(4)
    const more = others > 0 ? `(+${others} more)` : undefined
    // On a narrow terminal the rate goes first, then the bytes; the label keeps some room.
    const candidates = [
      [count, bytes, rate, clock, more],
      [count, bytes, clock, more],
      [count, clock, more],
    ].map((parts) => parts.filter((p): p is string => p !== undefined).join('  '))
    // One column is kept free: writing into the last column makes some terminals wrap.
    const width = Math.max(10, columns - 1)
    const label = printable(task.label)
    const wanted = Math.min(displayLength(label), 16)
    for (const right of candidates) {
      const labelRoom = width - displayLength(right) - 2
      if (labelRoom >= wanted) return `${truncateMiddle(label, labelRoom)}  ${right}`
    }
    return truncateEnd(`${label}  ${candidates.at(-1)!}`, width)
  }

  private requestDraw(): void {
    if (this.stopped || !this.isTty()) return
    const wait = this.lastDraw + this.minIntervalMs - this.now()
    if (wait <= 0) {
      this.draw()
      return
    }
    // Coalesce: one redraw at the end of the interval shows the latest counters.
    this.timer ??= setTimeout(() => {
      this.timer = undefined
      this.draw()
    }, wait)
    this.timer.unref?.()
  }

  private draw(): void {
    if (this.stopped || !this.isTty()) return
    this.cancelTimer()
    this.lastDraw = this.now()
    const text = this.render()
    if (text === '') {
      this.erase()
      return
    }
    this.stream.write(`${ERASE_LINE}${text}`)
    this.shown = true
  }

  private erase(): void {
    if (!this.shown) return
    this.stream.write(ERASE_LINE)
    this.shown = false
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }

  private isTty(): boolean {
    return this.stream.isTTY === true
  }

  private columns(): number {
    const columns = this.stream.columns
    return columns !== undefined && columns > 0 ? columns : DEFAULT_COLUMNS
  }
}

function formatDone(done: number, total: number | undefined, unit: string): string {
  if (total === undefined) return `${formatCount(done)} ${unit}`
  const all = formatCount(total)
  return `${formatCount(done).padStart(all.length)}/${all} ${unit}`
}

/** Byte counts are at most 8 wide ("99.9 KiB", "1000 KiB"), so they are padded to 8. */
function formatBytesDone(done: number, total: number | undefined): string {
  return total === undefined ? formatBytes(done).padStart(8) : `${formatBytes(done).padStart(8)}/${formatBytes(total)}`
}
