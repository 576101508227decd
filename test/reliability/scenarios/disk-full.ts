/**
 * A backup whose directory fills up in the middle of a run. Preferred: the account root on a
 * small tmpfs (we run as root; `mount -t tmpfs -o size=…`), filled with a ballast file up to a
 * random amount of free space, so ENOSPC hits at a random place (a message, the journal, the
 * metadata, the lock). Where mounting is not allowed (a container without CAP_SYS_ADMIN), or with
 * MAILKEEP_RELIABILITY_DISKFULL=fsize, the fault is injected at the write layer of the running
 * CLI instead: `prlimit --fsize` on its PID makes every write past a random size fail (EFBIG).
 * The table says which method ran.
 *
 * Each run leaves less room than the new mail needs (a random fraction of it), so every run
 * must fill the disk: one that fits fails, and the suite asserts all of them filled up.
 *
 * Expected: a clear one-line error and exit 8 (LOCAL_IO), the folder rolled back to its last
 * savepoint and keeping everything seen committed while the run went on (lib/commit-watch.ts),
 * folders committed earlier intact byte for byte (the first backup's mbox bytes unchanged, every
 * stored message equal to the server's, folders reported done complete); after the space is
 * freed a rerun completes and equals the server, and `local check` finds nothing.
 */
import {execFile} from 'node:child_process'
import {mkdir, open, readFile, rm, stat, statfs} from 'node:fs/promises'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {describe as describeRun, jsonReport} from '../lib/cli.js'
import {account, writeConfig, type ScenarioEnv} from '../lib/env.js'
import type {RunCheck} from '../lib/ledger.js'
import {addMail} from '../lib/mail.js'
import {Rng, deriveSeed, sleep} from '../lib/rng.js'
import {CommitWatch} from '../lib/commit-watch.js'
import {CommittedTracker, checkAtSavepoint, compareBackup, folderBase, localCheck, readLocal, sha256} from '../lib/verify.js'
import {randomTuning, type BackupWorld} from './kill-backup.js'

export const DISK_FULL = 'disk full'

const run = promisify(execFile)

export type DiskFullMethod = 'tmpfs' | 'fsize'

/** tmpfs when this machine lets us mount one (and the env does not ask for the fallback). */
export async function diskFullMethod(env: ScenarioEnv): Promise<DiskFullMethod> {
  if (process.env.MAILKEEP_RELIABILITY_DISKFULL === 'fsize') return 'fsize'
  const dir = await env.tempDir('mailkeep-rel-mount-probe-')
  try {
    await run('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', dir])
    await run('umount', [dir])
    return 'tmpfs'
  } catch {
    return 'fsize'
  } finally {
    await env.release(dir, true)
  }
}

export async function diskFullScenario(env: ScenarioEnv, world: BackupWorld): Promise<void> {
  const method = await diskFullMethod(env)
  env.ledger.label(DISK_FULL, 'method', method === 'tmpfs' ? 'real ENOSPC on a tmpfs' : 'EFBIG from prlimit --fsize (write-layer fault)')
  // Every run is sized to fill the disk; one that fits did not test anything and fails.
  env.ledger.atLeast(DISK_FULL, FILLED, env.counts.diskFull)
  for (let i = 0; i < env.counts.diskFull; i++) {
    const seed = deriveSeed(env.seed, `disk-full-${i}`)
    const home = await env.tempDir('mailkeep-rel-full-')
    const check = await env.ledger.run(DISK_FULL, `run ${i}`, seed, (check) => diskFullRun(env, world, new Rng(seed), home, method, check))
    await env.release(home, check.problems.length === 0)
  }
}

/** The notes counter of runs that hit the full disk (exit 8 with the file system's error). */
export const FILLED = 'filled up'

interface MboxBefore {
  size: number
  sha: string
}

async function diskFullRun(env: ScenarioEnv, world: BackupWorld, rng: Rng, home: string, method: DiskFullMethod, check: RunCheck): Promise<void> {
  const {ledger, cli} = env
  const disk = join(home, 'disk')
  await mkdir(disk, {mode: 0o700})
  if (method === 'tmpfs') await run('mount', ['-t', 'tmpfs', '-o', 'size=512m,mode=0700', 'tmpfs', disk])
  try {
    const root = join(disk, 'alice')
    const folders = rng.sample(world.folders, rng.int(2, world.folders.length))
    const config = await writeConfig(home, {accounts: [account(world.dovecot, world.user, root, {folders, multi_fetch_size: rng.pick([1, 20, 100])})], ...randomTuning(rng)})
    const tracker = new CommittedTracker()

    // Half the time a complete backup first: its folders must survive the full disk untouched.
    const before = new Map<string, MboxBefore>()
    if (rng.chance(0.5)) {
      const first = await cli.run(home, ['backup'])
      if (!check.expect(first.code === 0, `the first backup failed: ${describeRun(first)}`)) return
      tracker.observe(check, await readLocal(check, root, folders), 'after the first backup')
      for (const folder of folders) {
        const bytes = await readFile(`${folderBase(root, folder)}.mbox`).catch(() => Buffer.alloc(0))
        before.set(folder, {size: bytes.length, sha: sha256(bytes)})
      }
    }
    // New mail, some of it large. fsize limits each file, so the folder whose mbox is the largest
    // file always gets some: then its mbox must outgrow the limit.
    const largest = [...before].sort((a, b) => b[1].size - a[1].size)[0]?.[0]
    const targets = new Set(rng.sample(folders, rng.int(1, folders.length)))
    if (method === 'fsize' && largest !== undefined) targets.add(largest)
    const added = new Map<string, number>()
    for (const folder of targets) {
      const mail = await addMail(world.dovecot, world.user, rng, folder, rng.int(5, 40), {medium: 0.5, big: 0.1, bigMin: 200_000, bigMax: 1_500_000, corpus: 0.1}, 'full')
      added.set(folder, mail.bytes)
    }

    // Less room than the new mail needs (mboxrd changes the size by a few per cent at most), so
    // every run fills the disk, at a random place: a message, the journal, the metadata, the lock.
    const fraction = rng.logUniform(0.01, 0.85)
    const need =
      method === 'tmpfs'
        ? [...added.values()].reduce((n, b) => n + b, 0)
        : Math.max(...[...added].map(([f, b]) => (before.get(f)?.size ?? 0) + b - (before.get(largest ?? '')?.size ?? 0)))
    const free = Math.max(1, Math.round(need * fraction))
    let ballast: string | undefined
    if (method === 'tmpfs') {
      ballast = join(disk, 'ballast')
      const info = await statfs(disk)
      const available = Number(info.bavail) * Number(info.bsize)
      await fill(ballast, Math.max(0, available - free))
    }
    const args = ['backup', ...(rng.chance(0.5) ? ['--json'] : [])]
    const commits = new CommitWatch(root, folders)
    const child = cli.spawn(home, args)
    if (method === 'fsize') await limitFileSize(child.pid, (await largestFile(root, folders)) + free)
    const result = await child.exited
    await commits.stop()
    const what = `${free} bytes free for ${need} new bytes`
    if (!check.expect(result.code !== 0, `${what}: the run fitted, the disk never filled: ${describeRun(result)}`)) {
      ledger.count(DISK_FULL, 'fitted (a failure)')
    } else {
      ledger.count(DISK_FULL, FILLED)
      check.expect(result.code === 8, `${what}: expected exit 8 (LOCAL_IO): ${describeRun(result)}`)
      const message = method === 'tmpfs' ? /no space left on device/ : /file too large|EFBIG/i
      check.expect(message.test(result.stdout + result.stderr), `${what}: the error does not say ${message}: ${describeRun(result)}`)
      check.expect(!/internal error|^\s+at /m.test(result.stderr), `${what}: a stack trace or internal error was printed`)
    }
    const report = args.includes('--json') ? jsonReport<BackupJson>(result) : undefined
    if (args.includes('--json') && result.code !== 0) {
      const failed = report?.accounts.flatMap((a) => a.folders).filter((f) => f.outcome === 'failed') ?? []
      check.expect(report === undefined || failed.some((f) => f.error?.name === 'LocalIoError') || report.accounts.some((a) => a.folders.length === 0), `${what}: no folder failed with LocalIoError in the --json report`)
    }

    // Right after the failure, before anything recovers or frees space: every folder at its
    // last savepoint, holding all that was seen committed while the run went on.
    const problemsBefore = check.problems.length
    // A journal may stay when the disk had no room left to rewrite `.imap` (see checkAtSavepoint).
    const onJournal = (): void => ledger.count(DISK_FULL, 'journals left for the next open (no room for .imap)')
    for (const folder of folders) await checkAtSavepoint(check, root, folder, {journal: 'committed', onJournal})
    if (check.problems.length > problemsBefore) {
      const journals = await Promise.all(folders.map(async (f) => `${f}: ${await readFile(`${folderBase(root, f)}.imap.journal`, 'utf8').then((t) => t.slice(0, 600), () => '-')}`))
      check.problem(`the run with ${what} left this behind; its output: ${describeRun(result)}\njournals:\n${journals.join('\n')}`)
    }
    const kept = commits.expectKept(check, `the run with ${what}`)
    ledger.count(DISK_FULL, 'messages committed when it failed', kept.final)
    tracker.observe(check, await readLocal(check, root, folders), `after the full disk (${what})`)
    // Earlier folders intact, byte for byte: what the first backup wrote is still the start of
    // each mbox (append only, I6), and every message stored now equals the server's.
    for (const [folder, old] of before) {
      const now = await readFile(`${folderBase(root, folder)}.mbox`).catch(() => Buffer.alloc(0))
      check.expect(now.length >= old.size && sha256(now.subarray(0, old.size)) === old.sha, `'${folder}': the ${old.size} bytes the first backup wrote changed after the full disk`)
    }
    ledger.count(DISK_FULL, 'messages compared after the failure', await compareBackup(check, world.dovecot, world.user, root, folders, {partial: true}))
    // Folders the run reports as done are complete.
    const done = report?.accounts.flatMap((a) => a.folders).filter((f) => f.outcome === 'ok' || f.outcome === 'unchanged').map((f) => f.folder) ?? []
    if (done.length > 0) {
      ledger.count(DISK_FULL, 'folders done before the disk filled', done.length)
      await compareBackup(check, world.dovecot, world.user, root, done)
    }

    // Space again: the rerun completes.
    if (ballast !== undefined) await rm(ballast)
    const rerun = await cli.run(home, ['backup'])
    if (!check.expect(rerun.code === 0, `the rerun after freeing space failed: ${describeRun(rerun)}`)) return
    tracker.observe(check, await readLocal(check, root, folders), 'after the rerun')
    await compareBackup(check, world.dovecot, world.user, root, folders)
    await localCheck(check, config)
  } finally {
    if (method === 'tmpfs') await unmount(disk)
  }
}

interface BackupJson {
  accounts: Array<{folders: Array<{folder: string; outcome: string; error?: {name: string}}>}>
}

/** A file of `bytes` zeros, written in chunks (tmpfs keeps them in memory, the test need not). */
async function fill(path: string, bytes: number): Promise<void> {
  const chunk = Buffer.alloc(8 * 1024 * 1024)
  const handle = await open(path, 'w', 0o600)
  try {
    for (let left = bytes; left > 0; left -= chunk.length) await handle.write(chunk, 0, Math.min(left, chunk.length))
  } finally {
    await handle.close()
  }
}

/** `prlimit --fsize` on a running process: writes past `bytes` in any file fail with EFBIG. */
async function limitFileSize(pid: number, bytes: number): Promise<void> {
  await run('prlimit', ['--pid', String(pid), `--fsize=${bytes}:${bytes}`])
}

async function largestFile(root: string, folders: readonly string[]): Promise<number> {
  let largest = 0
  for (const folder of folders) {
    for (const suffix of ['.mbox', '.imap']) {
      largest = Math.max(largest, await stat(`${folderBase(root, folder)}${suffix}`).then((s) => s.size, () => 0))
    }
  }
  return largest
}

async function unmount(dir: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await run('umount', [dir])
      return
    } catch (error) {
      // Busy for a moment while a killed child's files close.
      if (attempt >= 20) throw error
      await sleep(100)
    }
  }
}
