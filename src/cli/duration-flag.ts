/**
 * `--max-duration`: how long a backup may run before it stops at a savepoint (exit 4), for runs
 * that must end before the next scheduled one starts (docs/scheduling.md). Takes `2h`, `90m`,
 * `1h30m`, `45s` or plain seconds.
 */
import {Flags} from '@oclif/core'
import {parseDuration} from '../shared/duration.js'
import {UsageError} from '../shared/errors.js'

export const maxDurationFlag = Flags.string({
  description: 'stop at a savepoint after this long, e.g. 2h, 90m, 1h30m (exit 4; the next run continues) [default: max_duration_seconds of the config, else none]',
})

/** Milliseconds of a `--max-duration` value, or undefined when the flag was not given. */
export function maxDurationMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const ms = parseDuration(value)
  if (ms === undefined) throw new UsageError(`--max-duration ${JSON.stringify(value)} is not a duration`, {hint: 'write it as e.g. 2h, 90m, 1h30m, 45s or a number of seconds'})
  return ms
}
