/**
 * Two mailkeeps on one account at once. A second `backup` while one runs is refused (exit 5,
 * naming the running one's pid) and changes nothing; `restore` while a backup writes, and `backup`
 * while a restore reads, are refused the same way; two restores of one account do not run
 * together; `local check` during a backup is refused. The one that runs completes, and the end
 * result is right: the backup equals the server, the destination has every message once.
 */
import {join} from 'node:path'
import {destinationName} from '../../../src/engine/folder-mapping.js'
import {serverAt} from '../../support/mail-seed.js'
import type {Spawned} from '../lib/cli.js'
import {describe as describeRun} from '../lib/cli.js'
import {account, writeConfig, type ScenarioEnv} from '../lib/env.js'
import type {RunCheck} from '../lib/ledger.js'
import {addMail} from '../lib/mail.js'
import {Rng, deriveSeed, sleep} from '../lib/rng.js'
import {backupItems, compareBackup, compareDestination, destinationItems, localCheck} from '../lib/verify.js'
import type {BackupWorld} from './kill-backup.js'

export const CONCURRENCY = 'concurrency'

type Case = 'two backups' | 'restore during a backup' | 'backup during a restore' | 'two restores' | 'local check during a backup'
const CASES: readonly Case[] = ['two backups', 'restore during a backup', 'backup during a restore', 'two restores', 'local check during a backup']

export async function concurrencyScenario(env: ScenarioEnv, world: BackupWorld, options: {restore: boolean}): Promise<void> {
  const cases = CASES.filter((c) => options.restore || !c.includes('restore'))
  for (let round = 0; round < env.counts.concurrencyRounds; round++) {
    for (const c of cases) {
      const seed = deriveSeed(env.seed, `concurrency-${round}-${c}`)
      const home = await env.tempDir('mailkeep-rel-conc-')
      const check = await env.ledger.run(CONCURRENCY, c, seed, (check) => runCase(env, world, c, new Rng(seed), home, round, check))
      await env.release(home, check.problems.length === 0)
    }
  }
}

/** Resolves once the proxy saw `n` body FETCHes or APPENDs since now (the first run is under way). */
function busy(world: BackupWorld, name: 'UID FETCH' | 'APPEND', n = 1): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0
    const off = world.proxy.onCommand((c) => {
      if (c.name === name && (name === 'APPEND' || /BODY\.PEEK\[/i.test(c.line)) && ++seen >= n) {
        off()
        resolve()
      }
    })
  })
}

async function runCase(env: ScenarioEnv, world: BackupWorld, c: Case, rng: Rng, home: string, round: number, check: RunCheck): Promise<void> {
  const {cli} = env
  const root = join(home, 'backup', 'alice')
  const bob = world.dovecot.users[1]!
  // A folder of its own, about 1–2 MB: long enough on the slowed link for the second command.
  const folder = `Concurrency/${round}-${CASES.indexOf(c)}-${rng.int(0, 1e6)}`
  await addMail(world.dovecot, world.user, rng, folder, rng.int(60, 120), {medium: 0.15, big: 0, bigMin: 0, bigMax: 0, corpus: 0.1}, 'conc')
  const prefix = `cc${round}-${rng.int(0, 1e6)}`
  const viaProxy = serverAt(world.dovecot, world.proxy.port)
  const restoreFirst = c === 'backup during a restore' || c === 'two restores'
  // The first command is slowed down by the proxy: alice's link for a backup, bob's for a restore.
  const config = await writeConfig(home, {
    accounts: [account(restoreFirst ? world.dovecot : viaProxy, world.user, root, {folders: [folder]}), account(restoreFirst ? viaProxy : world.dovecot, bob, join(home, 'bob'))],
    savepoint_messages: 20,
  })
  const restoreArgs = ['restore', world.user.user, '--to', bob.user, '--prefix', `${prefix}/`]
  if (restoreFirst) {
    const prepared = await cli.run(home, ['backup'])
    if (!check.expect(prepared.code === 0, `the backup to restore failed: ${describeRun(prepared)}`)) return
  }

  world.proxy.throttle(rng.int(100_000, 200_000))
  let first: Spawned | undefined
  try {
    first = cli.spawn(home, restoreFirst ? restoreArgs : ['backup'])
    await Promise.race([busy(world, restoreFirst ? 'APPEND' : 'UID FETCH'), first.exited, sleep(60_000)])
    if (first.child.exitCode !== null) {
      check.problem(`${c}: the first command ended before the second started: ${describeRun(await first.exited)}`)
      return
    }
    const secondArgs = c === 'two backups' || c === 'backup during a restore' ? ['backup'] : c === 'local check during a backup' ? ['local', 'check'] : [...restoreArgs]
    const second = await cli.run(home, secondArgs)
    const said = second.stdout + second.stderr
    env.ledger.count(CONCURRENCY, `second exit ${second.code}`)
    check.expect(second.code === 5, `${c}: the second command (${secondArgs.join(' ')}) exit ${second.code}, expected 5 (LOCKED): ${describeRun(second)}`)
    // A writer's lock names its pid; readers share theirs, and the message says a reader has it.
    if (restoreFirst) check.expect(said.includes(`pid ${first.pid}`) || /being read by another mailkeep/.test(said), `${c}: the refusal does not say who holds the account: ${describeRun(second)}`)
    else check.expect(said.includes(`pid ${first.pid}`), `${c}: the refusal does not name the running process (pid ${first.pid}): ${describeRun(second)}`)
  } finally {
    world.proxy.throttle(null)
  }
  const done = await first.exited
  check.expect(done.code === 0, `${c}: the first command failed: ${describeRun(done)}`)

  // The end result is right: the backup equals the server, the restore put everything once.
  const backup = await cli.run(home, ['backup'])
  check.expect(backup.code === 0, `${c}: the backup afterwards failed: ${describeRun(backup)}`)
  await compareBackup(check, world.dovecot, world.user, root, [folder])
  await localCheck(check, config)
  if (c.includes('restore')) {
    const restore = await cli.run(home, restoreArgs)
    check.expect(restore.code === 0, `${c}: the restore afterwards failed: ${describeRun(restore)}`)
    const source = await backupItems(root, folder)
    const target = destinationName(folder, {source: {prefix: '', delimiter: '/'}, destination: {prefix: `${prefix}/`, delimiter: '/'}, inboxToInbox: false})
    compareDestination(check, `'${folder}' → '${target}'`, await destinationItems(world.dovecot, bob, target).catch(() => []), source)
  }
}
