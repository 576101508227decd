/**
 * SIGINT / SIGTERM of the real CLI at random moments (scenarios/signals.ts): exit 130/143, the
 * folders at their last savepoint with everything committed before the signal, the lock free, a
 * rerun completes; at least `signals` of them landed while backup worked (half as many for
 * restore). Needs `npm run build`.
 */
import {afterAll, beforeAll, describe, it} from 'vitest'
import {hasCommand, requireBuild} from './lib/build.js'
import {expectNoSecrets, expectScenarioPassed, suiteEnv} from './lib/suite.js'
import {startBackupWorld, type BackupWorld} from './scenarios/kill-backup.js'
import {SIGNALS_BACKUP, SIGNALS_RESTORE, signalsScenario} from './scenarios/signals.js'

const env = suiteEnv('signals.test.ts')
let world: BackupWorld

beforeAll(async () => {
  requireBuild()
  world = await startBackupWorld(env, {min: 40, max: 500})
})

afterAll(async () => {
  await world?.close()
})

describe('reliability: SIGINT and SIGTERM', () => {
  it(`${env.counts.signals} signals while backup works (half as many for restore): 130/143, at the last savepoint, nothing committed lost, lock free, a rerun completes`, async () => {
    const restore = hasCommand('restore')
    await signalsScenario(env, world, {restore})
    expectScenarioPassed(env, SIGNALS_BACKUP)
    if (restore) expectScenarioPassed(env, SIGNALS_RESTORE)
  }, 900_000)

  it('no secret in anything printed', async () => {
    await expectNoSecrets(env)
  })
})
