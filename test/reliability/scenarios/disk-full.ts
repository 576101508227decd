/**
 * A backup whose directory fills up in the middle of a run. Preferred: the account root on a
 * small tmpfs (we run as root; `mount -t tmpfs -o size=…`), filled with a ballast file up to a
 * random amount of free space, so ENOSPC hits at a random place (a message, the journal, the
 * metadata, the lock). Where mounting is not allowed (a container without CAP_SYS_ADMIN), or with
 * MAILKEEP_RELIABILITY_DISKFULL=fsize, the fault is injected at the write layer of the running
 * CLI instead: `prlimit --fsize` on its PID makes every write past a random size fail (EFBIG).
 * The table says which method ran.
 *
 * Expected: a clear one-line error and exit 8 (LOCAL_IO), the folder rolled back to its last
 * savepoint, folders committed earlier intact, nothing committed lost; after the space is freed
 * a rerun completes and equals the server, and `local check` finds nothing.
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
import {CommittedTracker, checkAtSavepoint, compareBackup, folderBase, localCheck, readLocal} from '../lib/verify.js'
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
  for (let i = 0; i < env.counts.diskFull; i++) {
    const seed = deriveSeed(env.seed, `disk-full-${i}`)
    const home = await env.tempDir('mailkeep-rel-full-')
    const check = await env.ledger.run(DISK_FULL, `run ${i}`, seed, (check) => diskFullRun(env, world, new Rng(seed), home, method, check))
    await env.release(home, check.problems.length === 0)
  }
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
    if (rng.chance(0.5)) {
      const first = await cli.run(home, ['backup'])
      if (!check.expect(first.code === 0, `the first backup failed: ${describeRun(first)}`)) return
      tracker.observe(check, await readLocal(check, root, folders), 'after the first backup')
    }
    // New mail, some of it large, so that the run needs more than what is left.
    for (const folder of rng.sample(folders, rng.int(1, folders.length))) {
      await addMail(world.dovecot, world.user, rng, folder, rng.int(5, 40), {medium: 0.5, big: 0.1, bigMin: 200_000, bigMax: 1_500_000, corpus: 0.1}, 'full')
    }

    const free = Math.round(rng.logUniform(1_000, 3_000_000))
    let ballast: string | undefined
    if (method === 'tmpfs') {
      ballast = join(disk, 'ballast')
      const info = await statfs(disk)
      const available = Number(info.bavail) * Number(info.bsize)
      await fill(ballast, Math.max(0, available - free))
    }
    const args = ['backup', ...(rng.chance(0.5) ? ['--json'] : [])]
    const child = cli.spawn(home, args)
    if (method === 'fsize') await limitFileSize(child.pid, (await largestFile(root, folders)) + free)
    const result = await child.exited
    const what = `${free} bytes free`
    if (result.code === 0) {
      ledger.count(DISK_FULL, 'fitted')
    } else {
      ledger.count(DISK_FULL, 'filled up')
      check.expect(result.code === 8, `${what}: expected exit 8 (LOCAL_IO): ${describeRun(result)}`)
      const message = method === 'tmpfs' ? /no space left on device/ : /file too large|EFBIG/i
      check.expect(message.test(result.stdout + result.stderr), `${what}: the error does not say ${message}: ${describeRun(result)}`)
      check.expect(!/internal error|^\s+at /m.test(result.stderr), `${what}: a stack trace or internal error was printed`)
      if (args.includes('--json')) {
        const report = jsonReport<{accounts: Array<{folders: Array<{outcome: string; error?: {name: string}}>}>}>(result)
        const failed = report?.accounts.flatMap((a) => a.folders).filter((f) => f.outcome === 'failed') ?? []
        check.expect(report === undefined || failed.some((f) => f.error?.name === 'LocalIoError') || report.accounts.some((a) => a.folders.length === 0), `${what}: no folder failed with LocalIoError in the --json report`)
      }
    }
    const before = check.problems.length
    for (const folder of folders) await checkAtSavepoint(check, root, folder)
    if (check.problems.length > before) {
      const journals = await Promise.all(folders.map(async (f) => `${f}: ${await readFile(`${folderBase(root, f)}.imap.journal`, 'utf8').then((t) => t.slice(0, 600), () => '-')}`))
      check.problem(`the run with ${what} left this behind; its output: ${describeRun(result)}\njournals:\n${journals.join('\n')}`)
    }
    tracker.observe(check, await readLocal(check, root, folders), `after the full disk (${what})`)

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
