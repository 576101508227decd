/**
 * kill -9 of `mailkeep backup` at random moments, several times in a row on one backup, then a
 * normal rerun. Only kills that land while the process works count towards the target (see
 * `KILLS_WORKING`); the notes break them down by trigger. Each trial draws its folders (random sizes, small and big messages), download
 * strategy, savepoint interval, batch size, streaming threshold and link speed; new mail arrives
 * between some runs. After every kill, nothing committed before may be gone and no UID may be
 * stored twice; after the rerun the backup equals the server (UIDs, bytes, flags), every folder
 * is at a savepoint, and `local check` finds nothing.
 */
import {join} from 'node:path'
import {STRATEGIES} from '../../../src/store/tuning.js'
import {startDovecot, type DovecotInstance, type TestUser} from '../../support/dovecot.js'
import {serverAt} from '../../support/mail-seed.js'
import {startProxy, type TcpProxy} from '../../support/tcp-proxy.js'
import {describe as describeRun, jsonReport} from '../lib/cli.js'
import {account, writeConfig, type ScenarioEnv} from '../lib/env.js'
import {arm, describeTrigger, randomTrigger, type TriggerKind} from '../lib/kill-point.js'
import {addMail, seedPool} from '../lib/mail.js'
import {Rng, deriveSeed} from '../lib/rng.js'
import type {RunCheck} from '../lib/ledger.js'
import {SessionWatch, phaseNote, type RunPhase} from '../lib/session-watch.js'
import {CommittedTracker, checkAtSavepoint, compareBackup, localCheck, readLocal} from '../lib/verify.js'

export const KILL_BACKUP = 'kill -9 backup'

/** Folder names with the characters the store escapes or nests. */
export const POOL_FOLDERS = ['INBOX', 'Archive/2023', 'Entwürfe', 'Lists/dev:ops;x', 'Sent Items', 'Trash']

export interface BackupWorld {
  dovecot: DovecotInstance
  proxy: TcpProxy
  user: TestUser
  folders: string[]
  close(): Promise<void>
}

export async function startBackupWorld(env: ScenarioEnv, options: {min?: number; max?: number} = {}): Promise<BackupWorld> {
  const dovecot = await startDovecot()
  try {
    const user = dovecot.users[0]!
    await seedPool(dovecot, user, env.rng.derive('pool'), POOL_FOLDERS, {min: options.min ?? 15, max: options.max ?? 350})
    const proxy = await startProxy({targetPort: dovecot.port})
    return {
      dovecot,
      proxy,
      user,
      folders: [...POOL_FOLDERS],
      close: async () => {
        await proxy.close()
        await dovecot.stop()
      },
    }
  } catch (error) {
    await dovecot.stop()
    throw error
  }
}

/** Random tuning of a trial: the config keys that change how a folder's transaction writes. */
export function randomTuning(rng: Rng): Record<string, unknown> {
  const tuning: Record<string, unknown> = {
    download_strategy: rng.pick(STRATEGIES),
    savepoint_messages: rng.pick([1, 3, 10, 40, 200, 1000]),
  }
  if (rng.chance(0.3)) tuning.savepoint_bytes = rng.pick([50_000, 500_000, 4_000_000])
  if (rng.chance(0.2)) tuning.savepoint_seconds = rng.pick([0.2, 1])
  if (rng.chance(0.3)) tuning.large_message_bytes = rng.pick([100_000, 1_000_000])
  if (tuning.download_strategy === 'delay_all' && rng.chance(0.5)) tuning.delay_all_max_bytes = rng.pick([200_000, 2_000_000])
  return tuning
}

const TRIGGERS: readonly TriggerKind[] = ['startup', 'delay', 'delay', 'login', 'examine', 'fetch', 'fetch', 'savepoint', 'savepoint']
const SPEEDS = [null, 2_000_000, 1_000_000, 300_000, 100_000] as const

/**
 * Kills that count: the process was working (lib/session-watch.ts: logged in and past the login,
 * not logged out). Kills while it was still starting or already finishing are tallied in the
 * notes apart and do not count towards `backupKills`, which the suite asserts was reached.
 */
export const KILLS_WORKING = phaseNote('kills', 'working')

export async function killBackupScenario(env: ScenarioEnv, world: BackupWorld): Promise<void> {
  const {ledger} = env
  const wanted = env.counts.backupKills
  ledger.atLeast(KILL_BACKUP, KILLS_WORKING, wanted)
  let kills = 0
  // Bounded: a kill point that never lands must end in a failed minimum, not an endless loop.
  const maxTrials = Math.ceil(wanted / env.counts.killsPerTrial) * 3
  for (let trial = 0; kills < wanted && trial < maxTrials; trial++) {
    const seed = deriveSeed(env.seed, `kill-backup-${trial}`)
    const rng = new Rng(seed)
    const home = await env.tempDir('mailkeep-rel-kill-')
    const check = await ledger.run(KILL_BACKUP, `trial ${trial}`, seed, async (check) => {
      kills += await trialRun(env, world, rng, home, Math.min(env.counts.killsPerTrial, wanted - kills), check)
    })
    await env.release(home, check.problems.length === 0)
    env.progress(`${KILL_BACKUP}: trial ${trial}, ${kills} kills while working so far`)
  }
}

/** Returns the number of kills that landed while the process was working. */
async function trialRun(env: ScenarioEnv, world: BackupWorld, rng: Rng, home: string, killsWanted: number, check: RunCheck): Promise<number> {
  const {ledger} = env
  const root = join(home, 'backup', 'alice')
  const folders = rng.sample(world.folders, rng.int(1, world.folders.length))
  const tuning = randomTuning(rng)
  const config = await writeConfig(home, {
    accounts: [account(serverAt(world.dovecot, world.proxy.port), world.user, root, {folders, multi_fetch_size: rng.pick([1, 7, 50, 100])})],
    ...tuning,
  })
  const tracker = new CommittedTracker()
  let kills = 0
  let idle = false
  for (let attempt = 0; kills < killsWanted && attempt < killsWanted * 3; attempt++) {
    // New mail now and then, and always when the last run left nothing to do.
    if (idle || rng.chance(0.3)) await addMail(world.dovecot, world.user, rng, rng.pick(folders), rng.int(idle ? 20 : 1, idle ? 120 : 25), undefined, 'arrived')
    const trigger = randomTrigger(rng, TRIGGERS)
    world.proxy.throttle(trigger.kind === 'fetch' ? rng.pick([1_000_000, 300_000]) : rng.pick(SPEEDS))
    const watch = new SessionWatch([world.proxy])
    const run = env.cli.spawn(home, ['backup', ...(rng.chance(0.3) ? ['--verbose'] : [])])
    let how: string | undefined
    let phase = 'starting' as RunPhase
    const disarm = arm(trigger, (h) => {
      how = h
      phase = watch.phase()
      run.kill('SIGKILL')
    }, {proxy: world.proxy, root, folders, fallbackMs: rng.int(300, 2_500)})
    const result = await run.exited
    disarm()
    watch.close()
    world.proxy.throttle(null)
    const what = `run ${attempt} (${describeTrigger(trigger)}, ${JSON.stringify(tuning)})`
    if (result.signal === 'SIGKILL') {
      idle = false
      ledger.count(KILL_BACKUP, phaseNote('kills', phase))
      if (phase === 'working') {
        kills++
        ledger.count(KILL_BACKUP, how === 'fallback' ? 'fallback kills' : `${trigger.kind} kills`)
      }
    } else {
      // It finished before the kill: it must have succeeded.
      ledger.count(KILL_BACKUP, 'finished before the kill')
      idle = true
      check.expect(result.code === 0, `${what} ended by itself with ${describeRun(result)}`)
    }
    tracker.observe(check, await readLocal(check, root, folders), `after ${what}`)
  }

  const rerun = await env.cli.run(home, ['backup', '--json'])
  if (!check.expect(rerun.code === 0, `the rerun failed: ${describeRun(rerun)}`)) return kills
  const report = jsonReport<{exitCode: number}>(rerun)
  check.expect(report?.exitCode === 0, 'the rerun printed no --json report with exitCode 0')
  tracker.observe(check, await readLocal(check, root, folders), 'after the rerun')
  for (const folder of folders) await checkAtSavepoint(check, root, folder)
  const compared = await compareBackup(check, world.dovecot, world.user, root, folders)
  ledger.count(KILL_BACKUP, 'messages compared', compared)
  await localCheck(check, config)
  return kills
}
