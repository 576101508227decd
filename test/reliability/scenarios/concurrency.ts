/**
 * Two mailkeeps on one account at once. A second `backup` while one runs is refused (exit 5,
 * naming the running one's pid) and changes nothing (checked while the first is stopped with
 * SIGSTOP, so every change seen is the second's: files under both account directories, the
 * destination folder, writing commands through the proxy); `restore` while a backup writes, and `backup`
 * while a restore reads, are refused the same way; two restores of one account do not run
 * together. `local check` during a backup is not refused: it checks what the backup has
 * committed so far (docs/design.md, "Readers"), finds no damage, names the backup's pid, and
 * changes nothing. The one that runs completes, and the end result is right: the backup equals
 * the server, the destination has every message once.
 */
import {lstat, readdir, readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {destinationName} from '../../../src/engine/upload/folder-mapping.js'
import type {TestUser} from '../../support/dovecot.js'
import {listUids, serverAt} from '../../support/mail-seed.js'
import type {CliResult} from '../../support/cli.js'
import type {Spawned} from '../lib/cli.js'
import {describe as describeRun} from '../lib/cli.js'
import {account, writeConfig, type ScenarioEnv} from '../lib/env.js'
import type {RunCheck} from '../lib/ledger.js'
import {addMail} from '../lib/mail.js'
import {Rng, deriveSeed, sleep} from '../lib/rng.js'
import {backupItems, compareBackup, compareDestination, destinationItems, localCheck, sha256} from '../lib/verify.js'
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

/** Commands that change a mailbox: a refused run may send none of them. */
const WRITING: ReadonlySet<string> = new Set(['APPEND', 'STORE', 'UID STORE', 'EXPUNGE', 'UID EXPUNGE', 'CREATE', 'DELETE', 'RENAME', 'COPY', 'UID COPY', 'MOVE', 'UID MOVE'])

/**
 * Stops a process and waits until every one of its threads is stopped: a write already in a
 * system call (libuv's thread pool) finishes first, so afterwards nothing of it is in flight.
 */
async function freeze(pid: number): Promise<void> {
  process.kill(pid, 'SIGSTOP')
  for (let waited = 0; ; waited += 5) {
    const tasks = await readdir(`/proc/${pid}/task`).catch(() => [])
    const states = await Promise.all(tasks.map((t) => readFile(`/proc/${pid}/task/${t}/stat`, 'utf8').then((st) => st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3), () => 'T')))
    if (states.every((st) => st === 'T' || st === 't')) return
    if (waited > 10_000) throw new Error(`process ${pid} did not stop within 10 s (thread states ${states.join('')})`)
    await sleep(5)
  }
}

function thaw(pid: number): void {
  try {
    process.kill(pid, 'SIGCONT')
  } catch {
    // It is gone: its exit status tells the rest.
  }
}

/** Every file and directory under `root`: kind, size, inode, mode, mtime and content hash. */
async function snapshot(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, {withFileTypes: true}).catch(() => [])
    for (const e of entries) {
      const path = join(dir, e.name)
      const st = await lstat(path)
      if (e.isDirectory()) {
        out.set(path, `dir mode ${st.mode.toString(8)}`)
        await walk(path)
      } else {
        const content = e.isFile() ? sha256(await readFile(path)) : 'not a file'
        out.set(path, `size ${st.size} ino ${st.ino} mode ${st.mode.toString(8)} mtime ${st.mtimeMs} sha ${content}`)
      }
    }
  }
  await walk(root)
  return out
}

function diffSnapshots(before: Map<string, string>, after: Map<string, string>): string[] {
  const out: string[] = []
  for (const [path, was] of before) {
    const now = after.get(path)
    if (now === undefined) out.push(`${path} removed`)
    else if (now !== was) out.push(`${path}: ${was} → ${now}`)
  }
  for (const path of after.keys()) if (!before.has(path)) out.push(`${path} created`)
  return out
}

/** bob's destination folder's UIDs as one string ('' when it does not exist). */
async function destinationUids(world: BackupWorld, bob: TestUser, folder: string): Promise<string> {
  return (await listUids(world.dovecot, bob, folder).catch(() => [])).join(',')
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
    // The refused command must change nothing. The first one is stopped (SIGSTOP, every thread)
    // while the second runs, so whatever changes on disk meanwhile was done by the second:
    // alice's account directory (every file's size, hash, inode, mode and mtime) must stay as it
    // is. (A second `backup` also backs up bob, whose account is free: bob's directory may change.)
    // On the servers: no writing command on a connection the second opened, and when the first
    // is a backup (nothing of it is in flight to bob), bob's destination folder unchanged.
    const target = destinationName(folder, {source: {prefix: '', delimiter: '/'}, destination: {prefix: `${prefix}/`, delimiter: '/'}, inboxToInbox: false})
    await freeze(first.pid)
    let second: CliResult
    try {
      const before = await snapshot(root)
      const bobBefore = restoreFirst ? '' : await destinationUids(world, bob, target)
      const knownConnections = Math.max(0, ...world.proxy.commands.map((cmd) => cmd.connection))
      second = await cli.run(home, secondArgs)
      const changed = diffSnapshots(before, await snapshot(root))
      check.expect(changed.length === 0, `${c}: the refused ${secondArgs.join(' ')} changed the account directory: ${changed.slice(0, 10).join('; ')}`)
      if (!restoreFirst) {
        const bobAfter = await destinationUids(world, bob, target)
        check.expect(bobAfter === bobBefore, `${c}: the refused ${secondArgs.join(' ')} changed the destination folder (UIDs ${bobBefore} → ${bobAfter})`)
      }
      const writes = world.proxy.commands.filter((cmd) => cmd.connection > knownConnections && WRITING.has(cmd.name))
      check.expect(writes.length === 0, `${c}: the refused ${secondArgs.join(' ')} sent ${writes.map((w) => w.name).join(', ')}`)
      env.ledger.count(CONCURRENCY, 'refusals checked unchanged (first stopped)')
      env.ledger.count(CONCURRENCY, 'files compared', before.size)
    } finally {
      thaw(first.pid)
    }
    const said = second.stdout + second.stderr
    env.ledger.count(CONCURRENCY, `second exit ${second.code}`)
    if (c === 'local check during a backup') {
      // A reader takes no lock: it reads the last committed state, the running backup's savepoints included.
      check.expect(second.code === 0, `${c}: local check during a backup exit ${second.code}, expected 0 (no damage in what was committed): ${describeRun(second)}`)
      check.expect(said.includes(`a backup (pid ${first.pid}) is writing`), `${c}: local check does not say that the backup (pid ${first.pid}) is writing: ${describeRun(second)}`)
    } else {
      check.expect(second.code === 5, `${c}: the second command (${secondArgs.join(' ')}) exit ${second.code}, expected 5 (LOCKED): ${describeRun(second)}`)
      // A writer's lock names its pid; readers share theirs, and the message says a reader has it.
      if (restoreFirst) check.expect(said.includes(`pid ${first.pid}`) || /being read by another mailkeep/.test(said), `${c}: the refusal does not say who holds the account: ${describeRun(second)}`)
      else check.expect(said.includes(`pid ${first.pid}`), `${c}: the refusal does not name the running process (pid ${first.pid}): ${describeRun(second)}`)
    }
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
