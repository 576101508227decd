/**
 * The store's share of a backup's memory: live heap and array buffers (after a full GC) that one folder's store
 * holds per message, measured in this process around src/store alone (no IMAP, no CLI), at the
 * end of a first backup's transaction (before commit) and after commit, for each strategy.
 * bench/backup.ts measures the whole process; this says how much of its growth is the store.
 *
 *   node --expose-gc node_modules/.bin/vite-node bench/store-memory.ts [--sizes 10000,162755]
 *   (npm run bench:store-memory)
 *
 * The messages are imap-backup's benchmark message (56 bytes), so the bytes are the metadata
 * and indexes, not message data.
 */
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {AccountStore} from '../src/store/account-store.js'
import {silentLogger} from '../src/shared/logger.js'
import {STRATEGIES, type Strategy} from '../src/store/tuning.js'
import {loadLine, machineLine} from './lib/machine.js'
import {option, printTable} from './lib/bench-utils.js'

const SIZES = option('sizes', '10000,100000,162755').split(',').map(Number)
const STRATEGY_LIST = option('strategies', STRATEGIES.join(',')).split(',') as Strategy[]
const TINY = Buffer.from('From: address@example.org\r\nSubject: Test 1\r\n\r\nbody 1\r\nHi')

/**
 * Live memory after a full GC: the V8 heap plus ArrayBuffer backing stores, which live outside
 * it (the store's typed-array columns, message-table.ts), so that they are counted too.
 */
function liveHeap(): number {
  const gc = globalThis.gc
  if (gc === undefined) throw new Error('run with node --expose-gc (see the header of this file)')
  gc()
  gc()
  const {heapUsed, arrayBuffers} = process.memoryUsage()
  return heapUsed + arrayBuffers
}

/** A first backup of n messages into `root`: live heap during the transaction and after commit. */
async function firstBackup(root: string, strategy: Strategy, n: number, base: number): Promise<{inTx: number; afterCommit: number}> {
  const store = await AccountStore.open(root, {mode: 'write', logger: silentLogger})
  const folder = await store.folder('bulk')
  await folder.initialize(1)
  const tx = await folder.begin({strategy})
  for (let uid = 1; uid <= n; uid++) await tx.append({uid, flags: uid % 3 === 0 ? ['\\Seen'] : [], internalDate: null}, TINY)
  const inTx = liveHeap() - base
  await tx.commit()
  const afterCommit = liveHeap() - base
  await store.close()
  return {inTx, afterCommit}
}

/** A later run: the folder opened again, as an incremental backup holds it before fetching. */
async function reopen(root: string, base: number): Promise<number> {
  const store = await AccountStore.open(root, {mode: 'write', logger: silentLogger})
  const folder = await store.folder('bulk')
  if (!folder.has(1)) throw new Error('the folder lost its first message')
  const reopened = liveHeap() - base
  await store.close()
  return reopened
}

async function measure(strategy: Strategy, n: number): Promise<{inTx: number; afterCommit: number; reopened: number}> {
  const root = await mkdtemp(join(tmpdir(), 'mailkeep-bench-mem-'))
  try {
    const base = liveHeap()
    const first = await firstBackup(root, strategy, n, base)
    const afterClose = liveHeap() - base
    if (afterClose > 2 * 2 ** 20) console.warn(`${(afterClose / 2 ** 20).toFixed(1)} MB still live after the store was closed`)
    return {...first, reopened: await reopen(root, liveHeap())}
  } finally {
    await rm(root, {recursive: true, force: true})
  }
}

console.log(`store memory — ${new Date().toISOString()} — ${machineLine()}; load ${loadLine()}\n`)
const rows: string[][] = []
for (const n of SIZES) {
  for (const strategy of STRATEGY_LIST) {
    const m = await measure(strategy, n)
    rows.push([strategy, String(n), (m.inTx / 2 ** 20).toFixed(1), ((m.inTx / n) | 0).toString(), (m.afterCommit / 2 ** 20).toFixed(1), ((m.afterCommit / n) | 0).toString(), (m.reopened / 2 ** 20).toFixed(1), ((m.reopened / n) | 0).toString()])
    printTable([], rows, true)
  }
}
printTable(['strategy', 'messages', 'in transaction MB', 'B/msg', 'after commit MB', 'B/msg', 'reopened MB', 'B/msg'], rows)
