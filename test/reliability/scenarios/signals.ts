/**
 * SIGINT and SIGTERM at random moments of a running `mailkeep backup` (after it started working:
 * a signal while Node is still loading ends it the default way, before mailkeep has done
 * anything), and of `mailkeep restore`: it exits 130/143, every folder is exactly at a savepoint
 * (no journal, the mbox ends at the last committed entry), the rollback kept everything that was
 * committed when the signal went out (read from the `.imap` and journal right before it, and
 * polled while it ran: lib/commit-watch.ts), the account's lock is free, and a rerun completes and
 * equals the server (restore: every message once on the destination).
 *
 * Only signals that land while the process works count (lib/session-watch.ts); the suite asserts
 * at least `signals` of them for backup and half as many for restore. A run that finished before
 * its signal is tallied apart.
 */
import {join} from 'node:path'
import {silentLogger} from '../../../src/shared/logger.js'
import {AccountStore} from '../../../src/store/account-store.js'
import {destinationName} from '../../../src/engine/upload/folder-mapping.js'
import {serverAt} from '../../support/mail-seed.js'
import {describe as describeRun} from '../lib/cli.js'
import {account, writeConfig, type ScenarioEnv} from '../lib/env.js'
import {arm, describeTrigger, randomTrigger, type TriggerKind} from '../lib/kill-point.js'
import type {RunCheck} from '../lib/ledger.js'
import {addMail} from '../lib/mail.js'
import {Rng, deriveSeed} from '../lib/rng.js'
import {SessionWatch, phaseNote, type RunPhase} from '../lib/session-watch.js'
import {CommitWatch} from '../lib/commit-watch.js'
import {CommittedTracker, backupItems, checkAtSavepoint, compareBackup, compareDestination, destinationItems, localCheck, readLocal} from '../lib/verify.js'
import {randomTuning, type BackupWorld} from './kill-backup.js'

export const SIGNALS_BACKUP = 'SIGINT/SIGTERM backup'
export const SIGNALS_RESTORE = 'SIGINT/SIGTERM restore'

const SIGNALS = [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const

const TRIGGERS: readonly TriggerKind[] = ['delay', 'delay', 'login', 'examine', 'fetch', 'savepoint', 'savepoint']

/** Signals that count: the process was working (lib/session-watch.ts) when the signal went out. */
export const SIGNALS_WORKING = phaseNote('signals', 'working')

export async function signalsScenario(env: ScenarioEnv, world: BackupWorld, options: {restore: boolean}): Promise<void> {
  const {ledger} = env
  const wanted = {backup: env.counts.signals, restore: options.restore ? Math.ceil(env.counts.signals / 2) : 0}
  ledger.atLeast(SIGNALS_BACKUP, SIGNALS_WORKING, wanted.backup)
  if (options.restore) ledger.atLeast(SIGNALS_RESTORE, SIGNALS_WORKING, wanted.restore)
  const landed = {backup: 0, restore: 0}
  // Bounded: signals that never land must end in a failed minimum, not an endless loop.
  const maxTrials = Math.max(wanted.backup, wanted.restore) * 3
  for (let trial = 0; (landed.backup < wanted.backup || landed.restore < wanted.restore) && trial < maxTrials; trial++) {
    const seed = deriveSeed(env.seed, `signals-${trial}`)
    const rng = new Rng(seed)
    const home = await env.tempDir('mailkeep-rel-signal-')
    // Each trial backs up (signalled while the backup target is not reached), then restores that
    // backup, signalled, while the restore target is not reached.
    const check = await ledger.run(SIGNALS_BACKUP, `trial ${trial}`, seed, async (check) => {
      landed.backup += await backupTrial(env, world, rng, home, Math.min(2, Math.max(0, wanted.backup - landed.backup)), check)
    })
    let passed = check.problems.length === 0
    if (passed && landed.restore < wanted.restore) {
      const restored = await ledger.run(SIGNALS_RESTORE, `trial ${trial}`, seed, async (check) => {
        landed.restore += await restoreTrial(env, world, rng, home, trial, check)
      })
      passed = restored.problems.length === 0
    }
    await env.release(home, passed)
    env.progress(`signals: trial ${trial}, ${landed.backup} backup and ${landed.restore} restore signals while working so far`)
  }
}

/** Returns the number of signals that landed while the backup was working. */
async function backupTrial(env: ScenarioEnv, world: BackupWorld, rng: Rng, home: string, wanted: number, check: RunCheck): Promise<number> {
  const {ledger, cli} = env
  const root = join(home, 'backup', 'alice')
  const folders = rng.sample(world.folders, rng.int(1, world.folders.length))
  const tuning = randomTuning(rng)
  const config = await writeConfig(home, {
    accounts: [account(serverAt(world.dovecot, world.proxy.port), world.user, root, {folders, multi_fetch_size: rng.pick([1, 10, 100])})],
    ...tuning,
  })
  const tracker = new CommittedTracker()
  let landed = 0
  let idle = false
  for (let attempt = 0; landed < wanted && attempt < wanted * 3; attempt++) {
    if (idle || rng.chance(0.3)) await addMail(world.dovecot, world.user, rng, rng.pick(folders), rng.int(idle ? 30 : 1, idle ? 120 : 20), undefined, 'arrived')
    const [signal, code] = rng.pick(SIGNALS)
    const trigger = randomTrigger(rng, TRIGGERS)
    world.proxy.throttle(rng.pick([1_000_000, 300_000, 100_000]))
    const sessions = new SessionWatch([world.proxy])
    const commits = new CommitWatch(root, folders)
    const run = cli.spawn(home, ['backup', ...(rng.chance(0.5) ? ['--json'] : [])])
    let phase = 'starting' as RunPhase
    const disarm = arm(trigger, () => {
      phase = sessions.phase()
      // What was committed when the signal went out: the rollback must keep all of it.
      commits.mark()
      run.kill(signal)
    }, {proxy: world.proxy, root, folders, fallbackMs: rng.int(200, 2_000)})
    const result = await run.exited
    disarm()
    sessions.close()
    await commits.stop()
    world.proxy.throttle(null)
    const what = `${signal} at ${describeTrigger(trigger)} (${JSON.stringify(tuning)})`
    if (result.code === 0) {
      idle = true
      ledger.count(SIGNALS_BACKUP, 'finished before the signal')
      continue
    }
    idle = false
    ledger.count(SIGNALS_BACKUP, phaseNote('signals', phase))
    if (phase === 'working') {
      landed++
      ledger.count(SIGNALS_BACKUP, signal)
    }
    check.expect(result.code === code, `${what}: ${describeRun(result)}`)
    check.expect(result.stderr.includes(`received ${signal}`), `${what}: stderr does not say 'received ${signal}'`)
    check.expect(!/internal error|^\s+at /m.test(result.stderr), `${what}: a stack trace or internal error was printed`)
    for (const folder of folders) await checkAtSavepoint(check, root, folder)
    const kept = commits.expectKept(check, what)
    ledger.count(SIGNALS_BACKUP, 'committed at the signal', kept.atMark)
    ledger.count(SIGNALS_BACKUP, 'committed after it, before the rollback', kept.final - kept.atMark)
    await expectLockFree(check, root, what)
    tracker.observe(check, await readLocal(check, root, folders), `after ${what}`)
  }
  const rerun = await cli.run(home, ['backup'])
  if (!check.expect(rerun.code === 0, `the rerun failed: ${describeRun(rerun)}`)) return landed
  tracker.observe(check, await readLocal(check, root, folders), 'after the rerun')
  await compareBackup(check, world.dovecot, world.user, root, folders)
  await localCheck(check, config)
  return landed
}

/** The account's lock is free: an exclusive open succeeds at once. */
async function expectLockFree(check: RunCheck, root: string, what: string): Promise<void> {
  try {
    const store = await AccountStore.open(root, {mode: 'write', logger: silentLogger})
    await store.close()
  } catch (error) {
    check.problem(`${what}: the account's lock is not free: ${String(error)}`)
  }
}

/**
 * Restores the trial's backup to bob, signalled at a random APPEND (or a random time after the
 * login), then reruns it: every message once on the destination. Returns 1 when the signal
 * landed while the restore was working.
 */
async function restoreTrial(env: ScenarioEnv, world: BackupWorld, rng: Rng, home: string, trial: number, check: RunCheck): Promise<number> {
  const {ledger, cli} = env
  const root = join(home, 'backup', 'alice')
  const bob = world.dovecot.users[1]!
  const prefix = `sig${trial}-${rng.int(0, 1e6)}`
  const store = await AccountStore.open(root, {mode: 'read', logger: silentLogger})
  const folders = (await store.listFolders()).map((f) => f.name)
  await store.close()
  await writeConfig(home, {accounts: [account(world.dovecot, world.user, root), account(serverAt(world.dovecot, world.proxy.port), bob, join(home, 'bob'))]})
  const args = ['restore', world.user.user, '--to', bob.user, '--prefix', `${prefix}/`]
  const [signal, code] = rng.pick(SIGNALS)
  const trigger = randomTrigger(rng, ['append', 'append', 'delay'])
  world.proxy.throttle(rng.pick([1_000_000, 300_000]))
  const sessions = new SessionWatch([world.proxy])
  const run = cli.spawn(home, args)
  let phase = 'starting' as RunPhase
  const disarm = arm(trigger, () => {
    phase = sessions.phase()
    run.kill(signal)
  }, {proxy: world.proxy, fallbackMs: rng.int(200, 1_500)})
  const result = await run.exited
  disarm()
  sessions.close()
  world.proxy.throttle(null)
  const what = `${signal} at ${describeTrigger(trigger)}`
  let landed = 0
  if (result.code === 0) ledger.count(SIGNALS_RESTORE, 'finished before the signal')
  else {
    ledger.count(SIGNALS_RESTORE, phaseNote('signals', phase))
    if (phase === 'working') {
      landed = 1
      ledger.count(SIGNALS_RESTORE, signal)
    }
    check.expect(result.code === code, `${what}: ${describeRun(result)}`)
    check.expect(!/internal error|^\s+at /m.test(result.stderr), `${what}: a stack trace or internal error was printed`)
    await expectLockFree(check, root, what)
  }
  const rerun = await cli.run(home, args)
  if (!check.expect(rerun.code === 0, `the restore rerun failed: ${describeRun(rerun)}`)) return landed
  for (const folder of folders) {
    const target = destinationName(folder, {source: {prefix: '', delimiter: '/'}, destination: {prefix: `${prefix}/`, delimiter: '/'}, inboxToInbox: false})
    const source = await backupItems(root, folder)
    if (source.length === 0) continue
    compareDestination(check, `'${folder}' → '${target}'`, await destinationItems(world.dovecot, bob, target).catch(() => []), source)
  }
  return landed
}
