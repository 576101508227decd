/**
 * The backup directory fills up mid-run (scenarios/disk-full.ts): a real ENOSPC on a small tmpfs
 * where the machine allows mounting one, else EFBIG injected with prlimit. Needs `npm run build`.
 */
import {afterAll, beforeAll, describe, it} from 'vitest'
import {requireBuild} from './lib/build.js'
import {expectNoSecrets, expectScenarioPassed, suiteEnv} from './lib/suite.js'
import {DISK_FULL, diskFullScenario} from './scenarios/disk-full.js'
import {startBackupWorld, type BackupWorld} from './scenarios/kill-backup.js'

const env = suiteEnv('disk-full.test.ts')
let world: BackupWorld

beforeAll(async () => {
  requireBuild()
  world = await startBackupWorld(env, {min: 10, max: 120})
})

afterAll(async () => {
  await world?.close()
})

describe('reliability: a full disk', () => {
  it(`${env.counts.diskFull} backups that each fill the disk: exit 8, rolled back to the last savepoint, earlier data intact byte for byte, a rerun after freeing space completes`, async () => {
    await diskFullScenario(env, world)
    expectScenarioPassed(env, DISK_FULL)
  }, 900_000)

  it('no secret in anything printed', async () => {
    await expectNoSecrets(env)
  })
})
