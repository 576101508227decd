/**
 * How many runs each scenario makes. The CI suite (`npx vitest run test/reliability`) uses
 * `CI_COUNTS`, multiplied by `MAILKEEP_RELIABILITY_SCALE` (default 1; e.g. 0.5 for a quick look,
 * 3 for a longer run); `bench/soak.ts` uses `SOAK_COUNTS`. Every count is at least 1.
 */
export interface Counts {
  /**
   * kill -9 of `mailkeep backup` that landed while it worked (lib/session-watch.ts; kills while it
   * started or finished do not count); several kills per trial, then a rerun.
   */
  backupKills: number
  /** kill -9 of `mailkeep restore`. */
  restoreKills: number
  /** kill -9 of `mailkeep copy`. */
  copyKills: number
  /** Kills per trial before the normal rerun that must complete. */
  killsPerTrial: number
  /** SIGINT/SIGTERM that landed while `backup` worked; `restore` gets half as many. */
  signals: number
  /** Backups that hit a full file system (each one must). */
  diskFull: number
  /** Runs through the faulty proxy, round robin over the fault kinds (at least one run each). */
  network: number
  /** Rounds over the list of hostile-server cases. */
  hostileServerRounds: number
  /** Rounds over the list of damaged-local-state cases. */
  hostileLocalRounds: number
  /** Rounds of the concurrency cases. */
  concurrencyRounds: number
  /** Random operation sequences per server, each checked step by step (test/sequence/). */
  sequences: number
}

export const CI_COUNTS: Counts = {
  backupKills: 30,
  restoreKills: 30,
  copyKills: 30,
  killsPerTrial: 5,
  signals: 8,
  diskFull: 4,
  network: 11,
  hostileServerRounds: 1,
  hostileLocalRounds: 1,
  concurrencyRounds: 1,
  sequences: 40,
}

export const SOAK_COUNTS: Counts = {
  backupKills: 500,
  restoreKills: 500,
  copyKills: 500,
  killsPerTrial: 4,
  signals: 100,
  diskFull: 40,
  network: 100,
  hostileServerRounds: 5,
  hostileLocalRounds: 5,
  concurrencyRounds: 10,
  sequences: 2000,
}

/** Counts that are not multiplied by the scale. */
const FIXED: ReadonlySet<keyof Counts> = new Set(['killsPerTrial'])

export function scaleFactor(): number {
  const raw = process.env.MAILKEEP_RELIABILITY_SCALE
  if (raw === undefined || raw === '') return 1
  const n = Number(raw)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`MAILKEEP_RELIABILITY_SCALE must be a positive number, not '${raw}'`)
  return n
}

export function scaled(base: Counts, factor: number): Counts {
  const out = {...base}
  for (const key of Object.keys(base) as Array<keyof Counts>) {
    if (!FIXED.has(key)) out[key] = Math.max(1, Math.round(base[key] * factor))
  }
  return out
}

/** The counts of the CI suite: `CI_COUNTS` times `MAILKEEP_RELIABILITY_SCALE`. */
export function ciCounts(): Counts {
  return scaled(CI_COUNTS, scaleFactor())
}
