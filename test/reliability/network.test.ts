/**
 * Network faults through a loopback proxy (scenarios/network.ts): resets mid-literal, stalls over
 * the timeout, BYE, a Dovecot restart, a slow link, refused connections, a lost APPEND answer.
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
  it(`${env.counts.network} runs through a faulty link: finished or reported incomplete, nothing lost or duplicated`, async () => {
    await networkScenario(env, world, {restore: hasCommand('restore')})
    if (env.ledger.get(NETWORK_BACKUP) !== undefined) expectScenarioPassed(env, NETWORK_BACKUP)
    if (env.ledger.get(NETWORK_RESTORE) !== undefined) expectScenarioPassed(env, NETWORK_RESTORE)
  }, 900_000)

  it('no secret in anything printed', async () => {
    await expectNoSecrets(env)
  })
})
