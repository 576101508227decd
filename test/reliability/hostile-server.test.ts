/**
 * A hostile IMAP server on loopback (scenarios/hostile-server.ts): malformed answers, lying
 * literal sizes, unasked UIDs, UIDVALIDITY changing, `../` and NUL in folder names, a 2 GB
 * literal. Needs `npm run build`.
 *
 * Cases that find a bug not fixed yet run as expected failures (`it.fails`), each named with the
 * bug; when one starts passing, the fix has landed: drop its `knownIssue`.
 */
import {describe, it} from 'vitest'
import {requireBuild} from './lib/build.js'
import {expectNoSecrets, expectScenarioPassed, suiteEnv} from './lib/suite.js'
import {HOSTILE_CASES, HOSTILE_SERVER, HOSTILE_SERVER_KNOWN, hostileServerScenario} from './scenarios/hostile-server.js'

const env = suiteEnv('hostile-server.test.ts')

describe('reliability: a hostile server', () => {
  it('each hostile answer ends in a clear error or a correct backup, memory bounded, nothing written outside', async () => {
    requireBuild()
    await hostileServerScenario(env)
    expectScenarioPassed(env, HOSTILE_SERVER)
  }, 900_000)

  for (const c of HOSTILE_CASES.filter((x) => x.knownIssue !== undefined)) {
    it.fails(`known issue, ${c.name}: ${c.knownIssue}`, async () => {
      await hostileServerScenario(env, {knownIssues: 'only', only: c.name})
      expectScenarioPassed(env, HOSTILE_SERVER_KNOWN)
    }, 300_000)
  }

  it('no secret in anything printed', async () => {
    await expectNoSecrets(env)
  })
})
