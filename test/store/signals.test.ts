/**
 * SIGINT and SIGTERM during a transaction in a real child process: it rolls back to the last
 * savepoint, exits 130/143, leaves no journal and no tail, and releases the lock.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {mkdtemp, rm, stat, readdir} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {AccountStore} from '../../src/store/account-store.js'
import {LockedError} from '../../src/shared/errors.js'
import {silentLogger} from '../../src/shared/logger.js'
import {testMessage} from './messages.mjs'
import {requireBuild, startAppender} from './store-process.js'

let base: string

beforeAll(async () => {
  requireBuild()
  base = await mkdtemp(join(tmpdir(), 'mailkeep-signal-'))
})

afterAll(async () => {
  await rm(base, {recursive: true, force: true})
})

describe.each([
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const)('%s during a transaction', (signal, code) => {
  it.each(['delay_metadata', 'delay_all'])(`rolls back to the last savepoint and exits ${code} (%s)`, async (strategy) => {
    const root = join(base, `${signal}-${strategy}`)
    const run = startAppender(root, strategy, 1, 100_000, 5)
    await run.ready
    // Wait for a few savepoints, then interrupt between two of them.
    while (run.committed() < 12) await new Promise((r) => setTimeout(r, 5))
    run.child.kill(signal)
    const exit = await run.exit
    expect(exit.code, run.lines.join('\n')).toBe(code)
    const rolledBack = run.lines.map((l) => /^rolled-back (\d+)$/.exec(l)).find(Boolean)
    expect(rolledBack, run.lines.join('\n')).toBeTruthy()
    const kept = Number(rolledBack![1])
    expect(kept).toBeGreaterThanOrEqual(run.committed())

    // The folder ends exactly at the savepoint: no tail, no journal, nothing left to recover.
    expect((await readdir(root)).sort()).toEqual(['.mailkeep.lock', 'INBOX.imap', 'INBOX.mailkeep', 'INBOX.mbox'])
    const store = await AccountStore.open(root, {mode: 'write', logger: silentLogger}) // lock released
    try {
      const folder = await store.folder('INBOX')
      expect([...folder.messages].map((m) => m.uid)).toEqual(Array.from({length: kept}, (_, k) => k + 1))
      expect(folder.messages.length).toBe(kept)
      expect((await stat(folder.paths.mbox)).size).toBe(folder.messages.end)
      for (const m of folder.messages) {
        const stored = await folder.readMessage(m.uid)
        expect(stored.exact).toBe(true)
        expect(stored.bytes.equals(testMessage(m.uid))).toBe(true)
      }
      expect(folder.exactnessFile.binding).toMatchObject({rows: kept, bound: kept, unmatchedUids: []})
    } finally {
      await store.close()
    }
  })
})

describe('the account lock', () => {
  it('refuses a second writer with the holder pid, and is free once the holder is killed', async () => {
    const root = join(base, 'lock')
    const run = startAppender(root, 'direct', 1, 1_000_000, 1)
    await run.ready
    const error = await AccountStore.open(root, {mode: 'write', logger: silentLogger}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LockedError)
    expect((error as LockedError).message).toContain(`pid ${run.child.pid}`)
    await expect(AccountStore.open(root, {mode: 'read', logger: silentLogger})).rejects.toBeInstanceOf(LockedError)
    run.child.kill('SIGKILL')
    await run.exit
    const store = await AccountStore.open(root, {mode: 'write', logger: silentLogger})
    await store.close()
  })
})
