/**
 * kill -9 of the real `mailkeep backup` CLI at random moments (scenarios/kill-backup.ts), then a
 * normal rerun: the backup equals the server, `local check` finds nothing, nothing duplicated.
 * Needs `npm run build` (the CLI runs from dist/).
 */
import {afterAll, beforeAll, describe, it} from 'vitest'
import {requireBuild} from './lib/build.js'
import {expectNoSecrets, expectScenarioPassed, suiteEnv} from './lib/suite.js'
import {KILL_BACKUP, killBackupScenario, startBackupWorld, type BackupWorld} from './scenarios/kill-backup.js'

const env = suiteEnv('kill-backup.test.ts')
let world: BackupWorld

beforeAll(async () => {
  requireBuild()
  world = await startBackupWorld(env)
})

afterAll(async () => {
  await world?.close()
})

describe('reliability: kill -9 of backup', () => {
  it(`${env.counts.backupKills} kills at random moments while it works, then a rerun equals the server`, async () => {
    await killBackupScenario(env, world)
    expectScenarioPassed(env, KILL_BACKUP)
  }, 900_000)

  it('no secret in anything printed', async () => {
    await expectNoSecrets(env)
  })
})
