/**
 * Every reliability scenario of test/reliability/, by key, with the world it needs: the soak run
 * (bench/soak.ts) starts each world, runs the scenario at full counts and stops the world. The
 * scenario code is the CI suite's own (test/reliability/scenarios/*), so both test the same thing.
 */
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import type {ScenarioEnv} from '../../test/reliability/lib/env.js'
import {REPO_ROOT} from '../../test/support/cli.js'
import {concurrencyScenario} from '../../test/reliability/scenarios/concurrency.js'
import {diskFullScenario} from '../../test/reliability/scenarios/disk-full.js'
import {hostileLocalScenario} from '../../test/reliability/scenarios/hostile-local.js'
import {hostileServerScenario} from '../../test/reliability/scenarios/hostile-server.js'
import {killBackupScenario, startBackupWorld} from '../../test/reliability/scenarios/kill-backup.js'
import {killUploadScenario, startUploadWorld} from '../../test/reliability/scenarios/kill-upload.js'
import {networkScenario} from '../../test/reliability/scenarios/network.js'
import {leakTemptationsScenario, looseConfigScenario} from '../../test/reliability/scenarios/secrets.js'
import {signalsScenario} from '../../test/reliability/scenarios/signals.js'
import {sequenceScenario} from '../../test/sequence/scenario.js'
import {ALL_SERVER_KINDS} from '../../test/support/servers.js'

const built = (command: string): boolean => existsSync(join(REPO_ROOT, 'dist', 'cli', 'commands', `${command}.js`))

export interface SoakScenario {
  key: string
  run(env: ScenarioEnv): Promise<void>
}

export const SOAK_SCENARIOS: SoakScenario[] = [
  {
    key: 'hostile-server',
    // As in CI: the cases that must pass, then those marked `knownIssue` (none at the moment) in
    // a row of their own, so that a known bug does not hide a new failure among the others.
    run: async (env) => {
      await hostileServerScenario(env)
      await hostileServerScenario(env, {knownIssues: 'only'})
    },
  },
  {
    key: 'hostile-local',
    run: async (env) => {
      const world = await startBackupWorld(env, {min: 5, max: 60})
      try {
        await hostileLocalScenario(env, world)
      } finally {
        await world.close()
      }
    },
  },
  {
    key: 'concurrency-secrets',
    run: async (env) => {
      const world = await startBackupWorld(env, {min: 20, max: 150})
      try {
        await concurrencyScenario(env, world, {restore: built('restore')})
        await looseConfigScenario(env, world)
        await leakTemptationsScenario(env, world)
      } finally {
        await world.close()
      }
    },
  },
  {
    key: 'disk-full',
    run: async (env) => {
      const world = await startBackupWorld(env, {min: 10, max: 120})
      try {
        await diskFullScenario(env, world)
      } finally {
        await world.close()
      }
    },
  },
  {
    key: 'network',
    run: async (env) => {
      const world = await startBackupWorld(env, {min: 20, max: 300})
      try {
        await networkScenario(env, world, {restore: built('restore')})
      } finally {
        await world.close()
      }
    },
  },
  {
    key: 'signals',
    run: async (env) => {
      const world = await startBackupWorld(env, {min: 40, max: 500})
      try {
        await signalsScenario(env, world, {restore: built('restore')})
      } finally {
        await world.close()
      }
    },
  },
  {
    key: 'kill-backup',
    run: async (env) => {
      const world = await startBackupWorld(env)
      try {
        await killBackupScenario(env, world)
      } finally {
        await world.close()
      }
    },
  },
  {
    key: 'kill-restore',
    run: async (env) => {
      const world = await startUploadWorld(env, {backup: true})
      try {
        await killUploadScenario(env, world, 'restore')
      } finally {
        await world.close()
      }
    },
  },
  {
    key: 'kill-copy',
    run: async (env) => {
      const world = await startUploadWorld(env, {backup: false})
      try {
        await killUploadScenario(env, world, 'copy')
      } finally {
        await world.close()
      }
    },
  },
  // The sequence test (test/sequence/): env.counts.sequences random sequences per server, one key
  // per server so that the three can run side by side (`--only sequence-cyrus`, …).
  ...ALL_SERVER_KINDS.map(
    (kind): SoakScenario => ({
      key: `sequence-${kind}`,
      run: async (env) => {
        await sequenceScenario(env, kind, {count: env.counts.sequences})
      },
    }),
  ),
]
