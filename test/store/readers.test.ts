/**
 * Readers without a lock (the read-only `local` commands) against a writer at work in another
 * process (writer-loop.mjs: savepoints, commits, rollbacks, mirror-mode rewrites, UIDVALIDITY
 * renames). Every read must be one committed state (docs/design.md, "Readers"): UIDs unique and
 * ascending, every message's bytes exactly what was stored, and the integrity check finding no
 * error. Needs `npm run build` (the writer runs the built store).
 */
import {spawn} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {afterEach, describe, expect, it} from 'vitest'
import {AccountStore} from '../../src/store/account-store.js'
import {checkAccount} from '../../src/store/integrity.js'
import {liveWriterPid} from '../../src/store/writer-pid.js'
import {BusyError} from '../../src/shared/errors.js'
import {silentLogger} from '../../src/shared/logger.js'
import {makeTempDir, removeTempDir} from '../support/temp-dir.js'
import {testMessage} from './messages.mjs'
import {requireBuild} from './store-process.js'

const WRITER = fileURLToPath(new URL('./writer-loop.mjs', import.meta.url))

let dir: string | undefined
afterEach(async () => {
  if (dir !== undefined) await removeTempDir(dir)
  dir = undefined
})

describe('readers during a write', () => {
  it('each read is one committed state, while a writer commits, rolls back, rewrites and renames the folder', async () => {
    requireBuild()
    dir = await makeTempDir('mailkeep-readers-')
    const root = dir
    const writer = spawn(process.execPath, [WRITER, root, '120'], {stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    let err = ''
    writer.stdout.on('data', (d: Buffer) => (out += d.toString()))
    writer.stderr.on('data', (d: Buffer) => (err += d.toString()))
    const exited = new Promise<number | null>((resolve) => writer.once('exit', (code) => resolve(code)))
    let running = true
    void exited.then(() => (running = false))
    while (!out.includes('ready') && running) await new Promise((r) => setTimeout(r, 10))

    const stats = {reads: 0, messages: 0, busy: 0, checks: 0, sawWriter: 0}
    const problems: string[] = []
    while (running) {
      try {
        const store = await AccountStore.open(root, {mode: 'read', logger: silentLogger, withoutLock: true})
        try {
          const folder = await store.folder('INBOX')
          const uids = [...folder.messages].map((m) => m.uid)
          for (let i = 1; i < uids.length; i++) if (!(uids[i]! > uids[i - 1]!)) problems.push(`UIDs not ascending: ${uids.join(',')}`)
          for (const uid of uids) {
            const {bytes, exact} = await folder.readMessage(uid)
            if (!exact || !bytes.equals(testMessage(uid))) problems.push(`UID ${uid} read back wrong (exact: ${exact})`)
            stats.messages++
          }
          stats.reads++
        } finally {
          await store.close()
        }
        if ((await liveWriterPid(root)) === writer.pid) stats.sawWriter++
        const checked = await checkAccount(root, {writerPid: writer.pid!})
        for (const folder of checked) for (const f of folder.findings) if (f.severity === 'error') problems.push(`check of ${folder.name}: ${f.message}`)
        stats.checks++
      } catch (error) {
        if (error instanceof BusyError) stats.busy++
        else problems.push(`read failed: ${(error as Error).message}`)
      }
    }
    expect(await exited, err).toBe(0)
    expect(out).toContain('done')
    console.log(`readers: ${stats.reads} reads of ${stats.messages} messages and ${stats.checks} checks during the writes; ${stats.busy} busy`)
    expect(problems.slice(0, 10)).toEqual([])
    // The readers really ran during the writing, and knew the writer was there.
    expect(stats.reads).toBeGreaterThanOrEqual(5)
    expect(stats.sawWriter).toBeGreaterThan(0)
    expect(stats.busy).toBeLessThan(stats.reads)
  }, 180_000)
})
