/** Small helpers shared by the benchmark scripts: options, medians, RSS sampling, tables. */

export function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/**
 * Samples this process's RSS every 20 ms; stop() returns the peak growth over the RSS at the
 * start, in MB (the runner's own baseline — vite-node, the compiler — is not the store's).
 */
export function rssSampler(): {stop(): number} {
  global.gc?.()
  const start = process.memoryUsage.rss()
  let peak = start
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss())
  }, 20)
  return {
    stop() {
      clearInterval(timer)
      return (Math.max(peak, process.memoryUsage.rss()) - start) / 2 ** 20
    },
  }
}

/** Prints a Markdown table (progress: only the last row, to stderr). */
export function printTable(header: string[], rows: string[][], progress = false): void {
  if (progress) {
    const last = rows[rows.length - 1]
    if (last !== undefined) process.stderr.write(`  ${last.join('  ')}\n`)
    return
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padStart(widths[i]!)).join(' | ')} |`
  console.log(line(header))
  console.log(`| ${widths.map((w) => '-'.repeat(w - 1) + ':').join(' | ')} |`)
  for (const r of rows) console.log(line(r))
}
