/**
 * Network faults through a loopback proxy (scenarios/network.ts): resets mid-literal, stalls over
 * the timeout, BYE, a Dovecot restart, a slow link, refused connections, a lost APPEND answer;
 * round robin, so every kind must have fired (a run whose fault did not fire is not counted).
 * Needs `npm run build`.
 */
import {afterAll, beforeAll, describe, it} from 'vitest'
import {hasCommand, requireBuild} from './lib/build.js'
import {expectNoSecrets, expectScenarioPassed, suiteEnv} from './lib/suite.js'
import {startBackupWorld, type BackupWorld} from './scenarios/kill-backup.js'
import {NETWORK_BACKUP, NETWORK_RESTORE, networkScenario} from './scenarios/network.js'

const env = suiteEnv('network.test.ts')
let world: BackupWorld

beforeAll(async () => {
  requireBuild()
  world = await startBackupWorld(env, {min: 20, max: 300})
})

afterAll(async () => {
  await world?.close()
})

describe('reliability: network faults', () => {
  it(`${env.counts.network} runs through a faulty link, every fault kind fired: finished (stall, BYE: reconnected, complete) or reported incomplete, nothing lost or duplicated`, async () => {
    const restore = hasCommand('restore')
    await networkScenario(env, world, {restore})
    expectScenarioPassed(env, NETWORK_BACKUP)
    if (restore) expectScenarioPassed(env, NETWORK_RESTORE)
  }, 900_000)

  it('no secret in anything printed', async () => {
    await expectNoSecrets(env)
  })
})
