/**
 * Seeded randomness for the reliability scenarios: every random choice (delays, strategies,
 * folder sizes, kill points) comes from one of these, so a failure names its seed and the run can
 * be replayed with `MAILKEEP_RELIABILITY_SEED=<seed>` (the timing of a real process and server is
 * not replayed, only every decision the test makes).
 */
import {createHash} from 'node:crypto'

/** splitmix32: small, fast, good enough for test decisions; never for anything secret. */
export class Rng {
  private state: number

  constructor(readonly seed: number) {
    this.state = seed >>> 0
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0
    let z = this.state
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    z = (z ^ (z >>> 16)) >>> 0
    return z / 2 ** 32
  }

  /** An integer in [min, max] (both included). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  /** A number spread evenly over orders of magnitude between min and max (both > 0). */
  logUniform(min: number, max: number): number {
    return Math.exp(Math.log(min) + this.next() * (Math.log(max) - Math.log(min)))
  }

  chance(p: number): boolean {
    return this.next() < p
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick: no items')
    return items[Math.floor(this.next() * items.length)]!
  }

  /** `n` distinct items in their original order. */
  sample<T>(items: readonly T[], n: number): T[] {
    const chosen = new Set<number>()
    while (chosen.size < Math.min(n, items.length)) chosen.add(Math.floor(this.next() * items.length))
    return [...chosen].sort((a, b) => a - b).map((i) => items[i]!)
  }

  /** An independent generator for a named part (a trial, a scenario), stable for a given seed. */
  derive(label: string): Rng {
    return new Rng(deriveSeed(this.seed, label))
  }
}

export function deriveSeed(seed: number, label: string): number {
  return createHash('sha256').update(`${seed}:${label}`).digest().readUInt32BE(0)
}

/** The suite's seed: `MAILKEEP_RELIABILITY_SEED` when set (a replay), else a fresh one. */
export function suiteSeed(): number {
  const fromEnv = process.env.MAILKEEP_RELIABILITY_SEED
  if (fromEnv !== undefined && fromEnv !== '') {
    const n = Number(fromEnv)
    if (!Number.isInteger(n) || n < 0) throw new Error(`MAILKEEP_RELIABILITY_SEED must be a non-negative integer, not '${fromEnv}'`)
    return n >>> 0
  }
  return (Date.now() ^ (process.pid << 16)) >>> 0
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
