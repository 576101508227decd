/**
 * End-to-end backup benchmark: the real CLI process (`node bin/run.js backup -c …`, as built by
 * `npm run build`) against a private Dovecot on loopback (test/support/dovecot.ts), measured side
 * by side with a bare imapflow program (bench/lib/bare-imapflow.mjs) in the same run.
 *
 *   npm run bench                       # everything (about 30–40 minutes on the 2-core VM)
 *   npm run bench -- --quick            # a reduced set, for a sanity run (a few minutes)
 *   npx vite-node bench/backup.ts --only scaling --sizes 1,1097,22026 --runs 3
 *
 * Sections (`--only a,b`):
 *   startup  `node -e 1`, `mailkeep --version`, `mailkeep version`, bare imapflow login+logout
 *   scaling  one folder of N identical 56-byte messages (imap-backup's benchmark), first backup:
 *            wall, CPU, µs per message, peak RSS, and the ratio to bare imapflow, per strategy
 *   mix      2,000 messages of 1 kB – 5 MB (~195 MB): wall, MB/s, CPU, peak RSS, the share of
 *            CPU spent in garbage collection; beside the raw wire, bare imapflow, mbsync and
 *            InterIMAP (bench/lib/peers.ts, when installed)
 *   noop     a 100,000-message folder already backed up, run again, and with one new message;
 *            a 2,000-message folder run again; the same for mbsync and InterIMAP; 75 unchanged
 *            folders through the counting proxy (round trips, and that nothing is selected)
 *   big      peak RSS with a 50 MiB message in the folder
 *
 * Options: --sizes 1,3,… --variants delay_metadata:1000,direct:1000 (strategy:multi_fetch_size)
 * --runs 3 (for N ≥ 22026 and the other sections; smaller N get --small-runs, default 3)
 * --direct-max-runs 1 (runs of direct at N ≥ 50,000, which take minutes) --out file.md
 * --before /other/checkout/bin/run.js: also run that CLI (e.g. a copy of the tree before a
 * change), side by side, with --before-variants (default delay_metadata:1000,direct:1000); its
 * columns are labelled `before …`.
 *
 * Wall time is the whole process, spawn to exit, measured by this harness; peak RSS and CPU
 * time come from /usr/bin/time (bench/lib/process-stats.ts). Besides bare imapflow, the floor is
 * a raw-wire client that sends one FETCH and only counts the bytes (bench/lib/raw-wire.mjs). Runs of the variants are
 * interleaved (run 1 of every variant, then run 2, …) so that a load spike from another user of
 * the machine hits all of them alike; every cell is a median. The load average is printed with
 * each table: compare ratios within one table, not absolute times across runs.
 */
import {mkdir, writeFile, chmod} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {startDovecot, type DovecotInstance, type TestUser} from '../test/support/dovecot.js'
import {appendMessages, ensureFolder, seedFolder} from '../test/support/mail-seed.js'
import {startProxy} from '../test/support/tcp-proxy.js'
import {makeTempDir, removeTempDir} from '../test/support/temp-dir.js'
import {bigMessage} from '../test/fixtures/corpus.js'
import {median, option} from './lib/bench-utils.js'
import {loadLine, machineLine} from './lib/machine.js'
import {mixMessage, mixSizes} from './lib/mail-mix.js'
import {INTERIMAP_USABLE, MBSYNC, runInterimap, runMbsync, type PeerTarget} from './lib/peers.js'
import {expectSuccess, measureProcess, type ProcessStats} from './lib/process-stats.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const CLI = join(ROOT, 'bin', 'run.js')
const BEFORE_CLI = option('before', '')
const BARE = join(ROOT, 'bench', 'lib', 'bare-imapflow.mjs')
const RAW = join(ROOT, 'bench', 'lib', 'raw-wire.mjs')
const GC_SHARE = join(ROOT, 'bench', 'lib', 'gc-share.mjs')

const QUICK = process.argv.includes('--quick')
const FULL_SIZES = [1, 3, 7, 20, 55, 148, 403, 1097, 2981, 8103, 22026, 59874, 162755]
const SIZES = option('sizes', QUICK ? '1,148,2981,22026' : FULL_SIZES.join(',')).split(',').map(Number)
interface Variant {
  cli: string
  strategy: string
  fetch: number
  label: string
}
const parseVariants = (list: string, cli: string, prefix: string): Variant[] =>
  list
    .split(',')
    .filter((v) => v !== '')
    .map((v) => {
      const [strategy, size] = v.split(':')
      return {cli, strategy: strategy!, fetch: Number(size ?? '100'), label: `${prefix}${strategy}/${size ?? '100'}`}
    })
const VARIANTS = [
  ...parseVariants(option('variants', QUICK ? 'delay_metadata:1000,direct:1000' : 'delay_metadata:1000,delay_metadata:100,direct:1000,delay_all:1000'), CLI, ''),
  ...(BEFORE_CLI === '' ? [] : parseVariants(option('before-variants', 'delay_metadata:1000,direct:1000'), BEFORE_CLI, 'before ')),
]
const RUNS = Number(option('runs', QUICK ? '1' : '3'))
const SMALL_RUNS = Number(option('small-runs', QUICK ? '1' : '3'))
const DIRECT_MAX_RUNS = Number(option('direct-max-runs', '1'))
const SECTIONS = option('only', 'startup,scaling,mix,noop,big').split(',')
const MIX_COUNT = Number(option('mix-count', QUICK ? '200' : '2000'))
const NOOP_COUNT = Number(option('noop-count', QUICK ? '10000' : '100000'))
const NOOP_FOLDERS = 75
const BIG_BYTES = 50 * 2 ** 20
const OUT = option('out', join(ROOT, 'bench', 'results', `backup-${new Date().toISOString().slice(0, 16).replace(/[:T]/g, '-')}.md`))

/** imap-backup's benchmark message (56 bytes), the same for every message of the folder. */
const TINY = Buffer.from('From: address@example.org\r\nSubject: Test 1\r\n\r\nbody 1\r\nHi')

const report: string[] = []
function emit(line = ''): void {
  console.log(line)
  report.push(line)
}

function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padStart(widths[i]!)).join(' | ')} |`
  emit(line(header))
  emit(`| ${widths.map((w) => '-'.repeat(w - 1) + ':').join(' | ')} |`)
  for (const r of rows) emit(line(r))
  emit()
}

const s = (ms: number) => (ms / 1000).toFixed(ms < 10_000 ? 2 : 1)
const mb = (v: number) => v.toFixed(0)
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`

interface Target {
  dovecot: DovecotInstance
  user: TestUser
  port: number
}

async function writeConfigFile(home: string, target: Target, localPath: string, account: Record<string, unknown>, extra: Record<string, unknown>): Promise<string> {
  const path = join(home, 'config.json')
  await mkdir(dirname(path), {recursive: true, mode: 0o700})
  const config = {
    version: '2.2',
    accounts: [
      {
        username: target.user.user,
        password: target.user.password,
        local_path: localPath,
        server: target.dovecot.host,
        connection_options: {port: target.port, ssl: false},
        ...account,
      },
    ],
    ...extra,
  }
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`, {mode: 0o600})
  await chmod(path, 0o600)
  return path
}

interface CliRun {
  stats: ProcessStats
  newMessages: number
  bytes: number
}

/**
 * One `mailkeep backup -c <config> --json` process; checks it succeeded and what it fetched.
 * `nodeArgs` go before the script (the GC meter's `--import`).
 */
async function runMailkeep(home: string, config: string, cli = CLI, nodeArgs: string[] = []): Promise<CliRun> {
  const stats = expectSuccess(`${cli} backup`, await measureProcess(process.execPath, [...nodeArgs, cli, 'backup', '-c', config, '--json'], {env: {HOME: home, MAILKEEP_CONFIG: undefined, NO_COLOR: '1'}, cwd: ROOT}))
  const parsed = JSON.parse(stats.stdout) as {accounts: Array<{folders: Array<{new: number; bytes: number}>}>}
  const folders = parsed.accounts.flatMap((a) => a.folders)
  return {stats, newMessages: folders.reduce((a, f) => a + f.new, 0), bytes: folders.reduce((a, f) => a + f.bytes, 0)}
}

/** A first backup of `folder` into a fresh directory, removed afterwards. */
async function firstBackup(target: Target, folder: string, variant: Variant, nodeArgs: string[] = []): Promise<CliRun> {
  const home = await makeTempDir('mailkeep-bench-home-')
  try {
    const config = await writeConfigFile(home, target, join(home, 'backup'), {folders: [folder], multi_fetch_size: variant.fetch}, {download_strategy: variant.strategy})
    return await runMailkeep(home, config, variant.cli, nodeArgs)
  } finally {
    await removeTempDir(home)
  }
}

/** The share of a run's CPU time spent in garbage collection (bench/lib/gc-share.mjs). */
function gcShare(run: ProcessStats): number {
  const m = /GC_MS=([\d.]+)/.exec(run.stderr)
  return m === null ? Number.NaN : Number(m[1]) / 1000 / run.cpuS
}

/** The raw-wire floor: one FETCH of the folder, bytes counted (bench/lib/raw-wire.mjs). */
async function raw(target: Target, folder: string): Promise<ProcessStats> {
  return expectSuccess('raw wire', await measureProcess(process.execPath, [RAW, target.dovecot.host, String(target.port), target.user.user, target.user.password, folder], {cwd: ROOT}))
}

function peerTarget(target: Target): PeerTarget {
  return {host: target.dovecot.host, port: target.port, user: target.user.user, password: target.user.password}
}

/** A peer's first copy of `folder` into a fresh directory, removed afterwards. */
async function peerFirst(run: typeof runMbsync, target: Target, folder: string): Promise<ProcessStats> {
  const dir = await makeTempDir('mailkeep-bench-peer-')
  try {
    return expectSuccess('peer', await run(peerTarget(target), folder, dir))
  } finally {
    await removeTempDir(dir)
  }
}

/** The peers installed on this machine, by label. */
const PEERS: Array<[string, typeof runMbsync]> = [
  ...(MBSYNC === undefined ? [] : ([['mbsync', runMbsync]] as Array<[string, typeof runMbsync]>)),
  ...(INTERIMAP_USABLE ? ([['InterIMAP', runInterimap]] as Array<[string, typeof runMbsync]>) : []),
]

async function bare(target: Target, folder: string, mode: 'fetch' | 'login' = 'fetch'): Promise<ProcessStats & {messages: number}> {
  const args = [BARE, target.dovecot.host, String(target.port), target.user.user, target.user.password, folder]
  if (mode === 'login') args.push('--login-only')
  const stats = expectSuccess('bare imapflow', await measureProcess(process.execPath, args, {cwd: ROOT}))
  return {...stats, messages: (JSON.parse(stats.stdout) as {messages: number}).messages}
}

// ---------------------------------------------------------------------------------------------

async function startupSection(target: Target): Promise<void> {
  emit(`### Start-up (median of ${RUNS * 3} runs; load ${loadLine()})`)
  emit()
  const clis: Array<[string, string]> = [['', CLI], ...(BEFORE_CLI === '' ? [] : ([['before ', BEFORE_CLI]] as Array<[string, string]>))]
  const cases: Array<[string, () => Promise<ProcessStats>]> = [
    ['node -e 1', () => measureProcess(process.execPath, ['-e', '1'])],
    ...clis.flatMap(([prefix, cli]): Array<[string, () => Promise<ProcessStats>]> => [
      [`${prefix}mailkeep --version`, () => measureProcess(process.execPath, [cli, '--version'], {cwd: ROOT})],
      [`${prefix}mailkeep version`, () => measureProcess(process.execPath, [cli, 'version'], {cwd: ROOT})],
      [`${prefix}mailkeep help`, () => measureProcess(process.execPath, [cli, 'help'], {cwd: ROOT})],
    ]),
    ['bare imapflow: login, logout', () => bare(target, 'INBOX', 'login')],
  ]
  const results = new Map<string, ProcessStats[]>(cases.map(([name]) => [name, []]))
  for (let r = 0; r < RUNS * 3; r++) for (const [name, run] of cases) results.get(name)!.push(expectSuccess(name, await run()))
  table(
    ['process', 'wall s', 'CPU s', 'peak RSS MB'],
    cases.map(([name]) => {
      const list = results.get(name)!
      return [name, s(median(list.map((x) => x.wallMs))), median(list.map((x) => x.cpuS)).toFixed(2), mb(median(list.map((x) => x.peakRssMb)))]
    }),
  )
}

interface Cell {
  wallMs: number
  cpuS: number
  rssMb: number
  runs: number
}

function cellOf(list: ProcessStats[]): Cell {
  return {wallMs: median(list.map((x) => x.wallMs)), cpuS: median(list.map((x) => x.cpuS)), rssMb: median(list.map((x) => x.peakRssMb)), runs: list.length}
}

async function scalingSection(target: Target): Promise<void> {
  process.stderr.write(`seeding ${SIZES.length} folders (${SIZES.reduce((a, b) => a + b, 0)} messages)…\n`)
  for (const n of SIZES) await seedFolder(target.dovecot, target.user, `s${n}`, n, () => TINY)
  const cells = new Map<string, Cell>()
  for (const n of SIZES) {
    const runs = n >= 22026 ? RUNS : SMALL_RUNS
    const samples = new Map<string, ProcessStats[]>([['raw', []], ['bare', []], ...VARIANTS.map((v) => [v.label, []] as [string, ProcessStats[]])])
    for (let r = 0; r < runs; r++) {
      samples.get('raw')!.push(await raw(target, `s${n}`))
      const b = await bare(target, `s${n}`)
      if (b.messages !== n) throw new Error(`bare imapflow fetched ${b.messages} of ${n}`)
      samples.get('bare')!.push(b)
      for (const v of VARIANTS) {
        if (v.strategy === 'direct' && n >= 50_000 && r >= DIRECT_MAX_RUNS) continue
        const run = await firstBackup(target, `s${n}`, v)
        if (run.newMessages !== n) throw new Error(`mailkeep ${v.label} saved ${run.newMessages} of ${n}`)
        samples.get(v.label)!.push(run.stats)
      }
    }
    for (const [label, list] of samples) cells.set(`${n}/${label}`, cellOf(list))
    const line = [n, ...[...samples.keys()].map((l) => `${l} ${s(cells.get(`${n}/${l}`)!.wallMs)} s ${mb(cells.get(`${n}/${l}`)!.rssMb)} MB`)].join('  ')
    process.stderr.write(`  ${line}  (load ${loadLine()})\n`)
  }
  const labels = ['raw', 'bare', ...VARIANTS.map((v) => v.label)]
  const get = (n: number, l: string) => cells.get(`${n}/${l}`)!
  const runsNote = `median of ${SMALL_RUNS} run(s) for N < 22026, ${RUNS} for N ≥ 22026 (direct at N ≥ 50,000: ${DIRECT_MAX_RUNS}, it takes minutes)`
  emit(`### First backup of one folder of N identical 56-byte messages (load ${loadLine()})`)
  emit()
  emit(`Wall time of the whole process in seconds, and its ratio to bare imapflow and to the raw wire in the same run; ${runsNote}. Variants are \`download_strategy/multi_fetch_size\`.`)
  emit()
  const first = VARIANTS[0]!.label
  table(
    ['N', ...labels.map((l) => `${l} s`), ...VARIANTS.map((v) => `${v.label} ÷ bare`), `${first} ÷ raw`],
    SIZES.map((n) => [
      String(n),
      ...labels.map((l) => s(get(n, l).wallMs)),
      ...VARIANTS.map((v) => ratio(get(n, v.label).wallMs, get(n, 'bare').wallMs)),
      ratio(get(n, first).wallMs, get(n, 'raw').wallMs),
    ]),
  )
  const smallest = SIZES[0]!
  emit(`Per message: µs of wall time per message beyond the start-up cost (wall(N) − wall(N=${smallest})) / N, which should stay flat as N grows; and CPU seconds of the process.`)
  emit()
  table(
    ['N', ...labels.map((l) => `${l} µs/msg`), ...labels.map((l) => `${l} CPU s`)],
    SIZES.map((n) => [
      String(n),
      ...labels.map((l) => (n === smallest ? '–' : (((get(n, l).wallMs - get(smallest, l).wallMs) * 1000) / (n - smallest)).toFixed(0))),
      ...labels.map((l) => get(n, l).cpuS.toFixed(2)),
    ]),
  )
  emit('Peak RSS of the whole process (MB, VmHWM).')
  emit()
  table(
    ['N', ...labels.map((l) => `${l} MB`)],
    SIZES.map((n) => [String(n), ...labels.map((l) => mb(get(n, l).rssMb))]),
  )
}

async function mixSection(target: Target): Promise<void> {
  const plan = mixSizes(MIX_COUNT)
  process.stderr.write(`seeding the mix: ${MIX_COUNT} messages, ${(plan.totalBytes / 1e6).toFixed(0)} MB…\n`)
  await ensureFolder(target.dovecot, target.user, 'mix')
  for (let start = 0; start < MIX_COUNT; start += 100) {
    const batch = plan.sizes.slice(start, start + 100).map((size, i) => ({raw: mixMessage(start + i, size)}))
    await appendMessages(target.dovecot, target.user, 'mix', batch)
  }
  const variants = VARIANTS.filter((v) => v.strategy !== 'delay_all' || !QUICK)
  const samples = new Map<string, ProcessStats[]>([
    ['raw wire', []],
    ['bare imapflow', []],
    ...variants.map((v) => [v.label, []] as [string, ProcessStats[]]),
    ...PEERS.map(([label]) => [label, []] as [string, ProcessStats[]]),
  ])
  const gc = new Map<string, number[]>(variants.map((v) => [v.label, []]))
  let bytes = 0
  for (let r = 0; r < RUNS; r++) {
    samples.get('raw wire')!.push(await raw(target, 'mix'))
    samples.get('bare imapflow')!.push(await bare(target, 'mix'))
    for (const v of variants) {
      const run = await firstBackup(target, 'mix', v)
      if (run.newMessages !== MIX_COUNT) throw new Error(`mailkeep ${v.label} saved ${run.newMessages} of ${MIX_COUNT}`)
      bytes = run.bytes
      samples.get(v.label)!.push(run.stats)
      // The GC meter in a run of its own, so that the timed runs carry no observer.
      gc.get(v.label)!.push(gcShare((await firstBackup(target, 'mix', v, ['--import', GC_SHARE])).stats))
    }
    for (const [label, run] of PEERS) samples.get(label)!.push(await peerFirst(run, target, 'mix'))
  }
  const bareCell = cellOf(samples.get('bare imapflow')!)
  const rawCell = cellOf(samples.get('raw wire')!)
  emit(`### A realistic mix: ${MIX_COUNT} messages, ${(bytes / 1e6).toFixed(0)} MB, 1 kB – 5 MB (median of ${RUNS}; load ${loadLine()})`)
  emit()
  emit('First backup into an empty directory. GC: the share of the process\'s CPU time spent in garbage collection (main-thread pauses, measured in a separate run of each variant).')
  emit()
  table(
    ['process', 'wall s', 'MB/s', 'CPU s', 'peak RSS MB', 'GC % of CPU', 'wall ÷ bare', 'wall ÷ raw'],
    [...samples.keys()].map((label) => {
      const c = cellOf(samples.get(label)!)
      const shares = gc.get(label)
      return [
        label,
        s(c.wallMs),
        (bytes / 1e6 / (c.wallMs / 1000)).toFixed(1),
        c.cpuS.toFixed(2),
        mb(c.rssMb),
        shares === undefined ? '–' : `${(100 * median(shares)).toFixed(1)} %`,
        ratio(c.wallMs, bareCell.wallMs),
        ratio(c.wallMs, rawCell.wallMs),
      ]
    }),
  )
}

async function noopSection(target: Target, manyTarget: Target): Promise<void> {
  const clis: Array<[string, string]> = [['mailkeep', CLI], ...(BEFORE_CLI === '' ? [] : ([['before', BEFORE_CLI]] as Array<[string, string]>))]
  const rows: string[][] = []
  const count = NOOP_COUNT.toLocaleString('en')
  // One big folder, backed up once, then run again: nothing to fetch; and with one new message
  // (appended on the server just before). The same for the peers, each in its own directory,
  // so each sees exactly one new message per round.
  process.stderr.write(`seeding ${NOOP_COUNT} messages for the no-op run…\n`)
  await seedFolder(target.dovecot, target.user, 'noop', NOOP_COUNT, () => TINY)
  const home = await makeTempDir('mailkeep-bench-noop-')
  const peerDirs = new Map<string, string>()
  try {
    const config = await writeConfigFile(home, target, join(home, 'backup'), {folders: ['noop'], multi_fetch_size: 1000}, {})
    const firstRun = await runMailkeep(home, config)
    if (firstRun.newMessages !== NOOP_COUNT) throw new Error(`first backup saved ${firstRun.newMessages} of ${NOOP_COUNT}`)
    const peerFirsts = new Map<string, ProcessStats>()
    for (const [label, run] of PEERS) {
      process.stderr.write(`  ${label}: first copy of the ${count}-message folder…\n`)
      const dir = await makeTempDir('mailkeep-bench-peer-noop-')
      peerDirs.set(label, dir)
      peerFirsts.set(label, expectSuccess(label, await run(peerTarget(target), 'noop', dir)))
    }
    const nothing = new Map<string, ProcessStats[]>(clis.map(([name]) => [name, []]))
    const oneNew: ProcessStats[] = []
    const peerNothing = new Map<string, ProcessStats[]>(PEERS.map(([label]) => [label, []]))
    const peerOne = new Map<string, ProcessStats[]>(PEERS.map(([label]) => [label, []]))
    for (let r = 0; r < RUNS * 3; r++) {
      await appendMessages(target.dovecot, target.user, 'noop', [{raw: TINY}])
      const one = await runMailkeep(home, config)
      if (one.newMessages !== 1) throw new Error(`a run after one new message fetched ${one.newMessages}`)
      oneNew.push(one.stats)
      for (const [name, cli] of clis) {
        const run = await runMailkeep(home, config, cli)
        if (run.newMessages !== 0) throw new Error(`a no-op rerun fetched ${run.newMessages}`)
        nothing.get(name)!.push(run.stats)
      }
      for (const [label, run] of PEERS) {
        peerOne.get(label)!.push(expectSuccess(label, await run(peerTarget(target), 'noop', peerDirs.get(label)!)))
        peerNothing.get(label)!.push(expectSuccess(label, await run(peerTarget(target), 'noop', peerDirs.get(label)!)))
      }
    }
    const noop = cellOf(nothing.get('mailkeep')!)
    for (const [name] of clis) {
      const c = cellOf(nothing.get(name)!)
      rows.push([`${name}: 1 folder of ${count} messages, unchanged`, s(c.wallMs), c.cpuS.toFixed(2), mb(c.rssMb), '–', '–', '1.00×'])
    }
    const c = cellOf(oneNew)
    rows.push([`mailkeep: the same folder with 1 new message`, s(c.wallMs), c.cpuS.toFixed(2), mb(c.rssMb), '–', '–', ratio(c.wallMs, noop.wallMs)])
    for (const [label] of PEERS) {
      const n = cellOf(peerNothing.get(label)!)
      const o = cellOf(peerOne.get(label)!)
      const f = peerFirsts.get(label)!
      rows.push([`${label}: first copy of the ${count}-message folder (once)`, s(f.wallMs), f.cpuS.toFixed(2), mb(f.peakRssMb), '–', '–', '–'])
      rows.push([`${label}: unchanged`, s(n.wallMs), n.cpuS.toFixed(2), mb(n.rssMb), '–', '–', '1.00×'])
      rows.push([`${label}: 1 new message`, s(o.wallMs), o.cpuS.toFixed(2), mb(o.rssMb), '–', '–', ratio(o.wallMs, n.wallMs)])
    }
  } finally {
    await removeTempDir(home)
    for (const dir of peerDirs.values()) await removeTempDir(dir)
  }

  // A folder of 2,000 messages, unchanged: what a run costs when start-up is most of it.
  await seedFolder(target.dovecot, target.user, 'noop2000', 2000, () => TINY)
  const home3 = await makeTempDir('mailkeep-bench-noop2000-')
  try {
    const config = await writeConfigFile(home3, target, join(home3, 'backup'), {folders: ['noop2000'], multi_fetch_size: 1000}, {})
    await runMailkeep(home3, config)
    const reruns: ProcessStats[] = []
    for (let r = 0; r < RUNS * 3; r++) reruns.push((await runMailkeep(home3, config)).stats)
    const c = cellOf(reruns)
    rows.push(['mailkeep: 1 folder of 2,000 messages, unchanged', s(c.wallMs), c.cpuS.toFixed(2), mb(c.rssMb), '–', '–', '–'])
  } finally {
    await removeTempDir(home3)
  }

  // 75 unchanged folders, seen through the counting proxy.
  process.stderr.write(`seeding ${NOOP_FOLDERS} folders…\n`)
  await seedFolder(manyTarget.dovecot, manyTarget.user, 'INBOX', 3, () => TINY)
  for (let i = 1; i < NOOP_FOLDERS; i++) await seedFolder(manyTarget.dovecot, manyTarget.user, `f${String(i).padStart(2, '0')}`, 3, () => TINY)
  const proxy = await startProxy({targetPort: manyTarget.dovecot.port})
  const home2 = await makeTempDir('mailkeep-bench-noop75-')
  try {
    const viaProxy = {...manyTarget, port: proxy.port}
    const config = await writeConfigFile(home2, viaProxy, join(home2, 'backup'), {multi_fetch_size: 1000}, {})
    const firstRun = await runMailkeep(home2, config)
    if (firstRun.newMessages !== NOOP_FOLDERS * 3) throw new Error(`first backup of ${NOOP_FOLDERS} folders saved ${firstRun.newMessages}`)
    const reruns = new Map<string, ProcessStats[]>(clis.map(([name]) => [name, []]))
    const names = new Map<string, string[]>()
    for (let r = 0; r < RUNS * 3; r++) {
      for (const [name, cli] of clis) {
        proxy.resetStats()
        const run = await runMailkeep(home2, config, cli)
        if (run.newMessages !== 0) throw new Error(`a no-op rerun fetched ${run.newMessages}`)
        reruns.get(name)!.push(run.stats)
        names.set(name, proxy.commandNames())
      }
    }
    for (const [name] of clis) {
      const c = cellOf(reruns.get(name)!)
      const sent = names.get(name) ?? []
      const selects = sent.filter((n) => n === 'SELECT' || n === 'EXAMINE' || n === 'STATUS').length
      const lists = sent.filter((n) => n === 'LIST').length
      rows.push([`${name}: ${NOOP_FOLDERS} folders, unchanged (through the proxy)`, s(c.wallMs), c.cpuS.toFixed(2), mb(c.rssMb), String(sent.length), `${sent.map((n) => n || '(SASL response)').join(', ')} (LIST: ${lists}, SELECT/EXAMINE/STATUS: ${selects})`, '–'])
    }
  } finally {
    await removeTempDir(home2)
    await proxy.close()
  }
  emit(`### Incremental runs: nothing new, or one new message (median of ${RUNS * 3}; load ${loadLine()})`)
  emit()
  emit('Whole process, start-up and connection included. The last column is the ratio to the same tool\'s run when nothing changed.')
  emit()
  table(['case', 'wall s', 'CPU s', 'peak RSS MB', 'round trips', 'commands sent', '÷ unchanged'], rows)
}

async function bigSection(target: Target): Promise<void> {
  process.stderr.write('seeding a 50 MiB message…\n')
  await ensureFolder(target.dovecot, target.user, 'big')
  await appendMessages(target.dovecot, target.user, 'big', [{raw: TINY}, {raw: bigMessage(BIG_BYTES, {seed: 50})}, {raw: TINY}])
  // Every strategy at the default multi_fetch_size, for each CLI.
  const seen = new Set<string>()
  const variants = VARIANTS.map((v) => ({...v, fetch: 100, label: v.label.replace(/\/\d+$/, '/100')})).filter((v) => !seen.has(v.label) && seen.add(v.label))
  const samples = new Map<string, ProcessStats[]>([['bare', []], ...variants.map((v) => [v.label, []] as [string, ProcessStats[]])])
  for (let r = 0; r < RUNS; r++) {
    samples.get('bare')!.push(await bare(target, 'big'))
    for (const v of variants) {
      const run = await firstBackup(target, 'big', v)
      if (run.newMessages !== 3) throw new Error(`mailkeep ${v.label} saved ${run.newMessages} of 3`)
      samples.get(v.label)!.push(run.stats)
    }
  }
  const limit = (2 * BIG_BYTES) / 2 ** 20 + 80
  emit(`### Peak RSS with a 50 MiB message in the folder (median of ${RUNS}; target < ${limit} MB; load ${loadLine()})`)
  emit()
  table(
    ['process', 'wall s', 'peak RSS MB', 'within target'],
    [...samples.keys()].map((label) => {
      const c = cellOf(samples.get(label)!)
      return [label, s(c.wallMs), mb(c.rssMb), label === 'bare' ? '–' : c.rssMb < limit ? 'yes' : 'NO']
    }),
  )
}

async function main(): Promise<void> {
  emit(`## mailkeep backup benchmark — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC${QUICK ? ' (--quick)' : ''}`)
  emit()
  emit(`Machine: ${machineLine()}; load average at start ${loadLine()}. Dovecot 2.3 on 127.0.0.1 (mdbox), backups under ${dirname(await makeTempDir('mailkeep-bench-probe-').then(async (d) => (await removeTempDir(d), d)))}.`)
  emit()
  const dovecot = await startDovecot()
  try {
    const [alice, bob, carol, dave] = dovecot.users as [TestUser, TestUser, TestUser, TestUser]
    const at = (user: TestUser): Target => ({dovecot, user, port: dovecot.port})
    if (SECTIONS.includes('startup')) await startupSection(at(dave))
    if (SECTIONS.includes('scaling')) await scalingSection(at(alice))
    if (SECTIONS.includes('mix')) await mixSection(at(carol))
    if (SECTIONS.includes('big')) await bigSection(at(dave))
    if (SECTIONS.includes('noop')) await noopSection(at(carol), at(bob))
  } finally {
    await dovecot.stop()
    await mkdir(dirname(OUT), {recursive: true})
    await writeFile(OUT, `${report.join('\n')}\n`)
    process.stderr.write(`written to ${OUT}\n`)
  }
}

await main()
