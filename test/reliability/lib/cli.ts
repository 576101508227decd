/**
 * The real CLI for the scenarios: `node bin/run.js` (dist/) with HOME set to a private directory
 * and MAILKEEP_CONFIG unset, every output recorded in the transcript. `spawn` also samples the
 * child's resident memory from /proc, for the "memory stays bounded" checks.
 */
import {readFileSync} from 'node:fs'
import {spawnCli, type CliOptions, type CliResult, type SpawnedCli} from '../../support/cli.js'
import type {Transcript} from './transcript.js'

export interface Spawned extends SpawnedCli {
  /** Largest RSS seen so far, in MiB (sampled every 25 ms while the child runs). */
  peakRssMb(): number
}

export class Cli {
  constructor(private readonly transcript: Transcript) {}

  spawn(home: string, args: readonly string[], options: CliOptions = {}): Spawned {
    const cli = spawnCli(args, {timeoutMs: 300_000, ...options, env: {HOME: home, MAILKEEP_CONFIG: undefined, ...options.env}})
    let peak = 0
    const sample = (): void => {
      peak = Math.max(peak, rssMb(cli.pid))
    }
    const timer = setInterval(sample, 25)
    sample()
    void cli.exited.then(
      (result) => {
        clearInterval(timer)
        this.transcript.add(`mailkeep ${args.join(' ')} (stdout)`, result.stdout)
        this.transcript.add(`mailkeep ${args.join(' ')} (stderr)`, result.stderr)
      },
      () => clearInterval(timer),
    )
    return {...cli, peakRssMb: () => peak}
  }

  /** Runs to completion (a timeout kills it with SIGKILL and rejects). */
  async run(home: string, args: readonly string[], options: CliOptions = {}): Promise<CliResult & {peakRssMb: number}> {
    const cli = this.spawn(home, args, {...options, timeoutMs: undefined})
    const limit = options.timeoutMs ?? 180_000
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      cli.kill('SIGKILL')
    }, limit)
    try {
      const result = await cli.exited
      if (timedOut) throw new Error(`mailkeep ${args.join(' ')} did not finish within ${limit} ms\n${describe(result)}`)
      return {...result, peakRssMb: cli.peakRssMb()}
    } finally {
      clearTimeout(timer)
    }
  }
}

/** Resident memory of a process in MiB, 0 when it is gone. */
export function rssMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0)
    return kb / 1024
  } catch {
    return 0
  }
}

/** The result of a run, shortened, for a problem report. */
export function describe(result: Pick<CliResult, 'code' | 'signal' | 'stdout' | 'stderr'>): string {
  const tail = (text: string): string => text.split('\n').slice(-15).join('\n')
  return `exit ${result.code ?? result.signal}\n--- stdout (tail) ---\n${tail(result.stdout)}\n--- stderr (tail) ---\n${tail(result.stderr)}`
}

/** The `--json` report on stdout, or undefined when it is not JSON. */
export function jsonReport<T>(result: Pick<CliResult, 'stdout'>): T | undefined {
  try {
    return JSON.parse(result.stdout) as T
  } catch {
    return undefined
  }
}
