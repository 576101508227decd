/**
 * The progress line of long-running commands on a terminal: one line for the whole run
 * (progress-state.ts), rewritten in place with `\r` and `\x1b[2K` (erase line):
 *
 *     alice@example.com: INBOX  2/3 accounts  4/12 folders  1,200/20,000 msgs  14.2 MiB  310 msg/s 3.64 MiB/s  ETA 1:04  0:04
 *
 * It draws only on a TTY (a cron mail or a pipe must never get carriage returns; there
 * progress-log.ts logs a line now and then instead), at most every `minIntervalMs` (10 times a
 * second by default, however often the engine reports) and at least every `tickMs` (once a
 * second), so that the clock and the rates move during a long download that reports nothing,
 * and never wider than the terminal, so that the line cannot wrap and leave debris: on a narrow
 * terminal the rates go first, then the counts of accounts and folders, the bytes and the time
 * left.
 *
 * Log lines are written through log(): it erases the progress line, writes the log line, and
 * draws the progress line again below it, so the two never interleave.
 *
 * Why not a progress library (cli-progress, listr2, ora): none of them keeps a line from wrapping
 * on a narrow terminal while also taking log lines through the same writer, and all of them
 * draw on a non-TTY too unless told not to; this file is the ~150 lines that do exactly that,
 * tested against a fake terminal (progress-bar.test.ts).
 */
import type {ProgressReporter, ProgressTask, RunUnit} from '../shared/context.js'
import {ProgressState, type ProgressSnapshot} from './progress-state.js'
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
  /** Longest time between two redraws while something is shown; default 1000 ms. */
  tickMs?: number
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

export class ProgressBar implements ProgressReporter {
  readonly state: ProgressState
  private readonly minIntervalMs: number
  private readonly tickMs: number
  private readonly now: () => number
  /** Whether the progress line is on the screen now (and must be erased before other output). */
  private shown = false
  private lastDraw = Number.NEGATIVE_INFINITY
  private timer: NodeJS.Timeout | undefined
  private ticker: NodeJS.Timeout | undefined
  private stopped = false

  constructor(
    private readonly stream: ProgressStream,
    options: ProgressBarOptions = {},
  ) {
    this.minIntervalMs = options.minIntervalMs ?? 100
    this.tickMs = options.tickMs ?? 1000
    this.now = options.now ?? (() => Date.now())
    this.state = new ProgressState(this.now)
    this.state.onChange(() => this.requestDraw())
  }

  start(label: string, total?: {messages?: number; bytes?: number}): ProgressTask {
    const task = this.state.start(label, total)
    this.draw() // a new folder shows at once
    return {
      advance: (messages, bytes) => task.advance(messages, bytes),
      setTotal: (messages, bytes) => task.setTotal(messages, bytes),
      done: () => {
        task.done()
        // The summary tells what each folder did: its line goes away at once.
        this.draw()
      },
    }
  }

  expect(unit: RunUnit, count: number): void {
    this.state.expect(unit, count)
  }

  begin(unit: RunUnit, name: string): void {
    this.state.begin(unit, name)
  }

  end(unit: RunUnit): void {
    this.state.end(unit)
    // The summary tells what each folder did; when nothing is under way the line goes away.
    if (!this.state.active) this.draw()
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
    this.cancelTimers()
    if (this.isTty()) this.erase()
  }

  /** The text of the progress line for the current state, at most `columns - 1` wide. */
  render(columns = this.columns()): string {
    if (!this.state.active) return ''
    return fitLine(this.state.snapshot(), columns)
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
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    this.lastDraw = this.now()
    const text = this.render()
    if (text === '') {
      this.erase()
      this.stopTicker()
      return
    }
    this.stream.write(`${ERASE_LINE}${text}`)
    this.shown = true
    this.startTicker()
  }

  /** While a line is shown, redraw it every tick: the clock and the rates move on their own. */
  private startTicker(): void {
    if (this.ticker !== undefined) return
    this.ticker = setInterval(() => {
      if (this.now() - this.lastDraw >= this.minIntervalMs) this.draw()
    }, this.tickMs)
    this.ticker.unref?.()
  }

  private stopTicker(): void {
    if (this.ticker !== undefined) clearInterval(this.ticker)
    this.ticker = undefined
  }

  private erase(): void {
    if (!this.shown) return
    this.stream.write(ERASE_LINE)
    this.shown = false
  }

  private cancelTimers(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    this.stopTicker()
  }

  private isTty(): boolean {
    return this.stream.isTTY === true
  }

  private columns(): number {
    const columns = this.stream.columns
    return columns !== undefined && columns > 0 ? columns : DEFAULT_COLUMNS
  }
}

/**
 * The line for a snapshot in at most `columns - 1` characters: fixed-width numbers (the line
 * does not jitter as they grow), and less detail as the terminal gets narrower.
 */
export function fitLine(s: ProgressSnapshot, columns: number): string {
  const count = formatDone(s.messages, s.totalMessages, 'msgs')
  const bytes = formatBytesDone(s.bytes, s.totalBytes)
  // Rates are shown once a second of work was measured: before that they are noise.
  const measured = s.messagesPerSecond !== undefined && s.bytesPerSecond !== undefined
  const rate = `${(measured ? formatRate(s.messagesPerSecond!) : '–').padStart(5)} msg/s ${(measured ? formatBytes(s.bytesPerSecond!) : '–').padStart(8)}/s`
  const eta = s.etaSeconds === undefined ? undefined : `ETA ${formatClock(s.etaSeconds).padStart(4)}`
  const clock = formatClock(s.elapsedSeconds).padStart(4)
  const where = [s.account === undefined ? undefined : `${s.account.at}/${s.account.of} accounts`, s.folder === undefined ? undefined : `${s.folder.at}/${s.folder.of} folders`]
    .filter((p): p is string => p !== undefined)
    .join(' ')
  const more = s.others > 0 ? `(+${s.others} more)` : undefined
  const parts = (...list: Array<string | undefined>): string => list.filter((p): p is string => p !== undefined && p !== '').join('  ')
  // On a narrow terminal the rates go first, then where the run is, the bytes, the time left.
  const candidates = [
    parts(where, count, bytes, rate, eta, clock, more),
    parts(where, count, bytes, eta, clock, more),
    parts(count, bytes, eta, clock, more),
    parts(count, eta, clock, more),
    parts(count, clock, more),
  ]
  // One column is kept free: writing into the last column makes some terminals wrap.
  const width = Math.max(10, columns - 1)
  const label = printable(s.label)
  const wanted = Math.min(displayLength(label), 16)
  for (const right of candidates) {
    const labelRoom = width - displayLength(right) - 2
    if (labelRoom >= wanted) return label === '' ? right : `${truncateMiddle(label, labelRoom)}  ${right}`
  }
  return truncateEnd(`${label}  ${candidates.at(-1)!}`, width)
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
