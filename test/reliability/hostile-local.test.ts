/**
 * Damaged local state (scenarios/hostile-local.ts): each case gets a clear error or is repaired
 * by `mailkeep local repair`; nothing is deleted. Needs `npm run build`.
 */
import {afterAll, beforeAll, describe, it} from 'vitest'
import {hasCommand, requireBuild} from './lib/build.js'
import {expectNoSecrets, expectScenarioPassed, suiteEnv} from './lib/suite.js'
import {HOSTILE_LOCAL, hostileLocalScenario} from './scenarios/hostile-local.js'
import {startBackupWorld, type BackupWorld} from './scenarios/kill-backup.js'

const env = suiteEnv('hostile-local.test.ts')
let world: BackupWorld

beforeAll(async () => {
  requireBuild()
  if (!hasCommand('local/check') || !hasCommand('local/repair')) throw new Error('dist/cli/commands/local/{check,repair}.js are missing: build them first')
  world = await startBackupWorld(env, {min: 5, max: 60})
})

afterAll(async () => {
  await world?.close()
})

describe('reliability: hostile local state', () => {
  it('each damage gets a clear error or is repaired by local repair; nothing is deleted', async () => {
    await hostileLocalScenario(env, world)
    expectScenarioPassed(env, HOSTILE_LOCAL)
  }, 900_000)

  it('no secret in anything printed', async () => {
    await expectNoSecrets(env)
  })
})
