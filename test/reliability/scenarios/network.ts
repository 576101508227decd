/**
 * Network faults through the loopback proxy the test controls, during a real `mailkeep backup`
 * (and `mailkeep restore`): a reset in the middle of a FETCH literal (once or several times), a
 * stall longer than the configured timeout, the server closing with BYE (`doveadm kick`), Dovecot
 * restarted mid-run, a slow (throttled) link, new connections refused for a while, and for restore
 * the link cut right after an APPEND was sent (its answer lost). The run must finish (exit 0) or
 * report folders as incomplete (exit 4, each listed); a stall or a BYE is transient, so there the
 * run must log in again and finish with exit 0 and a complete result. What it stored is
 * byte-exact and at a savepoint, nothing committed is lost, nothing is stored or uploaded twice;
 * a clean rerun completes.
 *
 * The runs go round robin over the fault kinds, each with random parameters, so every kind is
 * covered; a run whose fault never fired is tallied apart and its kind tried again, and the suite
 * asserts each kind fired in its share of the runs.
 */
import {join} from 'node:path'
import {destinationName} from '../../../src/engine/upload/folder-mapping.js'
import {serverAt} from '../../support/mail-seed.js'
import {describe as describeRun, jsonReport} from '../lib/cli.js'
import {account, writeConfig, type ScenarioEnv} from '../lib/env.js'
import type {RunCheck} from '../lib/ledger.js'
import {addMail} from '../lib/mail.js'
import {Rng, deriveSeed, sleep} from '../lib/rng.js'
import {SessionWatch} from '../lib/session-watch.js'
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

/**
 * Transient faults the run must ride out: it reconnects (a new LOGIN after the fault) and
 * finishes with exit 0 and a complete backup or restore, not merely "0 or 4".
 */
const MUST_RECOVER: ReadonlySet<string> = new Set(['stall over the timeout', 'BYE from the server'])

interface Slot {
  scenario: string
  fault: BackupFault | RestoreFault
  restore: boolean
}

/** The notes counter of runs in which `fault` fired (the suite asserts each kind's minimum). */
export const firedNote = (fault: string): string => `fired: ${fault}`
const NOT_FIRED = 'runs whose fault never fired (not counted)'

/** Runs of one kind in a row whose fault did not fire before the slot gives up. */
const ATTEMPTS_PER_SLOT = 3

export async function networkScenario(env: ScenarioEnv, world: BackupWorld, options: {restore: boolean}): Promise<void> {
  // Round robin over every fault kind (random parameters each time), so any count covers all of
  // them; each kind must fire in at least its share of the runs.
  const slots: Slot[] = [
    ...BACKUP_FAULTS.map((fault) => ({scenario: NETWORK_BACKUP, fault, restore: false})),
    ...(options.restore ? RESTORE_FAULTS.map((fault) => ({scenario: NETWORK_RESTORE, fault, restore: true})) : []),
  ]
  const runs = Math.max(env.counts.network, slots.length)
  for (const slot of slots) env.ledger.atLeast(slot.scenario, firedNote(slot.fault), Math.floor(runs / slots.length) + (slots.indexOf(slot) < runs % slots.length ? 1 : 0))
  for (let i = 0; i < runs; i++) {
    const slot = slots[i % slots.length]!
    // A run whose fault did not fire (the folder had fewer FETCHes than drawn, the run was over
    // before the kick) is tallied apart and the kind is tried again, with the earliest trigger.
    for (let attempt = 0; attempt < ATTEMPTS_PER_SLOT; attempt++) {
      const seed = deriveSeed(env.seed, `network-${i}-${attempt}`)
      const rng = new Rng(seed)
      const home = await env.tempDir('mailkeep-rel-net-')
      let fired = false
      const check = await env.ledger.run(slot.scenario, `run ${i}.${attempt}: ${slot.fault}`, seed, async (check) => {
        const early = attempt > 0
        fired = slot.restore
          ? await restoreRun(env, world, rng, home, i * ATTEMPTS_PER_SLOT + attempt, slot.fault as RestoreFault, early, check)
          : await backupRun(env, world, rng, home, slot.fault as BackupFault, early, check)
      })
      await env.release(home, check.problems.length === 0)
      env.ledger.count(slot.scenario, fired ? firedNote(slot.fault) : NOT_FIRED)
      if (fired) break
    }
  }
}

const isBodyFetch = (name: string, line: string): boolean => name === 'UID FETCH' && /BODY\.PEEK\[/i.test(line)
const isLogin = (name: string): boolean => name === 'LOGIN' || name === 'AUTHENTICATE'

interface ArmedFault {
  /** The fault happened while the run was working (see `armFault`). */
  fired(): boolean
  /** A new session logged in after the fault fired. */
  reconnected(): boolean
  undo(): Promise<void>
}

/**
 * Arms the fault at the n-th command that `match`es (`early`: the first). It *fired* when it hit
 * the run while it was working: a drop that happened (the literal was long enough), a stall or a
 * restart that began while a session was working, a BYE (`doveadm kick`) that completed while one
 * was, a slow link always.
 */
function armFault(world: BackupWorld, rng: Rng, fault: BackupFault | RestoreFault, match: (name: string, line: string) => boolean, early: boolean): ArmedFault {
  const {proxy, dovecot, user} = world
  const sessions = new SessionWatch([proxy])
  const pending: Array<Promise<unknown>> = []
  let off = (): void => undefined
  /** Listeners a fault adds once it struck, removed by undo(). */
  const offsAfter: Array<() => void> = []
  const n = early ? 1 : rng.int(1, 3)
  const dropsBefore = proxy.stats.drops
  let hit = false
  let logins = 0
  let loginsAtFault: number | undefined
  const offLogins = proxy.onCommand((c) => {
    if (isLogin(c.name)) logins++
  })
  /** The fault struck now, if a session is working; logins after `base` are reconnects. */
  const strike = (base = logins): void => {
    if (hit || sessions.phase() !== 'working') return
    hit = true
    loginsAtFault = base
  }
  const atCommand = (m: (name: string, line: string) => boolean, k: number, fn: () => void): (() => void) => {
    let seen = 0
    return proxy.onCommand((c) => {
      if (m(c.name, c.line) && ++seen === k) fn()
    })
  }
  switch (fault) {
    case 'reset in a literal':
      off = atCommand(match, n, () => {
        strike()
        proxy.dropInLiteral({minSize: 512, offset: rng.int(1, 20_000), how: rng.chance(0.7) ? 'reset' : 'end'})
      })
      break
    case 'reset in an APPEND literal':
      // The proxy sees an APPEND once its literal has arrived, before the last of it is passed on:
      // cutting the link there leaves the server in the middle of the literal.
      off = atCommand(match, n, () => {
        strike()
        proxy.dropNow(rng.chance(0.7) ? 'reset' : 'end')
      })
      break
    case 'resets in literals': {
      let left = rng.int(2, 4)
      let seen = 0
      off = world.proxy.onCommand((c) => {
        if (left > 0 && match(c.name, c.line) && (++seen === 1 || rng.chance(0.5))) {
          left--
          strike()
          proxy.dropInLiteral({minSize: 512, offset: rng.int(1, 20_000)})
        }
      })
      break
    }
    case 'stall over the timeout':
      off = atCommand(match, n, () => {
        strike()
        proxy.stall(rng.int(TIMEOUT_S * 1000 + 300, TIMEOUT_S * 1000 + 2500))
      })
      break
    case 'BYE from the server':
      off = atCommand(match, n, () => {
        const base = logins
        pending.push(
          dovecot.doveadm(['kick', user.user]).then(
            () => {
              // The kick ends every session of the user, but it takes a process start to get
              // there: a run that had already sent its last command (it was writing its commit)
              // needs no server any more, and has nothing to reconnect for. The BYE hit the run
              // only if it sends a command after it; all its sessions are gone then, so that
              // command is a new session's and `reconnected` must hold.
              if (sessions.phase() !== 'working') return
              const offNext = proxy.onCommand((c) => {
                offNext()
                if (c.name !== 'LOGOUT') strike(base)
              })
              offsAfter.push(offNext)
            },
            () => undefined,
          ),
        )
      })
      break
    case 'Dovecot restarted':
      off = atCommand(match, n, () => {
        strike()
        pending.push(dovecot.restart())
      })
      break
    case 'slow link':
      hit = true
      proxy.throttle(rng.int(300_000, 900_000))
      break
    case 'connections refused':
      off = atCommand(match, n, () => {
        strike()
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
      off = atCommand((name) => name === 'APPEND', early ? 1 : rng.int(1, 30), () =>
        setTimeout(() => {
          strike()
          proxy.dropNow()
        }, rng.int(20, 120)),
      )
      break
  }
  return {
    fired: () => hit && (!fault.startsWith('reset') || proxy.stats.drops > dropsBefore),
    reconnected: () => loginsAtFault !== undefined && logins > loginsAtFault,
    undo: async () => {
      off()
      for (const offAfter of offsAfter) offAfter()
      offLogins()
      sessions.close()
      await Promise.allSettled(pending)
      proxy.disarm()
      proxy.resume()
      proxy.throttle(null)
      await proxy.refuseNew(false)
      if (!dovecot.running) await dovecot.restart()
    },
  }
}

/** Checks what a fault that must be ridden out requires of the run that had it. */
function expectRecovered(check: RunCheck, armed: ArmedFault, fault: string, result: {code: number | null}, output: string): void {
  if (!MUST_RECOVER.has(fault) || !armed.fired()) return
  check.expect(armed.reconnected(), `${fault}: the run did not log in again after the fault`)
  check.expect(result.code === 0, `${fault} is transient: expected the run to reconnect and finish with exit 0: ${output}`)
}

/** One backup through the fault; returns whether the fault fired. */
async function backupRun(env: ScenarioEnv, world: BackupWorld, rng: Rng, home: string, fault: BackupFault, early: boolean, check: RunCheck): Promise<boolean> {
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
    if (!check.expect(first.code === 0, `the first backup failed: ${describeRun(first)}`)) return false
    tracker.observe(check, await readLocal(check, root, folders), 'after the first backup')
    await addMail(world.dovecot, world.user, rng, rng.pick(folders), rng.int(20, 150), undefined, 'net')
  }
  const armed = armFault(world, rng, fault, isBodyFetch, early)
  let result
  try {
    result = await cli.run(home, ['backup', '--json'])
  } finally {
    await armed.undo()
  }
  const report = jsonReport<{exitCode: number; accounts: Array<{folders: Array<{folder: string; outcome: string; error?: {message: string}}>}>}>(result)
  check.expect(result.code === 0 || result.code === 4, `${fault}: expected exit 0 or 4: ${describeRun(result)}`)
  expectRecovered(check, armed, fault, result, describeRun(result))
  if (armed.fired()) env.ledger.count(NETWORK_BACKUP, result.code === 0 ? 'finished' : 'reported incomplete')
  if (armed.reconnected()) env.ledger.count(NETWORK_BACKUP, 'logged in again after the fault')
  if (result.code === 4) {
    const failed = report?.accounts.flatMap((a) => a.folders).filter((f) => f.outcome === 'failed') ?? []
    check.expect(failed.length > 0 && failed.every((f) => (f.error?.message ?? '') !== ''), `${fault}: exit 4 without a failed folder and its reason in the report`)
  }
  for (const folder of folders) await checkAtSavepoint(check, root, folder)
  tracker.observe(check, await readLocal(check, root, folders), `after the run with ${fault}`)
  await compareBackup(check, world.dovecot, world.user, root, folders, {partial: result.code !== 0})

  const rerun = await cli.run(home, ['backup'])
  if (check.expect(rerun.code === 0, `the clean rerun failed: ${describeRun(rerun)}`)) {
    tracker.observe(check, await readLocal(check, root, folders), 'after the rerun')
    await compareBackup(check, world.dovecot, world.user, root, folders)
    await localCheck(check, config)
  }
  return armed.fired()
}

/** One restore through the fault; returns whether the fault fired. */
async function restoreRun(env: ScenarioEnv, world: BackupWorld, rng: Rng, home: string, i: number, fault: RestoreFault, early: boolean, check: RunCheck): Promise<boolean> {
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
  if (!check.expect(first.code === 0, `the backup to restore failed: ${describeRun(first)}`)) return false
  const prefix = `net${i}-${rng.int(0, 1e6)}`
  const args = ['restore', world.user.user, '--to', bob.user, '--prefix', `${prefix}/`]
  const armed = armFault(world, rng, fault, (name) => name === 'APPEND', early)
  let result
  try {
    result = await cli.run(home, [...args, '--json'])
  } finally {
    await armed.undo()
  }
  check.expect(result.code === 0 || result.code === 4, `${fault}: expected exit 0 or 4: ${describeRun(result)}`)
  expectRecovered(check, armed, fault, result, describeRun(result))
  if (armed.fired()) env.ledger.count(NETWORK_RESTORE, result.code === 0 ? 'finished' : 'reported incomplete')
  if (armed.reconnected()) env.ledger.count(NETWORK_RESTORE, 'logged in again after the fault')
  const compare = async (when: string): Promise<void> => {
    for (const folder of folders) {
      const source = await backupItems(root, folder)
      if (source.length === 0) continue
      const target = destinationName(folder, {source: {prefix: '', delimiter: '/'}, destination: {prefix: `${prefix}/`, delimiter: '/'}, inboxToInbox: false})
      compareDestination(check, `${when}: '${folder}' → '${target}'`, await destinationItems(world.dovecot, bob, target).catch(() => []), source)
    }
  }
  // A run that finished is complete on its own, before any rerun.
  if (result.code === 0) await compare('after the run with the fault')
  const rerun = await cli.run(home, args)
  if (check.expect(rerun.code === 0, `the clean restore rerun failed: ${describeRun(rerun)}`)) await compare('after the rerun')
  return armed.fired()
}
