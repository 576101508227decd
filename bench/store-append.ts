/**
 * Store benchmark: append + commit throughput of each download strategy for folders of 1k, 10k,
 * 100k and 162,755 small messages (imap-backup's performance fixture: `From: … Subject: Test 1`,
 * 60 bytes on the wire), with the per-message cost measured in the first, middle and last tenth
 * of each run to show that it stays flat as the folder grows (imap-backup's `direct` rewrites the
 * whole metadata per message: quadratic, compat §5.2).
 *
 * Also: the cost of one savepoint and of the final commit, and peak RSS.
 *
 *   npx vite-node bench/store-append.ts [--sizes 1000,10000] [--strategies direct] [--runs 3]
 *
 * Every row is the median of --runs runs (default 3), all measured in this one process, side by
 * side, so that ratios between rows are meaningful on a shared, noisy machine.
 */
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir, cpus, totalmem} from 'node:os'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'
import {AccountStore} from '../src/store/account-store.js'
import {silentLogger} from '../src/shared/logger.js'
import {STRATEGIES, type Strategy} from '../src/store/tuning.js'
import {median, option, printTable, rssSampler} from './lib/bench-utils.js'

const SIZES = option('sizes', '1000,10000,100000,162755').split(',').map(Number)
const STRATEGY_LIST = option('strategies', STRATEGIES.join(',')).split(',') as Strategy[]
const RUNS = Number(option('runs', '3'))

function tinyMessage(uid: number): Buffer {
  // 60 bytes like imap-backup's benchmark message; the UID keeps messages distinct.
  return Buffer.from(`From: address@example.org\r\nSubject: Test ${String(uid).padStart(6, '0')}\r\n\r\nbody 1\r\nHi`)
}

interface RunResult {
  totalMs: number
  firstTenthUs: number
  middleTenthUs: number
  lastTenthUs: number
  commitMs: number
  savepoints: number
  peakRssMb: number
}

async function runOnce(strategy: Strategy, n: number): Promise<RunResult> {
  const root = await mkdtemp(join(tmpdir(), 'mailkeep-bench-'))
  const rss = rssSampler()
  try {
    const store = await AccountStore.open(root, {mode: 'write', logger: silentLogger})
    const folder = await store.folder('bulk')
    await folder.initialize(1)
    const started = performance.now()
    const tx = await folder.begin({strategy})
    const tenth = Math.max(1, Math.floor(n / 10))
    const marks: number[] = []
    for (let uid = 1; uid <= n; uid++) {
      if (uid === 1 || uid === Math.floor(n / 2) - Math.floor(tenth / 2) || uid === n - tenth + 1) marks.push(performance.now())
      await tx.append({uid, flags: [], internalDate: null}, tinyMessage(uid))
      if (uid === tenth || uid === Math.floor(n / 2) + Math.ceil(tenth / 2) - 1 || uid === n) marks.push(performance.now())
    }
    const commitStart = performance.now()
    const stats = await tx.commit()
    const ended = performance.now()
    await store.close()
    const perMessage = (a: number, b: number) => ((b - a) * 1000) / tenth
    return {
      totalMs: ended - started,
      firstTenthUs: perMessage(marks[0]!, marks[1]!),
      middleTenthUs: perMessage(marks[2]!, marks[3]!),
      lastTenthUs: perMessage(marks[4]!, marks[5]!),
      commitMs: ended - commitStart,
      savepoints: stats.savepoints,
      peakRssMb: rss.stop(),
    }
  } finally {
    await rm(root, {recursive: true, force: true})
  }
}

async function main(): Promise<void> {
  console.log(`store append+commit benchmark — ${new Date().toISOString()} — ${cpus().length}× ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`)
  console.log(`median of ${RUNS} run(s) per row; µs/msg over the first, middle and last tenth of the run\n`)
  const rows: string[][] = []
  for (const n of SIZES) {
    for (const strategy of STRATEGY_LIST) {
      const results: RunResult[] = []
      for (let r = 0; r < RUNS; r++) results.push(await runOnce(strategy, n))
      const m = (f: (x: RunResult) => number) => median(results.map(f))
      rows.push([
        strategy,
        String(n),
        (m((x) => x.totalMs) / 1000).toFixed(2),
        Math.round(n / (m((x) => x.totalMs) / 1000)).toString(),
        m((x) => x.firstTenthUs).toFixed(1),
        m((x) => x.middleTenthUs).toFixed(1),
        m((x) => x.lastTenthUs).toFixed(1),
        (m((x) => x.lastTenthUs) / m((x) => x.firstTenthUs)).toFixed(2),
        m((x) => x.commitMs).toFixed(0),
        String(m((x) => x.savepoints)),
        m((x) => x.peakRssMb).toFixed(0),
      ])
      printTable(['strategy', 'messages', 'total s', 'msgs/s', 'µs/msg first', 'µs/msg mid', 'µs/msg last', 'last/first', 'commit ms', 'savepoints', 'RSS growth MB'], rows, true)
    }
  }
  printTable(['strategy', 'messages', 'total s', 'msgs/s', 'µs/msg first', 'µs/msg mid', 'µs/msg last', 'last/first', 'commit ms', 'savepoints', 'RSS growth MB'], rows)
}

await main()
