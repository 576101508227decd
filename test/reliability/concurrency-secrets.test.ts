/**
 * Concurrency (scenarios/concurrency.ts: a second backup, restore during backup, backup during
 * restore, two restores, local check during backup: refused with exit 5) and secrets
 * (scenarios/secrets.ts: loose config permissions refused; verbose, JSON and hostile-echo runs;
 * then every output and file scanned). Needs `npm run build`.
 */
import {afterAll, beforeAll, describe, it} from 'vitest'
import {hasCommand, requireBuild} from './lib/build.js'
import {expectNoSecrets, expectScenarioPassed, suiteEnv} from './lib/suite.js'
import {CONCURRENCY, concurrencyScenario} from './scenarios/concurrency.js'
import {startBackupWorld, type BackupWorld} from './scenarios/kill-backup.js'
import {LEAK_TEMPTATIONS, LOOSE_CONFIG, leakTemptationsScenario, looseConfigScenario} from './scenarios/secrets.js'

const env = suiteEnv('concurrency-secrets.test.ts')
let world: BackupWorld

beforeAll(async () => {
  requireBuild()
  world = await startBackupWorld(env, {min: 20, max: 150})
})

afterAll(async () => {
  await world?.close()
})

describe('reliability: concurrency', () => {
  it('a second mailkeep on the same account is refused with exit 5; the first completes', async () => {
    await concurrencyScenario(env, world, {restore: hasCommand('restore')})
    expectScenarioPassed(env, CONCURRENCY)
  }, 900_000)
})

describe('reliability: secrets', () => {
  it('a config or password file readable by others is refused by every command', async () => {
    await looseConfigScenario(env, world)
    expectScenarioPassed(env, LOOSE_CONFIG)
  }, 300_000)

  it('verbose, JSON and a server that echoes the password: no secret in any output or file', async () => {
    await leakTemptationsScenario(env, world)
    expectScenarioPassed(env, LEAK_TEMPTATIONS)
  }, 300_000)

  it('no secret in anything printed', async () => {
    await expectNoSecrets(env)
  })
})
