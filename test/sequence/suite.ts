/**
 * The vitest side of the sequence test: one file per server (`dovecot.test.ts`, …), so that
 * vitest's forks run the servers side by side, each file starting its server once. The
 * sequences themselves are scenario.ts's; here only the server's life, the table printed at the
 * end, and the assertions: every sequence passed, and every operation ran at least
 * `MIN_PER_OPERATION` times (a suite that never did something has not tested it).
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ScenarioEnv} from '../reliability/lib/env.js'
import {requireBuild} from '../reliability/lib/build.js'
import {suiteSeed} from '../reliability/lib/rng.js'
import {ciCounts} from '../reliability/lib/scale.js'
import {serverKinds, startServer, type ServerKind, type TestServer} from '../support/servers.js'
import {enabledOperations} from './operations.js'
import {sequenceCount, sequenceScenario} from './scenario.js'
import {render, type Tally} from './tally.js'

export const MIN_PER_OPERATION = 3

export function sequenceSuite(kind: ServerKind): void {
  describe.skipIf(!serverKinds().includes(kind))(`random sequences on ${kind}`, () => {
    const env = new ScenarioEnv(suiteSeed(), ciCounts())
    const count = sequenceCount(env.counts.sequences)
    let server: TestServer | undefined
    let tally: Tally | undefined

    beforeAll(async () => {
      requireBuild()
      server = await startServer(kind)
    })
    afterAll(async () => {
      await server?.stop()
      if (tally !== undefined) console.log(`\nmailkeep sequences on ${kind} (suite seed ${env.seed}; MAILKEEP_RELIABILITY_SEED=${env.seed} replays the suite):\n${render([tally])}\n`)
    })

    it(
      'every invariant holds after every step',
      async () => {
        tally = await sequenceScenario(env, kind, {count, server: server!})
        expect(tally.failures.length, tally.failures.join('\n\n')).toBe(0)
        const full = process.env.MAILKEEP_SEQUENCE_SEED === undefined && process.env.MAILKEEP_SEQUENCE_PLAN === undefined && count >= env.counts.sequences
        if (full) {
          const short = enabledOperations(kind).filter((op) => (tally!.ops.get(op.name) ?? 0) < MIN_PER_OPERATION)
          expect(short.map((op) => `${op.name}: ${tally!.ops.get(op.name) ?? 0}`), `operations that ran fewer than ${MIN_PER_OPERATION} times`).toEqual([])
        }
      },
      60 * 60_000,
    )
  })
}
