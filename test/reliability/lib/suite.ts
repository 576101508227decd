/**
 * The vitest side of a reliability test file: one ScenarioEnv per file (seeded, counts from
 * MAILKEEP_RELIABILITY_SCALE), the table printed when the file ends, and the assertions: every
 * run of a scenario passed, nothing lost, nothing duplicated, no secret in anything printed.
 * Only the *.test.ts files import this (it imports vitest).
 */
import {afterAll, expect} from 'vitest'
import {ScenarioEnv} from './env.js'
import {unmet} from './ledger.js'
import {suiteSeed} from './rng.js'
import {ciCounts} from './scale.js'

export function suiteEnv(file: string): ScenarioEnv {
  const env = new ScenarioEnv(suiteSeed(), ciCounts())
  afterAll(() => {
    const rows = [...env.ledger.rows.values()]
    if (rows.length === 0) return
    console.log(`\nmailkeep reliability, ${file} (seed ${env.seed}; replay with MAILKEEP_RELIABILITY_SEED=${env.seed}):\n${env.ledger.table()}\n`)
    env.ledger.export()
  })
  return env
}

/**
 * Every run of the scenario passed; nothing was lost or duplicated; at least `minRuns` ran; every
 * minimum the scenario set (`ledger.atLeast`: kills that landed, faults that fired) was reached.
 */
export function expectScenarioPassed(env: ScenarioEnv, scenario: string, minRuns = 1): void {
  const row = env.ledger.get(scenario)
  expect(row, `scenario '${scenario}' did not run`).toBeDefined()
  const failures = env.ledger.failuresOf(scenario)
  expect(row!.runs, failures).toBeGreaterThanOrEqual(minRuns)
  expect({passed: row!.passed, lost: row!.lost, duplicated: row!.duplicated}, failures).toEqual({passed: row!.runs, lost: 0, duplicated: 0})
  expect(unmet(row!), `minimums of '${scenario}' not reached (notes: ${JSON.stringify(Object.fromEntries(row!.notes))})`).toEqual([])
}

/** No test password or token in anything this file's runs printed (in-process and scripts/scan-secrets.mjs). */
export async function expectNoSecrets(env: ScenarioEnv): Promise<void> {
  const scenario = 'secrets in output'
  await env.ledger.run(scenario, 'scan', env.seed, async (check) => {
    const hits = env.transcript.scan(env.secrets)
    for (const hit of hits) check.problem(`${hit.secret} in ${hit.source}`)
    const dir = await env.tempDir('mailkeep-rel-scan-')
    try {
      const script = await env.transcript.scanWithScript(dir)
      check.expect(script.status === 0, `scripts/scan-secrets.mjs: ${script.output}`)
    } finally {
      await env.release(dir, true)
    }
    env.ledger.count(scenario, 'bytes scanned', env.transcript.size)
  })
  expectScenarioPassed(env, scenario)
}
