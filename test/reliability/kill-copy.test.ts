/**
 * kill -9 of the real `mailkeep copy` CLI at random moments (scenarios/kill-upload.ts), then a
 * normal rerun: the destination has every backed-up message exactly once. Needs `npm run build`.
 */
import {afterAll, beforeAll, describe, it} from 'vitest'
import {hasCommand, requireBuild} from './lib/build.js'
import {expectNoSecrets, expectScenarioPassed, suiteEnv} from './lib/suite.js'
import {KILL_COPY, killUploadScenario, startUploadWorld, type UploadWorld} from './scenarios/kill-upload.js'

const env = suiteEnv('kill-copy.test.ts')
let world: UploadWorld

beforeAll(async () => {
  requireBuild()
  if (!hasCommand('copy')) throw new Error('dist/cli/commands/copy.js is missing: build the copy command first')
  world = await startUploadWorld(env, {backup: false})
})

afterAll(async () => {
  await world?.close()
})

describe('reliability: kill -9 of copy', () => {
  it(`${env.counts.copyKills} kills at random moments while it works, then a rerun: every message on the destination exactly once`, async () => {
    await killUploadScenario(env, world, 'copy')
    expectScenarioPassed(env, KILL_COPY)
  }, 900_000)

  it('no secret in anything printed', async () => {
    await expectNoSecrets(env)
  })
})
