/**
 * The sequence test's results per server: sequences run and passed, steps, how often each
 * operation ran, kills and signals that landed, violations by invariant, time. `render` prints
 * the table docs/reliability.md keeps (one column per server).
 */
import type {ServerKind} from '../support/servers.js'
import {OPERATIONS} from './operations.js'
import {violationsOf, type SequenceResult} from './runner.js'

export class Tally {
  sequences = 0
  passed = 0
  steps = 0
  seconds = 0
  lost = 0
  duplicated = 0
  readonly ops = new Map<string, number>()
  readonly opSeconds = new Map<string, number>()
  readonly notes = new Map<string, number>()
  readonly violations = new Map<string, number>()
  readonly failures: string[] = []

  constructor(readonly kind: ServerKind) {}

  add(result: SequenceResult, failure?: string): void {
    this.sequences++
    if (result.failedAt === undefined) this.passed++
    this.seconds += result.seconds
    for (const r of result.records) {
      this.steps++
      const op = result.plan.steps[r.index]?.op ?? '(setup)'
      this.ops.set(op, (this.ops.get(op) ?? 0) + 1)
      this.opSeconds.set(op, (this.opSeconds.get(op) ?? 0) + r.seconds)
      for (const n of r.notes) if (/landed|after the end|refused|accepted|damaged|truncate|remove|wrong port|FIFO|nested|password child/.test(n)) this.notes.set(n, (this.notes.get(n) ?? 0) + 1)
    }
    for (const v of violationsOf(result)) {
      this.violations.set(v.invariant, (this.violations.get(v.invariant) ?? 0) + 1)
      this.lost += v.lost ?? 0
      this.duplicated += v.duplicated ?? 0
    }
    if (failure !== undefined) this.failures.push(failure)
  }
}

/** One table, one column per server: the counts, then each operation. */
export function render(tallies: readonly Tally[]): string {
  const rows: Array<[string, ...string[]]> = []
  const col = (f: (t: Tally) => string | number): string[] => tallies.map((t) => String(f(t)))
  rows.push(['sequences', ...col((t) => t.sequences)])
  rows.push(['passed', ...col((t) => t.passed)])
  rows.push(['steps', ...col((t) => t.steps)])
  rows.push(['lost / duplicated', ...col((t) => `${t.lost} / ${t.duplicated}`)])
  rows.push(['violations', ...col((t) => [...t.violations].map(([k, v]) => `${k}: ${v}`).join(', ') || '0')])
  rows.push(['seconds (per sequence)', ...col((t) => `${t.seconds.toFixed(0)} (${(t.seconds / Math.max(1, t.sequences)).toFixed(1)})`)])
  // Each operation: how often it ran, and its mean time with the checks after it.
  const mean = (t: Tally, name: string): string => ((t.opSeconds.get(name) ?? 0) / Math.max(1, t.ops.get(name) ?? 0)).toFixed(2)
  for (const op of OPERATIONS) if (tallies.some((t) => (t.ops.get(op.name) ?? 0) > 0)) rows.push([`op: ${op.name} (s each)`, ...col((t) => `${t.ops.get(op.name) ?? 0} (${mean(t, op.name)})`)])
  const notes = [...new Set(tallies.flatMap((t) => [...t.notes.keys()]))].sort()
  for (const n of notes) rows.push([n, ...col((t) => t.notes.get(n) ?? 0)])
  const header = ['', ...tallies.map((t) => t.kind)]
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`
  return [line(header), `| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`, ...rows.map(line)].join('\n')
}
