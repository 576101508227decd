/**
 * Durations as people write them on a command line: `45` or `45s`, `90m`, `2h`, `1h30m`, `1.5h`
 * (`--max-duration`), and back (`1h30m`) for messages.
 */
const UNIT_MS: Readonly<Record<string, number>> = {h: 3_600_000, m: 60_000, s: 1000}

/** Milliseconds, or undefined for text that is not a positive duration. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim().toLowerCase()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return positive(Number(trimmed) * 1000)
  if (!/^(\d+(\.\d+)?[hms])+$/.test(trimmed)) return undefined
  let ms = 0
  for (const [, amount, unit] of trimmed.matchAll(/(\d+(?:\.\d+)?)([hms])/g)) ms += Number(amount) * UNIT_MS[unit!]!
  return positive(ms)
}

/** `2h`, `1h30m`, `45s`, `1m0.5s` */
export function formatDuration(ms: number): string {
  let rest = Math.max(0, Math.round(ms))
  const parts: string[] = []
  for (const unit of ['h', 'm'] as const) {
    const n = Math.floor(rest / UNIT_MS[unit]!)
    if (n > 0) parts.push(`${n}${unit}`)
    rest -= n * UNIT_MS[unit]!
  }
  if (rest > 0 || parts.length === 0) parts.push(`${Number((rest / 1000).toFixed(3))}s`)
  return parts.join('')
}

function positive(ms: number): number | undefined {
  return Number.isFinite(ms) && ms >= 1 ? Math.round(ms) : undefined
}
