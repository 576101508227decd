/**
 * What the exactness file costs a large folder (docs/design.md, "The exactness file"): for a folder
 * of n messages written by mailkeep (every message has a record), the sizes of `.imap` and of the
 * exactness file, the time of a commit that folds both, of opening the folder (parse, bind) and of
 * the no-op peek a backup does on an unchanged folder (src/store/folder-peek.ts), which reads both
 * files byte by byte; medians of several runs. src/store only, no IMAP.
 *
 *   node_modules/.bin/vite-node bench/store-exactness.ts [--sizes 10000,100000,162755] [--runs 5]
 */
import {mkdtemp, rm, stat} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {AccountStore} from '../src/store/account-store.js'
import {peekFolderState} from '../src/store/folder-peek.js'
import {silentLogger} from '../src/shared/logger.js'
import {loadLine, machineLine} from './lib/machine.js'
import {median, option, printTable} from './lib/bench-utils.js'

const SIZES = option('sizes', '10000,100000,162755').split(',').map(Number)
const RUNS = Number(option('runs', '5'))
const TINY = Buffer.from('From: address@example.org\r\nSubject: Test 1\r\n\r\nbody 1\r\nHi')

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint()
  await fn()
  return Number(process.hrtime.bigint() - start) / 1e6
}

async function measure(n: number): Promise<string[]> {
  const root = await mkdtemp(join(tmpdir(), 'mailkeep-bench-exact-'))
  try {
    const store = await AccountStore.open(root, {mode: 'write', logger: silentLogger})
    const folder = await store.folder('bulk')
    await folder.initialize(1)
    const tx = await folder.begin({strategy: 'delay_metadata', savepointMessages: 1_000_000, savepointBytes: 2 ** 40, savepointSeconds: 3600})
    for (let uid = 1; uid <= n; uid++) await tx.append({uid, flags: uid % 3 === 0 ? ['\\Seen'] : [], internalDate: new Date(1_700_000_000_000 + uid * 1000)}, TINY)
    tx.setServerState({uidNext: n + 1})
    await tx.commit()
    // A commit of one more message: what every later run pays to fold (both files rewritten).
    const commits: number[] = []
    for (let run = 0; run < RUNS; run++) {
      const next = await folder.begin()
      await next.append({uid: n + 2 + run, flags: [], internalDate: null}, TINY)
      next.setServerState({uidNext: n + 3 + run})
      commits.push(await timed(() => next.commit()))
    }
    await store.close()
    const opens: number[] = []
    const peeks: number[] = []
    for (let run = 0; run < RUNS; run++) {
      opens.push(
        await timed(async () => {
          const reader = await AccountStore.open(root, {mode: 'read', logger: silentLogger})
          const f = await reader.folder('bulk')
          if (f.messages.recordCount !== n + RUNS) throw new Error(`${f.messages.recordCount} records bound, expected ${n + RUNS}`)
          await reader.close()
        }),
      )
      peeks.push(
        await timed(async () => {
          if ((await peekFolderState(root, 'bulk')) === undefined) throw new Error('the peek did not accept the folder')
        }),
      )
    }
    const imap = (await stat(join(root, 'bulk.imap'))).size
    const exact = (await stat(join(root, 'bulk.mailkeep')).catch(() => ({size: 0}))).size // none before the file existed
    return [String(n), (imap / 2 ** 20).toFixed(1), (exact / 2 ** 20).toFixed(1), median(commits).toFixed(0), median(opens).toFixed(0), median(peeks).toFixed(0)]
  } finally {
    await rm(root, {recursive: true, force: true})
  }
}

console.log(`store exactness file — ${new Date().toISOString()} — ${machineLine()}; load ${loadLine()}\n`)
const rows: string[][] = []
for (const n of SIZES) {
  rows.push(await measure(n))
  printTable([], rows, true)
}
printTable(['messages', '.imap MB', 'exactness file MB', 'commit of 1 ms', 'open (read) ms', 'no-op peek ms'], rows)
