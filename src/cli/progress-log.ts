/**
 * Progress where no progress line may be drawn (cron, systemd, a pipe, `--log-format json`): a
 * log line at INFO every `intervalSeconds` (`--progress-interval`, default 30) while the run is
 * under way, from the same state as the terminal's line (progress-state.ts):
 *
 *     … INFO  progress: alice@example.com: INBOX, account 1 of 2, folder 4 of 12, 1,200 of 20,000 messages, 14.2 MiB, 310 msg/s, 3.64 MiB/s, about 1:04 left, 0:04 so far
 *
 * With `--log-format json` the numbers are also fields of the record (`messages`, `bytes`,
 * `messagesTotal`, `bytesTotal`, `messagesPerSecond`, `bytesPerSecond`, `etaSeconds`, `seconds`,
 * `accountAt`, `folderAt`). Under `--quiet` the logger
 * drops INFO lines, so nothing is written; the first line comes only after a full interval, so a
 * short run logs none.
 */
import type {Logger} from '../shared/logger.js'
import type {ProgressReporter, ProgressTask, RunUnit} from '../shared/context.js'
import {ProgressState, type ProgressSnapshot} from './progress-state.js'
import {formatBytes, formatClock, formatCount, formatRate, printable} from './render/text.js'

export const DEFAULT_PROGRESS_INTERVAL_SECONDS = 30

export class ProgressLog implements ProgressReporter {
  readonly state: ProgressState
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly logger: Logger,
    private readonly intervalSeconds: number,
    private readonly options: {fields?: boolean; now?: () => number} = {},
  ) {
    this.state = new ProgressState(options.now ?? (() => Date.now()))
  }

  start(label: string, total?: {messages?: number; bytes?: number}): ProgressTask {
    this.arm()
    return this.state.start(label, total)
  }

  expect(unit: RunUnit, count: number): void {
    this.state.expect(unit, count)
  }

  begin(unit: RunUnit, name: string): void {
    this.arm()
    this.state.begin(unit, name)
  }

  end(unit: RunUnit): void {
    this.state.end(unit)
  }

  /** No more lines (the result is about to be printed). */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }

  /** Writes the line now, if the run is under way (tests; and the interval). */
  report(): void {
    if (!this.state.active) return
    const s = this.state.snapshot()
    // Text lines say it all; JSON records carry the numbers as fields too.
    this.logger.info(`progress: ${describe(s)}`, this.options.fields === true ? fields(s) : undefined)
  }

  private arm(): void {
    if (this.timer !== undefined || this.intervalSeconds <= 0) return
    this.timer = setInterval(() => this.report(), this.intervalSeconds * 1000)
    this.timer.unref?.()
  }
}

/** The snapshot in words, for a log line. */
export function describe(s: ProgressSnapshot): string {
  const parts: string[] = []
  if (s.label !== '') parts.push(printable(s.label))
  if (s.account !== undefined) parts.push(`account ${s.account.at} of ${s.account.of}`)
  if (s.folder !== undefined) parts.push(`folder ${s.folder.at} of ${s.folder.of}`)
  parts.push(s.totalMessages === undefined ? `${formatCount(s.messages)} messages` : `${formatCount(s.messages)} of ${formatCount(s.totalMessages)} messages`)
  parts.push(s.totalBytes === undefined ? formatBytes(s.bytes) : `${formatBytes(s.bytes)} of ${formatBytes(s.totalBytes)}`)
  if (s.messagesPerSecond !== undefined && s.bytesPerSecond !== undefined) parts.push(`${formatRate(s.messagesPerSecond)} msg/s`, `${formatBytes(s.bytesPerSecond)}/s`)
  if (s.etaSeconds !== undefined) parts.push(`about ${formatClock(s.etaSeconds)} left`)
  parts.push(`${formatClock(s.elapsedSeconds)} so far`)
  return parts.join(', ')
}

function fields(s: ProgressSnapshot): Record<string, unknown> {
  const out: Record<string, unknown> = {messages: s.messages, bytes: s.bytes, seconds: Math.round(s.elapsedSeconds)}
  if (s.totalMessages !== undefined) out['messagesTotal'] = s.totalMessages
  if (s.totalBytes !== undefined) out['bytesTotal'] = s.totalBytes
  if (s.messagesPerSecond !== undefined) out['messagesPerSecond'] = Math.round(s.messagesPerSecond * 10) / 10
  if (s.bytesPerSecond !== undefined) out['bytesPerSecond'] = Math.round(s.bytesPerSecond)
  if (s.etaSeconds !== undefined) out['etaSeconds'] = Math.round(s.etaSeconds)
  if (s.account !== undefined) out['accountAt'] = `${s.account.at}/${s.account.of}`
  if (s.folder !== undefined) out['folderAt'] = `${s.folder.at}/${s.folder.of}`
  return out
}
