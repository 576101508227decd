/**
 * Small text helpers shared by the renderers and the progress line.
 */

/**
 * Folder names and error texts come from the server: a name holding ESC or CR could move the
 * cursor or rewrite the terminal. C0 and C1 control characters (and DEL) are shown as `?`.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')
}

/** 0 B, 512 B, 1.50 KiB, 14.2 MiB, 310 MiB, 3.10 GiB (binary units, as docs/design.md uses). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = Math.max(0, bytes)
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  if (unit === 0) return `${Math.round(value)} B`
  return `${value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)} ${units[unit]}`
}

/** 1,234 */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US')
}

/** A rate per second: whole numbers from 100 on, else one decimal. */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond < 0) return '0'
  if (perSecond >= 100) return formatCount(Math.round(perSecond))
  return perSecond.toFixed(1)
}

/** m:ss, or h:mm:ss from an hour on. */
export function formatClock(seconds: number): string {
  const total = Math.floor(Math.max(0, seconds))
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const ss = String(total % 60).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`
}

/** 0.4 s, 12 s, 3 min 05 s, 1 h 02 min: durations in the summary. */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '0 s'
  if (seconds < 10) return `${seconds.toFixed(1)} s`
  if (seconds < 60) return `${Math.round(seconds)} s`
  const total = Math.round(seconds)
  if (total < 3600) return `${Math.floor(total / 60)} min ${String(total % 60).padStart(2, '0')} s`
  return `${Math.floor(total / 3600)} h ${String(Math.floor((total % 3600) / 60)).padStart(2, '0')} min`
}

/** Shortens to `width` characters with an ellipsis in the middle (both ends of a path matter). */
export function truncateMiddle(text: string, width: number): string {
  const chars = Array.from(text)
  if (chars.length <= width) return text
  if (width <= 1) return '…'.slice(0, width)
  const keep = width - 1
  const head = Math.ceil(keep / 2)
  return `${chars.slice(0, head).join('')}…${chars.slice(chars.length - (keep - head)).join('')}`
}

/** Shortens to `width` characters with an ellipsis at the end. */
export function truncateEnd(text: string, width: number): string {
  const chars = Array.from(text)
  if (chars.length <= width) return text
  if (width <= 1) return '…'.slice(0, width)
  return `${chars.slice(0, width - 1).join('')}…`
}

/** Length in code points (close enough to terminal columns for the names we show). */
export function displayLength(text: string): number {
  return Array.from(text).length
}

/** `1 message`, `2 messages` */
export function plural(n: number, singular: string, pluralForm = `${singular}s`): string {
  return `${formatCount(n)} ${n === 1 ? singular : pluralForm}`
}
