import {execFile} from 'node:child_process'
import {mkdir, open, rm, stat} from 'node:fs/promises'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {describe, expect, it} from 'vitest'
import {testTempDir} from '../../test/support/temp-dir.js'
import {silentLogger} from '../shared/logger.js'
import {FolderStore} from './folder-store.js'
import {STRATEGIES} from './tuning.js'

const run = promisify(execFile)

/** A 1 MiB tmpfs for the test, or a skip where mounting is not allowed. */
async function smallDisk(skip: () => void): Promise<{dir: string; unmount: () => Promise<void>}> {
  const dir = join(await testTempDir('mailkeep-tx-'), 'disk')
  await mkdir(dir)
  try {
    await run('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', dir])
  } catch {
    skip() // needs root (or CAP_SYS_ADMIN) to mount a small file system
  }
  return {dir, unmount: () => run('umount', [dir]).then(() => undefined)}
}

/** Fills the file system but for about `free` bytes; returns the ballast's path. */
async function fillUp(dir: string, free: number): Promise<string> {
  const path = join(dir, 'ballast')
  const handle = await open(path, 'w')
  const chunk = Buffer.alloc(4096)
  try {
    // Write until full, then give back what should stay free.
    for (;;) await handle.write(chunk)
  } catch {
    // ENOSPC: full.
  }
  const {size} = await handle.stat()
  await handle.truncate(Math.max(0, size - free))
  await handle.close()
  return path
}

const message = (uid: number): Buffer => Buffer.from(`From: a@example.test\r\nSubject: m${uid}\r\n\r\n${'body line\r\n'.repeat(2_000)}`)
const incoming = (uid: number) => ({uid, flags: ['\\Seen'], internalDate: new Date(1_700_000_000_000)})

describe('a write that fails in the middle of a transaction', () => {
  // Found by test/reliability (disk full, write-layer fault): delay_metadata's write-behind flush
  // failed, the transaction stayed open with entries whose bytes were never written, and the next
  // savepoint committed them: the folder's metadata then pointed past the end of its mbox (I1).
  it.for(STRATEGIES)('never lets a later savepoint commit entries whose bytes were lost (%s)', async (strategy, {skip}) => {
    const disk = await smallDisk(skip)
    try {
      const folder = await FolderStore.open(disk.dir, 'INBOX', {mode: 'write', logger: silentLogger})
      await folder.initialize(7)
      const tx = await folder.begin({strategy, savepointMessages: 3, savepointBytes: 10 ** 9, delayAllMaxBytes: 150_000})
      await tx.append(incoming(1), message(1))
      await tx.append(incoming(2), message(2))
      await tx.append(incoming(3), message(3)) // savepoint: UIDs 1–3 committed
      const ballast = await fillUp(disk.dir, 30_000)

      // Append until the disk is full: an error, in append() or in a savepoint.
      let uid = 4
      let failure: unknown
      for (; uid < 200 && failure === undefined; uid++) await tx.append(incoming(uid), message(uid)).catch((error: unknown) => (failure = error))
      expect(failure).toBeDefined()

      // Space again. A caller that goes on must not get the lost entries committed.
      await rm(ballast)
      if (tx.isOpen) {
        await tx.append(incoming(uid), message(uid)).catch(() => undefined)
        await tx.commit().catch(() => undefined)
      } else {
        // The next call reports the failure that ended the transaction, whatever the strategy (a
        // full disk is exit 8, not an internal error: test/reliability/disk-full.test.ts, seed 86048572).
        await expect(tx.append(incoming(uid), message(uid))).rejects.toThrow(/no space left on device/)
        // So does assertUsable, which the engine asks instead of beginning another transaction
        // while this one's rollback may still be folding its journal (disk-full seed 312714216).
        expect(() => tx.assertUsable()).toThrow(/no space left on device/)
        await tx.rollback().catch(() => undefined) // waits for that rollback; starts none
      }
      await folder.close()

      const again = await FolderStore.open(disk.dir, 'INBOX', {mode: 'write', logger: silentLogger})
      expect((await stat(again.paths.mbox)).size).toBe(again.messages.end)
      for (const m of again.messages) expect((await again.readMessage(m.uid)).bytes.equals(message(m.uid))).toBe(true)
      expect(again.messages.length).toBeGreaterThanOrEqual(3)
      await again.close()
    } finally {
      await disk.unmount()
    }
  })
})

describe('a rollback asked for while a savepoint is being committed', () => {
  // Found by test/reliability/signals.test.ts (seed 1048612877): SIGINT's rollback landed between a
  // delay_metadata savepoint's fsync and its journal append; the rollback truncated the mbox to
  // the savepoint before, the journal then claimed the bytes it had cut off, and the next run
  // found the folder damaged (I1). The rollback is asked for after a varying number of event-loop
  // turns, so that some of the tries land in each step of the savepoint (write, fsync, journal).
  it.for(STRATEGIES)('leaves a folder that opens, with every message it claims intact (%s)', async (strategy) => {
    const dir = await testTempDir('mailkeep-tx-race-')
    for (let turns = 0; turns < 40; turns++) {
      const root = join(dir, String(turns))
      await mkdir(root)
      const folder = await FolderStore.open(root, 'INBOX', {mode: 'write', logger: silentLogger})
      await folder.initialize(7)
      const tx = await folder.begin({strategy, savepointMessages: 3, savepointBytes: 10 ** 9, delayAllMaxBytes: 10 ** 9})
      await tx.append(incoming(1), message(1))
      await tx.append(incoming(2), message(2))
      const appending = tx.append(incoming(3), message(3)).catch(() => undefined) // starts a savepoint
      for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve))
      await tx.rollback()
      await appending
      await folder.close()

      const again = await FolderStore.open(root, 'INBOX', {mode: 'write', logger: silentLogger})
      expect([0, 3], `after ${turns} turns`).toContain(again.messages.length)
      expect((await stat(again.paths.mbox)).size, `after ${turns} turns`).toBe(again.messages.end)
      for (const m of again.messages) expect((await again.readMessage(m.uid)).bytes.equals(message(m.uid))).toBe(true)
      await again.close()
    }
  })
})
