/**
 * Network faults through the loopback proxy the test controls, during a real `mailkeep backup`
 * (and `mailkeep restore`): a reset in the middle of a FETCH literal (once or several times), a
 * stall longer than the configured timeout, the server closing with BYE (`doveadm kick`), Dovecot
 * restarted mid-run, a slow (throttled) link, new connections refused for a while, and for restore
 * the link cut right after an APPEND was sent (its answer lost). The run must finish (exit 0) or
 * report folders as incomplete (exit 4, each listed); what it stored is byte-exact and at a
 * savepoint, nothing committed is lost, nothing is stored or uploaded twice; a clean rerun
 * completes.
 */
import {join} from 'node:path'
import {destinationName} from '../../../src/engine/folder-mapping.js'
import {serverAt} from '../../support/mail-seed.js'
import {describe as describeRun, jsonReport} from '../lib/cli.js'
import {account, writeConfig, type ScenarioEnv} from '../lib/env.js'
import type {RunCheck} from '../lib/ledger.js'
import {addMail} from '../lib/mail.js'
import {Rng, deriveSeed, sleep} from '../lib/rng.js'
import {CommittedTracker, backupItems, checkAtSavepoint, compareBackup, compareDestination, destinationItems, localCheck, readLocal} from '../lib/verify.js'
import {randomTuning, type BackupWorld} from './kill-backup.js'

export const NETWORK_BACKUP = 'network faults: backup'
export const NETWORK_RESTORE = 'network faults: restore'

const BACKUP_FAULTS = ['reset in a literal', 'resets in literals', 'stall over the timeout', 'BYE from the server', 'Dovecot restarted', 'slow link', 'connections refused'] as const
type BackupFault = (typeof BACKUP_FAULTS)[number]
const RESTORE_FAULTS = ['answer to APPEND lost', 'reset in an APPEND literal', 'stall over the timeout', 'Dovecot restarted'] as const
type RestoreFault = (typeof RESTORE_FAULTS)[number]

/** A config timeout (seconds) short enough for a stall to exceed it quickly. */
const TIMEOUT_S = 1

export async function networkScenario(env: ScenarioEnv, world: BackupWorld, options: {restore: boolean}): Promise<void> {
  for (let i = 0; i < env.counts.network; i++) {
    const seed = deriveSeed(env.seed, `network-${i}`)
    const rng = new Rng(seed)
    const home = await env.tempDir('mailkeep-rel-net-')
    const restore = options.restore && rng.chance(0.3)
    const fault = restore ? rng.pick(RESTORE_FAULTS) : rng.pick(BACKUP_FAULTS)
    const scenario = restore ? NETWORK_RESTORE : NETWORK_BACKUP
    env.ledger.count(scenario, fault)
    const check = await env.ledger.run(scenario, `run ${i}: ${fault}`, seed, (check) =>
      restore ? restoreRun(env, world, rng, home, i, fault as RestoreFault, check) : backupRun(env, world, rng, home, fault as BackupFault, check),
    )
    await env.release(home, check.problems.length === 0)
  }
}

const isBodyFetch = (name: string, line: string): boolean => name === 'UID FETCH' && /BODY\.PEEK\[/i.test(line)

/** Arms the fault; returns what undoes it after the run (and any promise it started). */
function armFault(world: BackupWorld, rng: Rng, fault: BackupFault | RestoreFault, match: (name: string, line: string) => boolean): {undo: () => Promise<void>; fired: () => boolean} {
  const {proxy, dovecot, user} = world
  const pending: Array<Promise<unknown>> = []
  let off = (): void => undefined
  const n = rng.int(1, 3)
  const dropsBefore = proxy.stats.drops
  let called = false
  const atCommand = (m: (name: string, line: string) => boolean, k: number, fn: () => void): (() => void) => {
    let seen = 0
    return proxy.onCommand((c) => {
      if (m(c.name, c.line) && ++seen === k) {
        called = true
        fn()
      }
    })
  }
  switch (fault) {
    case 'reset in a literal':
    case 'reset in an APPEND literal':
      off = atCommand(match, n, () => proxy.dropInLiteral({minSize: 512, offset: rng.int(1, 20_000), how: rng.chance(0.7) ? 'reset' : 'end'}))
      break
    case 'resets in literals': {
      let left = rng.int(2, 4)
      off = world.proxy.onCommand((c) => {
        if (left > 0 && match(c.name, c.line) && rng.chance(0.5)) {
          left--
          called = true
          proxy.dropInLiteral({minSize: 512, offset: rng.int(1, 20_000)})
        }
      })
      break
    }
    case 'stall over the timeout':
      off = atCommand(match, n, () => proxy.stall(rng.int(TIMEOUT_S * 1000 + 300, TIMEOUT_S * 1000 + 2500)))
      break
    case 'BYE from the server':
      off = atCommand(match, n, () => pending.push(dovecot.doveadm(['kick', user.user]).catch(() => undefined)))
      break
    case 'Dovecot restarted':
      off = atCommand(match, n, () => pending.push(dovecot.restart()))
      break
    case 'slow link':
      called = true
      proxy.throttle(rng.int(300_000, 900_000))
      break
    case 'connections refused':
      off = atCommand(match, n, () => {
        proxy.dropNow()
        pending.push(
          (async () => {
            await proxy.refuseNew(true, rng.pick(['refuse', 'reset'] as const))
            await sleep(rng.int(300, 2_500))
            await proxy.refuseNew(false)
          })(),
        )
      })
      break
    case 'answer to APPEND lost':
      // The server gets the whole APPEND; the link dies before its answer arrives.
      off = atCommand((name) => name === 'APPEND', rng.int(1, 30), () => setTimeout(() => proxy.dropNow(), rng.int(20, 120)))
      break
  }
  return {
    // A drop that was armed but never happened (the literal was too short) did not fire.
    fired: () => called && (!fault.startsWith('reset') || proxy.stats.drops > dropsBefore),
    undo: async () => {
      off()
      await Promise.allSettled(pending)
      proxy.disarm()
      proxy.resume()
      proxy.throttle(null)
      await proxy.refuseNew(false)
      if (!dovecot.running) await dovecot.restart()
    },
  }
}

async function backupRun(env: ScenarioEnv, world: BackupWorld, rng: Rng, home: string, fault: BackupFault, check: RunCheck): Promise<void> {
  const {cli} = env
  const root = join(home, 'backup', 'alice')
  const folders = rng.sample(world.folders, rng.int(1, 3))
  const config = await writeConfig(home, {
    accounts: [account(serverAt(world.dovecot, world.proxy.port), world.user, root, {folders, multi_fetch_size: rng.pick([5, 30, 100]), connection_options: {port: world.proxy.port, ssl: false, timeout: TIMEOUT_S}})],
    ...randomTuning(rng),
  })
  const tracker = new CommittedTracker()
  // Half the runs are incremental: a first backup, then new mail.
  if (rng.chance(0.5)) {
    const first = await cli.run(home, ['backup'])
    if (!check.expect(first.code === 0, `the first backup failed: ${describeRun(first)}`)) return
    tracker.observe(check, await readLocal(check, root, folders), 'after the first backup')
    await addMail(world.dovecot, world.user, rng, rng.pick(folders), rng.int(20, 150), undefined, 'net')
  }
  const armed = armFault(world, rng, fault, isBodyFetch)
  let result
  try {
    result = await cli.run(home, ['backup', '--json'])
  } finally {
    await armed.undo()
  }
  const report = jsonReport<{exitCode: number; accounts: Array<{folders: Array<{folder: string; outcome: string; error?: {message: string}}>}>}>(result)
  check.expect(result.code === 0 || result.code === 4, `${fault}: expected exit 0 or 4: ${describeRun(result)}`)
  env.ledger.count(NETWORK_BACKUP, result.code === 0 ? 'finished' : 'reported incomplete')
  if (!armed.fired()) env.ledger.count(NETWORK_BACKUP, 'fault not reached')
  if (result.code === 4) {
    const failed = report?.accounts.flatMap((a) => a.folders).filter((f) => f.outcome === 'failed') ?? []
    check.expect(failed.length > 0 && failed.every((f) => (f.error?.message ?? '') !== ''), `${fault}: exit 4 without a failed folder and its reason in the report`)
  }
  for (const folder of folders) await checkAtSavepoint(check, root, folder)
  tracker.observe(check, await readLocal(check, root, folders), `after the run with ${fault}`)
  await compareBackup(check, world.dovecot, world.user, root, folders, {partial: result.code !== 0})

  const rerun = await cli.run(home, ['backup'])
  if (!check.expect(rerun.code === 0, `the clean rerun failed: ${describeRun(rerun)}`)) return
  tracker.observe(check, await readLocal(check, root, folders), 'after the rerun')
  await compareBackup(check, world.dovecot, world.user, root, folders)
  await localCheck(check, config)
}

async function restoreRun(env: ScenarioEnv, world: BackupWorld, rng: Rng, home: string, i: number, fault: RestoreFault, check: RunCheck): Promise<void> {
  const {cli} = env
  const root = join(home, 'alice')
  const bob = world.dovecot.users[1]!
  const folders = rng.sample(world.folders, rng.int(1, 2))
  // The backup to restore comes straight from the server; bob is behind the faulty proxy.
  await writeConfig(home, {
    accounts: [
      account(world.dovecot, world.user, root, {folders}),
      account(serverAt(world.dovecot, world.proxy.port), bob, join(home, 'bob'), {connection_options: {port: world.proxy.port, ssl: false, timeout: TIMEOUT_S}}),
    ],
  })
  const first = await cli.run(home, ['backup'])
  if (!check.expect(first.code === 0, `the backup to restore failed: ${describeRun(first)}`)) return
  const prefix = `net${i}-${rng.int(0, 1e6)}`
  const args = ['restore', world.user.user, '--to', bob.user, '--prefix', `${prefix}/`]
  const armed = armFault(world, rng, fault, (name) => name === 'APPEND')
  let result
  try {
    result = await cli.run(home, [...args, '--json'])
  } finally {
    await armed.undo()
  }
  check.expect(result.code === 0 || result.code === 4, `${fault}: expected exit 0 or 4: ${describeRun(result)}`)
  env.ledger.count(NETWORK_RESTORE, result.code === 0 ? 'finished' : 'reported incomplete')
  if (!armed.fired()) env.ledger.count(NETWORK_RESTORE, 'fault not reached')
  const rerun = await cli.run(home, args)
  if (!check.expect(rerun.code === 0, `the clean restore rerun failed: ${describeRun(rerun)}`)) return
  for (const folder of folders) {
    const source = await backupItems(root, folder)
    if (source.length === 0) continue
    const target = destinationName(folder, {source: {prefix: '', delimiter: '/'}, destination: {prefix: `${prefix}/`, delimiter: '/'}, inboxToInbox: false})
    compareDestination(check, `'${folder}' → '${target}'`, await destinationItems(world.dovecot, bob, target).catch(() => []), source)
  }
}
