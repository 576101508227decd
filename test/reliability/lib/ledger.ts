/**
 * The results table: one row per scenario with the number of runs, how many passed, and what was
 * lost or duplicated (both must be 0). Every run records its own seed, so a failing run can be
 * named precisely ("seed 123, trial 4"). The CI suite prints one table per test file; bench/soak.ts
 * prints one for all scenarios. With `MAILKEEP_RELIABILITY_REPORT=<file>` every row is also
 * appended to that file as a JSON line (bench/soak.ts --table <file> renders them).
 */
import {appendFileSync} from 'node:fs'

export interface Row {
  scenario: string
  runs: number
  passed: number
  /** Messages that were on the server (or committed, or in the backup) and went missing. */
  lost: number
  /** Messages stored (or uploaded) more than once. */
  duplicated: number
  /** Counters (`kills: 31`) and labels (`disk: tmpfs`) worth showing. */
  notes: Map<string, number | string>
  /**
   * Counters of `notes` that must reach a minimum (`kills while working` ≥ 30, one fired fault
   * of each kind): a scenario whose runs all passed but that never did what it is about has not
   * passed. Checked by `unmet`, the CI assertions and the soak's exit status.
   */
  minimums?: Map<string, number>
  seconds: number
}

export interface Failure {
  scenario: string
  label: string
  seed: number
  problems: string[]
}

/** What one run found; problems make it fail, lost/duplicated are also totalled. */
export class RunCheck {
  readonly problems: string[] = []
  lost = 0
  duplicated = 0

  problem(text: string): void {
    this.problems.push(text)
  }

  /** Records a problem unless `ok`. */
  expect(ok: boolean, text: string): boolean {
    if (!ok) this.problem(text)
    return ok
  }

  addLost(n: number, what: string): void {
    if (n <= 0) return
    this.lost += n
    this.problem(`lost ${n}: ${what}`)
  }

  addDuplicated(n: number, what: string): void {
    if (n <= 0) return
    this.duplicated += n
    this.problem(`duplicated ${n}: ${what}`)
  }
}

export class Ledger {
  readonly rows = new Map<string, Row>()
  readonly failures: Failure[] = []

  constructor(readonly suiteSeed: number) {}

  private row(scenario: string): Row {
    let row = this.rows.get(scenario)
    if (row === undefined) {
      row = {scenario, runs: 0, passed: 0, lost: 0, duplicated: 0, notes: new Map(), seconds: 0}
      this.rows.set(scenario, row)
    }
    return row
  }

  /** Adds `n` to a counter shown in the notes column. */
  count(scenario: string, note: string, n = 1): void {
    const notes = this.row(scenario).notes
    notes.set(note, Number(notes.get(note) ?? 0) + n)
  }

  /** `note` must reach `min` by the end of the scenario (see `Row.minimums`); shown in the notes. */
  atLeast(scenario: string, note: string, min: number): void {
    const row = this.row(scenario)
    row.minimums ??= new Map()
    row.minimums.set(note, min)
    if (!row.notes.has(note)) row.notes.set(note, 0)
  }

  /** Sets a label shown in the notes column (e.g. which disk-full method ran). */
  label(scenario: string, note: string, value: string): void {
    this.row(scenario).notes.set(note, value)
  }

  /**
   * Runs one trial: `fn` records into the check; a thrown error is a problem too. Returns the
   * check, so the caller can stop early when a trial failed.
   */
  async run(scenario: string, label: string, seed: number, fn: (check: RunCheck) => Promise<void>): Promise<RunCheck> {
    const row = this.row(scenario)
    const check = new RunCheck()
    const started = Date.now()
    try {
      await fn(check)
    } catch (error) {
      check.problem(`threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
    }
    row.seconds += (Date.now() - started) / 1000
    row.runs++
    row.lost += check.lost
    row.duplicated += check.duplicated
    if (check.problems.length === 0) row.passed++
    else this.failures.push({scenario, label, seed, problems: check.problems})
    return check
  }

  /** The rows of one scenario's failures, for an assertion message. */
  failuresOf(scenario: string): string {
    return this.failures
      .filter((f) => f.scenario === scenario)
      .map((f) => `${f.scenario} / ${f.label} (suite seed ${this.suiteSeed}, run seed ${f.seed}; replay with MAILKEEP_RELIABILITY_SEED=${this.suiteSeed}):\n  - ${f.problems.join('\n  - ')}`)
      .join('\n')
  }

  get(scenario: string): Row | undefined {
    return this.rows.get(scenario)
  }

  table(): string {
    return renderTable([...this.rows.values()])
  }

  private readonly exported = new Set<string>()

  /** Appends the rows not exported yet to `MAILKEEP_RELIABILITY_REPORT` when it is set. */
  export(): void {
    const file = process.env.MAILKEEP_RELIABILITY_REPORT
    const rows = [...this.rows.values()].filter((r) => !this.exported.has(r.scenario))
    for (const r of rows) this.exported.add(r.scenario)
    if (file === undefined || file === '' || rows.length === 0) return
    const lines = rows.map((r) => JSON.stringify({...r, notes: Object.fromEntries(r.notes), minimums: Object.fromEntries(r.minimums ?? []), seed: this.suiteSeed}))
    appendFileSync(file, lines.map((l) => `${l}\n`).join(''))
  }
}

/** The minimums a row has not reached, as sentences (empty when every one was reached). */
export function unmet(row: Row): string[] {
  const out: string[] = []
  for (const [note, min] of row.minimums ?? []) {
    const got = Number(row.notes.get(note) ?? 0)
    if (got < min) out.push(`${row.scenario}: '${note}' is ${got}, at least ${min} required`)
  }
  return out
}

/** A row failed: a run failed, something was lost or duplicated, or a minimum was not reached. */
export function rowFailed(row: Row): boolean {
  return row.passed !== row.runs || row.lost > 0 || row.duplicated > 0 || unmet(row).length > 0
}

/** A Markdown table of rows (numbers right-aligned). */
export function renderTable(rows: readonly Row[]): string {
  const header = ['scenario', 'runs', 'passed', 'lost', 'duplicated', 'seconds', 'notes']
  const cells = rows.map((r) => [
    r.scenario,
    String(r.runs),
    String(r.passed),
    String(r.lost),
    String(r.duplicated),
    r.seconds.toFixed(0),
    [...r.notes].map(([k, v]) => `${k}: ${v}${r.minimums?.has(k) === true ? ` (≥ ${r.minimums.get(k)})` : ''}`).join(', '),
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)))
  const numeric = (i: number): boolean => i >= 1 && i <= 5
  const line = (c: string[]): string => `| ${c.map((v, i) => (numeric(i) ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join(' | ')} |`
  const rule = `| ${widths.map((w, i) => (numeric(i) ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`
  return [line(header), rule, ...cells.map(line)].join('\n')
}

/**
 * Rows of one scenario from several processes (soak workers sharing a suite seed) as one row:
 * runs, passed, lost, duplicated, seconds and counters added up; a label kept when all agree.
 */
export function mergeRows(rows: readonly Row[]): Row[] {
  const merged = new Map<string, Row>()
  for (const r of rows) {
    const m = merged.get(r.scenario)
    if (m === undefined) {
      merged.set(r.scenario, {...r, notes: new Map(r.notes), minimums: new Map(r.minimums ?? [])})
      continue
    }
    m.runs += r.runs
    m.passed += r.passed
    m.lost += r.lost
    m.duplicated += r.duplicated
    m.seconds += r.seconds
    for (const [k, v] of r.notes) {
      const had = m.notes.get(k)
      if (typeof v === 'number' && (had === undefined || typeof had === 'number')) m.notes.set(k, (had ?? 0) + v)
      else if (had === undefined || had === v) m.notes.set(k, v)
      else m.notes.set(k, `${String(had)} / ${String(v)}`)
    }
    for (const [k, v] of r.minimums ?? []) m.minimums!.set(k, Math.max(v, m.minimums!.get(k) ?? 0))
  }
  return [...merged.values()]
}

/** Rows read back from a MAILKEEP_RELIABILITY_REPORT file. */
export function parseRows(text: string): Row[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const raw = JSON.parse(l) as Omit<Row, 'notes' | 'minimums'> & {notes: Record<string, number | string>; minimums?: Record<string, number>}
      return {...raw, notes: new Map(Object.entries(raw.notes)), minimums: new Map(Object.entries(raw.minimums ?? {}))}
    })
}
