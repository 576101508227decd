/**
 * kill -9 of `mailkeep restore` and `mailkeep copy` at random moments (as they start, log in,
 * at a random APPEND, in the middle of a big APPEND literal on a throttled link, a random time
 * after the login), several times in a row, then a normal rerun: the destination holds every
 * backed-up message exactly once (by content), with its flags and INTERNALDATE; a second rerun
 * uploads nothing. `copy` backs the source up first, so its kills also land in that backup,
 * whose result must equal the server.
 *
 * Each trial uploads to a fresh destination subtree (`--prefix` / `--destination-prefix`) of
 * bob's account, from a fresh copy of alice's backup (restore) or a fresh backup (copy).
 */
import {cp} from 'node:fs/promises'
import {join} from 'node:path'
import {runBackup} from '../../../src/engine/backup/backup.js'
import {destinationName, type FolderNaming} from '../../../src/engine/upload/folder-mapping.js'
import {loadConfig} from '../../../src/config/index.js'
import {silentContext} from '../../../src/shared/context.js'
import {startDovecot, type DovecotInstance, type TestUser} from '../../support/dovecot.js'
import {serverAt} from '../../support/mail-seed.js'
import {startProxy, type TcpProxy} from '../../support/tcp-proxy.js'
import {describe as describeRun, jsonReport} from '../lib/cli.js'
import {account, writeConfig, type ScenarioEnv} from '../lib/env.js'
import {arm, describeTrigger, randomTrigger, type TriggerKind} from '../lib/kill-point.js'
import type {RunCheck} from '../lib/ledger.js'
import {addMail, seedPool} from '../lib/mail.js'
import {Rng, deriveSeed} from '../lib/rng.js'
import {SessionWatch, phaseNote, type RunPhase} from '../lib/session-watch.js'
import {backupItems, compareBackup, compareDestination, destinationItems, localCheck} from '../lib/verify.js'
import {POOL_FOLDERS} from './kill-backup.js'

export const KILL_RESTORE = 'kill -9 restore'
export const KILL_COPY = 'kill -9 copy'

export interface UploadWorld {
  dovecot: DovecotInstance
  /** In front of the destination (bob's account on the same Dovecot). */
  proxy: TcpProxy
  /** In front of the source (copy backs alice up through it): never throttled, only watched. */
  sourceProxy: TcpProxy
  source: TestUser
  destination: TestUser
  folders: string[]
  /** restore: alice's backup, made once; each trial works on a copy. */
  backupRoot: string
  dir: string
  close(): Promise<void>
}

export async function startUploadWorld(env: ScenarioEnv, options: {backup: boolean; min?: number; max?: number}): Promise<UploadWorld> {
  const dovecot = await startDovecot()
  const dir = await env.tempDir('mailkeep-rel-upload-')
  try {
    const [source, destination] = [dovecot.users[0]!, dovecot.users[1]!]
    await seedPool(dovecot, source, env.rng.derive('upload-pool'), POOL_FOLDERS, {min: options.min ?? 10, max: options.max ?? 250})
    const backupRoot = join(dir, 'alice')
    if (options.backup) {
      const configFile = await writeConfig(dir, {accounts: [account(dovecot, source, backupRoot)]})
      const report = await runBackup({config: await loadConfig(configFile), refresh: false}, silentContext())
      if (report.exitCode !== 0) throw new Error(`the source backup failed: ${JSON.stringify(report)}`)
    }
    const proxy = await startProxy({targetPort: dovecot.port})
    const sourceProxy = await startProxy({targetPort: dovecot.port})
    return {
      dovecot,
      proxy,
      sourceProxy,
      source,
      destination,
      folders: [...POOL_FOLDERS],
      backupRoot,
      dir,
      close: async () => {
        await proxy.close()
        await sourceProxy.close()
        await dovecot.stop()
        await env.release(dir, true)
      },
    }
  } catch (error) {
    await dovecot.stop()
    throw error
  }
}

const TRIGGERS: readonly TriggerKind[] = ['startup', 'delay', 'delay', 'login', 'append', 'append', 'append']
const SPEEDS = [null, 4_000_000, 1_000_000, 300_000] as const

type Kind = 'restore' | 'copy'

/**
 * Kills that count: the process was working (lib/session-watch.ts) on the destination or, for
 * copy, on the source it backs up first. The suite asserts the count reached `restoreKills` /
 * `copyKills`; kills while starting or finishing are tallied apart.
 */
export const KILLS_WORKING = phaseNote('kills', 'working')

export async function killUploadScenario(env: ScenarioEnv, world: UploadWorld, kind: Kind): Promise<void> {
  const scenario = kind === 'restore' ? KILL_RESTORE : KILL_COPY
  const wanted = kind === 'restore' ? env.counts.restoreKills : env.counts.copyKills
  env.ledger.atLeast(scenario, KILLS_WORKING, wanted)
  let kills = 0
  // Bounded: a kill point that never lands must end in a failed minimum, not an endless loop.
  const maxTrials = Math.ceil(wanted / env.counts.killsPerTrial) * 3
  for (let trial = 0; kills < wanted && trial < maxTrials; trial++) {
    const seed = deriveSeed(env.seed, `kill-${kind}-${trial}`)
    const rng = new Rng(seed)
    const home = await env.tempDir(`mailkeep-rel-${kind}-`)
    const check = await env.ledger.run(scenario, `trial ${trial}`, seed, async (check) => {
      kills += await trialRun(env, world, kind, scenario, trial, rng, home, Math.min(env.counts.killsPerTrial, wanted - kills), check)
    })
    await env.release(home, check.problems.length === 0)
    env.progress(`${scenario}: trial ${trial}, ${kills} kills while working so far`)
  }
}

/** Returns the number of kills that landed while the process was working. */
async function trialRun(env: ScenarioEnv, world: UploadWorld, kind: Kind, scenario: string, trial: number, rng: Rng, home: string, killsWanted: number, check: RunCheck): Promise<number> {
  const {ledger, cli} = env
  const root = join(home, 'alice')
  const folders = rng.sample(world.folders, rng.int(1, world.folders.length))
  const prefix = `${kind === 'restore' ? 'r' : 'c'}${trial}-${rng.int(0, 1e6)}`
  const destination = serverAt(world.dovecot, world.proxy.port)
  if (kind === 'restore') await cp(world.backupRoot, root, {recursive: true})
  const config = await writeConfig(home, {
    accounts: [
      // copy backs alice up first: only the folders of this trial, through the watching proxy.
      kind === 'copy' ? account(serverAt(world.dovecot, world.sourceProxy.port), world.source, root, {folders}) : account(world.dovecot, world.source, root),
      account(destination, world.destination, join(home, 'bob'), {multi_fetch_size: rng.pick([5, 50, 100])}),
    ],
    ...(kind === 'copy' && rng.chance(0.5) ? {download_strategy: rng.pick(['direct', 'delay_all'])} : {}),
  })
  const args =
    kind === 'restore'
      ? ['restore', world.source.user, '--to', world.destination.user, '--prefix', `${prefix}/`, '--folders', folders.join(',')]
      : ['copy', world.source.user, world.destination.user, '--destination-prefix', `${prefix}/`]

  let kills = 0
  let idle = false
  for (let attempt = 0; kills < killsWanted && attempt < killsWanted * 3; attempt++) {
    // copy: new mail on the source now and then (its backup and upload must follow).
    if (kind === 'copy' && (idle || rng.chance(0.25))) await addMail(world.dovecot, world.source, rng, rng.pick(folders), rng.int(idle ? 20 : 1, idle ? 80 : 20), undefined, 'arrived')
    const trigger = randomTrigger(rng, TRIGGERS)
    world.proxy.throttle(rng.pick(SPEEDS))
    const watch = new SessionWatch(kind === 'copy' ? [world.proxy, world.sourceProxy] : [world.proxy])
    const run = cli.spawn(home, args)
    let how: string | undefined
    let phase = 'starting' as RunPhase
    const disarm = arm(trigger, (h) => {
      how = h
      phase = watch.phase()
      run.kill('SIGKILL')
    }, {proxy: world.proxy, fallbackMs: rng.int(300, 2_500)})
    const result = await run.exited
    disarm()
    watch.close()
    world.proxy.throttle(null)
    countAdopted(env, scenario, result.stderr)
    if (result.signal === 'SIGKILL') {
      idle = false
      ledger.count(scenario, phaseNote('kills', phase))
      if (phase === 'working') {
        kills++
        ledger.count(scenario, how === 'fallback' ? 'fallback kills' : `${trigger.kind} kills`)
      }
    } else {
      idle = true
      ledger.count(scenario, 'finished before the kill')
      check.expect(result.code === 0, `run ${attempt} (${describeTrigger(trigger)}) ended by itself with ${describeRun(result)}`)
    }
  }

  const rerun = await cli.run(home, [...args, '--json'])
  countAdopted(env, scenario, rerun.stderr)
  if (!check.expect(rerun.code === 0, `the rerun failed: ${describeRun(rerun)}`)) return kills
  const report = jsonReport<{folders: Array<{source: string; destination: string}>}>(rerun)
  const naming: FolderNaming = {source: {prefix: '', delimiter: '/'}, destination: {prefix: `${prefix}/`, delimiter: '/'}, inboxToInbox: false}
  let compared = 0
  for (const folder of folders) {
    const target = destinationName(folder, naming)
    const reported = report?.folders.find((f) => f.source === folder)?.destination
    check.expect(reported === target, `'${folder}' was uploaded to '${reported}', expected '${target}'`)
    const source = await backupItems(root, folder)
    compareDestination(check, `'${folder}' → '${target}'`, source.length === 0 ? [] : await destinationItems(world.dovecot, world.destination, target).catch(() => []), source)
    compared += source.length
  }
  ledger.count(scenario, 'messages compared', compared)
  if (kind === 'copy') await compareBackup(check, world.dovecot, world.source, root, folders)
  await localCheck(check, config, [world.source.user])

  // Idempotent: another run uploads nothing (checked in a third of the trials: a run costs seconds).
  if (!rng.chance(0.34)) return kills
  world.proxy.resetStats()
  const again = await cli.run(home, args)
  check.expect(again.code === 0, `the second rerun failed: ${describeRun(again)}`)
  const appends = world.proxy.commands.filter((c) => c.name === 'APPEND').length
  check.addDuplicated(appends, 'APPENDs sent by a run after everything was uploaded')
  return kills
}

/** Messages a run found on the destination that a killed run had uploaded without recording them. */
function countAdopted(env: ScenarioEnv, scenario: string, stderr: string): void {
  for (const m of stderr.matchAll(/found (\d+) message\(s\) that an interrupted run had uploaded/g)) env.ledger.count(scenario, 'found after a kill', Number(m[1]))
}
