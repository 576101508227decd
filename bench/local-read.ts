/**
 * Reading the backup: `mailkeep local list` of one folder and `mailkeep local search` across an
 * account, through the built CLI (bin/run.js), on a backup written by the real store (exactness
 * records, as a mailkeep backup has them): one folder of N messages for `list`, and the same N
 * spread over four folders for `search` (a search that matches a few and one that matches
 * every message, which also prints them all). Time is wall-clock of the whole command, start-up
 * included, and its CPU time (user + system, which a busy machine does not inflate); RSS is the
 * command's peak (`/usr/bin/time -f %M`).
 *
 *   npm run build && npx vite-node bench/local-read.ts [--counts 10000,100000] [--runs 3]
 *
 * Messages are small realistic headers (From with a name and an encoded word now and then,
 * To, Cc, Subject, Date, Message-ID) and a short body, 1 in 200 of 200 KiB.
 */
import {spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {chmod, mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {AccountStore} from '../src/store/account-store.js'
import {silentLogger} from '../src/shared/logger.js'
import {median, option, printTable} from './lib/bench-utils.js'
import {loadLine, machineLine} from './lib/machine.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const CLI = join(ROOT, 'bin', 'run.js')
const COUNTS = option('counts', '10000,100000').split(',').map(Number)
const RUNS = Number(option('runs', '3'))
const ACCOUNT = 'me@example.com'

function message(uid: number): Buffer {
  const who = uid % 7 === 0 ? '=?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.de>' : `Sender ${uid % 97} <sender${uid % 97}@example.org>`
  const day = 1 + (uid % 28)
  const head = [
    `From: ${who}`,
    `To: Me <me@example.com>`,
    uid % 3 === 0 ? `Cc: Team ${uid % 5} <team${uid % 5}@example.net>` : undefined,
    `Subject: ${uid % 11 === 0 ? 'Invoice' : 'Report'} number ${uid}`,
    `Date: ${['Mon', 'Tue', 'Wed', 'Thu', 'Fri'][uid % 5]}, ${day} Mar 2024 08:${String(uid % 60).padStart(2, '0')}:00 +0100`,
    `Message-ID: <bench-${uid}@example.org>`,
    '',
  ].filter((l) => l !== undefined)
  const body = uid % 200 === 0 ? 'x'.repeat(76).concat('\r\n').repeat(2700) : `Hello,\r\nthis is message ${uid}.\r\n`
  return Buffer.from(`${head.join('\r\n')}\r\n${body}`)
}

/** A backup of N messages: `Big` with all of them, and `F0`…`F3` with a quarter each. */
async function makeBackup(n: number): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), 'mailkeep-bench-read-'))
  const root = join(home, 'backup')
  const store = await AccountStore.open(root, {mode: 'write', logger: silentLogger})
  const fill = async (name: string, uids: number[]): Promise<void> => {
    const folder = await store.folder(name)
    await folder.initialize(1)
    const tx = await folder.begin({savepointMessages: 50_000})
    for (const uid of uids) await tx.append({uid, flags: uid % 4 === 0 ? [] : ['\\Seen'], internalDate: new Date(1_709_280_000_000 + uid * 60_000)}, message(uid))
    await tx.commit()
    await folder.close()
  }
  const all = Array.from({length: n}, (_, i) => i + 1)
  await fill('Big', all)
  for (let f = 0; f < 4; f++) await fill(`F${f}`, all.filter((uid) => uid % 4 === f))
  await store.close()
  const dir = join(home, '.mailkeep')
  await mkdir(dir, {mode: 0o700})
  const config = join(dir, 'config.json')
  await writeFile(config, JSON.stringify({version: '2.2', accounts: [{username: ACCOUNT, password: 'unused', local_path: root}]}), {mode: 0o600})
  await chmod(config, 0o600)
  return home
}

interface Measured {
  seconds: number
  /** user + system CPU time: what a loaded machine does not inflate. */
  cpu: number
  rssMb: number
  lines: number
}

function run(home: string, args: string[]): Measured {
  const started = process.hrtime.bigint()
  const env: NodeJS.ProcessEnv = {...process.env, HOME: home}
  delete env['MAILKEEP_CONFIG']
  delete env['NODE_ENV']
  const result = spawnSync('/usr/bin/time', ['-f', '%M %U %S', process.execPath, CLI, ...args], {env, encoding: 'utf8', maxBuffer: 1 << 30})
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  if (result.status !== 0) throw new Error(`mailkeep ${args.join(' ')} exited ${result.status}: ${result.stderr}`)
  const [rssKb, user, system] = result.stderr.trim().split('\n').at(-1)!.split(' ').map(Number)
  return {seconds, cpu: user! + system!, rssMb: rssKb! / 1024, lines: result.stdout.split('\n').length}
}

async function main(): Promise<void> {
  if (!existsSync(join(ROOT, 'dist', 'bundle', 'mailkeep.js'))) throw new Error('run `npm run build` first')
  if (!existsSync('/usr/bin/time')) throw new Error('/usr/bin/time is needed for the peak RSS (apt-get install time)')
  console.log(`${machineLine()}; load ${loadLine()}; median of ${RUNS} runs\n`)
  const rows: string[][] = []
  for (const n of COUNTS) {
    process.stderr.write(`writing a backup of ${n} messages…\n`)
    const home = await makeBackup(n)
    try {
      const cases: Array<[string, string[]]> = [
        [`local list (one folder of ${n})`, ['local', 'list', ACCOUNT, 'Big']],
        [`local list --json`, ['local', 'list', ACCOUNT, 'Big', '--json']],
        [`local search --from jürgen (4 folders)`, ['local', 'search', ACCOUNT, '--folder', 'F0', '--folder', 'F1', '--folder', 'F2', '--folder', 'F3', '--from', 'jürgen']],
        [`local search --since 2024-03-01 (all match)`, ['local', 'search', ACCOUNT, '--folder', 'F0', '--folder', 'F1', '--folder', 'F2', '--folder', 'F3', '--since', '2024-03-01']],
      ]
      for (const [label, args] of cases) {
        const runs = Array.from({length: RUNS}, () => run(home, args))
        const seconds = median(runs.map((r) => r.seconds))
        const cpu = median(runs.map((r) => r.cpu))
        rows.push([`${n}`, label, seconds.toFixed(2), cpu.toFixed(2), Math.round(n / seconds).toLocaleString('en-US'), median(runs.map((r) => r.rssMb)).toFixed(0), `${runs[0]!.lines - 1}`])
        printTable([], rows, true)
      }
    } finally {
      await rm(home, {recursive: true, force: true})
    }
  }
  printTable(['messages', 'command', 'seconds', 'CPU s', 'msg/s', 'peak RSS MB', 'lines out'], rows)
}

await main()
