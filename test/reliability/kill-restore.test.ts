/**
 * kill -9 of the real `mailkeep restore` CLI at random moments (scenarios/kill-upload.ts), then a
 * normal rerun: the destination has every backed-up message exactly once. Needs `npm run build`.
 */
import {afterAll, beforeAll, describe, it} from 'vitest'
import {hasCommand, requireBuild} from './lib/build.js'
import {expectNoSecrets, expectScenarioPassed, suiteEnv} from './lib/suite.js'
import {KILL_RESTORE, killUploadScenario, startUploadWorld, type UploadWorld} from './scenarios/kill-upload.js'

const env = suiteEnv('kill-restore.test.ts')
let world: UploadWorld

beforeAll(async () => {
  requireBuild()
  if (!hasCommand('restore')) throw new Error('dist/cli/commands/restore.js is missing: build the restore command first')
  world = await startUploadWorld(env, {backup: true})
})

afterAll(async () => {
  await world?.close()
})

describe('reliability: kill -9 of restore', () => {
  it(`${env.counts.restoreKills} kills at random moments while it works, then a rerun: every message on the destination exactly once`, async () => {
    await killUploadScenario(env, world, 'restore')
    expectScenarioPassed(env, KILL_RESTORE)
  }, 900_000)

  it('no secret in anything printed', async () => {
    await expectNoSecrets(env)
  })
})
