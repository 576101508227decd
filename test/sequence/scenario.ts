/**
 * The sequence test as a reliability scenario (no vitest here): `count` sequences on one server,
 * each a run of the ledger (test/reliability/lib/ledger.ts) under the scenario `sequences on
 * <kind>`, so that CI (`test/sequence/<kind>.test.ts`) and the soak (bench/soak/registry.ts)
 * share one table and one code path.
 *
 * Environment:
 *   MAILKEEP_SEQUENCE_SEED=<n>       run only the sequence with this seed (a replay)
 *   MAILKEEP_SEQUENCE_STEPS=0,3,7    with the seed: only these steps (a shrunk list)
 *   MAILKEEP_SEQUENCE_PLAN='…; …'    run this plan, written by hand (operations.ts, parsePlan)
 *   MAILKEEP_SEQUENCE_COUNT=<n>      sequences per server instead of the counts of scale.ts
 *   MAILKEEP_SEQUENCE_SHRINK=<n>     reruns spent shrinking a failure (default 12; 0: none)
 *   MAILKEEP_SEQUENCE_CLAIMS=<dir>   share the suite's sequences among processes: each runs only
 *                                    the sequences whose number it claims first (a directory
 *                                    `<dir>/<kind>-<i>`, made with mkdir, which only one can make)
 *   MAILKEEP_SEQUENCE_KNOWN_ISSUES   see known-issues.ts
 *   MAILKEEP_RELIABILITY_SEED        the suite seed (each sequence's seed derives from it)
 */
import {mkdirSync} from 'node:fs'
import {join} from 'node:path'
import type {ScenarioEnv} from '../reliability/lib/env.js'
import {startServer, type ServerKind, type TestServer} from '../support/servers.js'
import {enabledOperations, parsePlan} from './operations.js'
import {describeFailure, planFor, runSequence, sequenceSeed, shrink} from './runner.js'
import {render, Tally} from './tally.js'
import {World} from './world.js'

export interface SequenceOptions {
  count: number
  /** A server already started (CI: the test file's); else one is started and stopped here. */
  server?: TestServer
  shrinkAttempts?: number
}

function envNumber(name: string): number | undefined {
  const raw = process.env[name]
  if (raw === undefined || raw.trim() === '') return undefined
  const n = Number(raw)
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, not '${raw}'`)
  return n
}

export function sequenceCount(defaultCount: number): number {
  return envNumber('MAILKEEP_SEQUENCE_COUNT') ?? defaultCount
}

/**
 * Claims sequence `i` of `kind` for this process (MAILKEEP_SEQUENCE_CLAIMS): true when no other
 * process has. mkdir either makes the directory or fails with EEXIST, atomically (POSIX mkdir(2)),
 * so several soak processes on one suite seed run each sequence once, and workers can be added
 * while the others run.
 */
export function claim(dir: string | undefined, kind: ServerKind, i: number): boolean {
  if (dir === undefined || dir === '') return true
  try {
    mkdirSync(join(dir, `${kind}-${i}`), {recursive: false})
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  }
}

export const scenarioName = (kind: ServerKind): string => `sequences on ${kind}`

export async function sequenceScenario(env: ScenarioEnv, kind: ServerKind, options: SequenceOptions): Promise<Tally> {
  const scenario = scenarioName(kind)
  const tally = new Tally(kind)
  const server = options.server ?? (await startServer(kind))
  const world = new World(server)
  const replay = envNumber('MAILKEEP_SEQUENCE_SEED')
  const only = process.env.MAILKEEP_SEQUENCE_STEPS?.split(',').filter((s) => s.trim() !== '').map(Number)
  const shrinkAttempts = envNumber('MAILKEEP_SEQUENCE_SHRINK') ?? options.shrinkAttempts ?? 12
  const written = process.env.MAILKEEP_SEQUENCE_PLAN
  const seeds = replay !== undefined ? [replay] : written !== undefined ? [1] : Array.from({length: options.count}, (_, i) => sequenceSeed(env.seed, kind, i))
  const claims = replay === undefined && written === undefined ? process.env.MAILKEEP_SEQUENCE_CLAIMS : undefined
  if (claims !== undefined && claims !== '') mkdirSync(claims, {recursive: true})
  try {
    for (const [i, seed] of seeds.entries()) {
      if (env.stopRequested) {
        env.progress(`${scenario}: stopped after ${tally.sequences} sequences, before number ${i} of ${seeds.length}`)
        break
      }
      if (!claim(claims, kind, i)) continue
      const plan = written !== undefined ? parsePlan(written, kind) : planFor(seed, kind)
      await env.ledger.run(scenario, `sequence ${i}`, seed, async (check) => {
        const result = await runSequence(world, kind, plan, replay !== undefined ? only : undefined)
        let failure: string | undefined
        if (result.failedAt !== undefined) {
          const shrunk = shrinkAttempts > 0 ? await shrink(world, result, shrinkAttempts) : undefined
          failure = describeFailure(result, shrunk)
          for (const v of result.records[result.failedAt]!.violations) {
            if ((v.lost ?? 0) > 0) check.addLost(v.lost!, `[${v.invariant}] ${v.message.split('\n')[0]}`)
            else if ((v.duplicated ?? 0) > 0) check.addDuplicated(v.duplicated!, `[${v.invariant}] ${v.message.split('\n')[0]}`)
          }
          check.problem(failure)
        }
        tally.add(result, failure)
        env.progress(`${scenario}: ${i + 1}/${seeds.length} ${result.failedAt === undefined ? 'passed' : 'FAILED'} (${result.seconds.toFixed(1)} s, ${result.records.length} steps)`)
        // At once, not only in the table at the end: a long soak's failure can be looked at while it runs.
        if (failure !== undefined) env.progress(failure)
      })
    }
    env.ledger.count(scenario, 'steps', tally.steps)
    for (const op of enabledOperations(kind)) env.ledger.count(scenario, `op ${op.name}`, tally.ops.get(op.name) ?? 0)
    for (const [note, n] of tally.notes) env.ledger.count(scenario, note, n)
    env.progress(`${scenario}:\n${render([tally])}`)
  } finally {
    await world.closeSessions()
    if (options.server === undefined) await server.stop()
  }
  return tally
}
