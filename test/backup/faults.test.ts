// Network faults injected by the loopback proxy, and accounts that cannot be backed up: the run
// resumes from its savepoint on a new connection (no duplicate, no extra byte), gives a folder
// up after the retries (savepoints kept, the rest still backed up, exit 4), and one failing
// account never stops the others (compat §9.2 items 17–18: a refused login gives 111).
import {execFile} from 'node:child_process'
import {mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ExitCode} from '../../src/shared/exit-codes.js'
import {AccountStore} from '../../src/store/account-store.js'
import {silentLogger} from '../../src/shared/logger.js'
import {startDovecot, type DovecotInstance} from '../support/dovecot.js'
import {fetchMessages, folderName, seedFolder, seedMessage, serverAt} from '../support/mail-seed.js'
import {startProxy, type TcpProxy} from '../support/tcp-proxy.js'
import {testTempDir} from '../support/temp-dir.js'
import {accountFile, backup, backupLogged, bodyFetches, expectBackupEqualsServer, expectConsistent, folderReport, makeConfig, readLocalFolder} from './helpers.js'

/** A seeded message with a body of about `size` bytes, so FETCH literals are worth cutting. */
function padded(size: number) {
  return (i: number) => {
    const m = seedMessage(i)
    return {...m, raw: Buffer.concat([m.raw, Buffer.from(`${'x'.repeat(76)}\r\n`.repeat(Math.ceil(size / 78)))])}
  }
}

const isBodyFetch = (line: string): boolean => /BODY\.PEEK\[\]/.test(line)

let dc: DovecotInstance
let proxy: TcpProxy
let big: string

beforeAll(async () => {
  dc = await startDovecot()
  proxy = await startProxy({targetPort: dc.port})
  big = folderName(dc, 'Big')
  for (const user of dc.users.slice(0, 3)) {
    await seedFolder(dc, user, big, 300, padded(4000))
    await seedFolder(dc, user, 'INBOX', 25)
  }
})
afterAll(async () => {
  await proxy?.close()
  await dc?.stop()
})

describe('a link that breaks', () => {
  it('once in the middle of a FETCH literal: the run completes and equals the server', async () => {
    const user = dc.users[0]!
    const dir = await testTempDir()
    const root = join(dir, 'backup')
    const config = await makeConfig(dir, [accountFile(serverAt(dc, proxy.port), user, root, {multi_fetch_size: 20})], {savepoint_messages: 50})
    let fetches = 0
    const off = proxy.onCommand((c) => {
      if (c.name === 'UID FETCH' && isBodyFetch(c.line) && ++fetches === 6) proxy.dropInLiteral({minSize: 1024, offset: 1500})
    })
    proxy.resetStats()
    try {
      const report = await backup(config)
      expect(report.exitCode).toBe(0)
      expect(proxy.stats.drops).toBe(1)
      expect(proxy.stats.connections).toBe(2)
      expect(folderReport(report, big)).toMatchObject({outcome: 'ok', new: 300, failedMessages: []})
    } finally {
      off()
      proxy.disarm()
    }
    await expectBackupEqualsServer(dc, user, root, big)
    await expectBackupEqualsServer(dc, user, root, 'INBOX')
  })

  it('several times, also with direct and delay_all: no duplicate UID, no extra byte', async () => {
    for (const strategy of ['delay_metadata', 'direct', 'delay_all'] as const) {
      const user = dc.users[0]!
      const dir = await testTempDir()
      const root = join(dir, 'backup')
      const config = await makeConfig(dir, [accountFile(serverAt(dc, proxy.port), user, root, {multi_fetch_size: 15, folders: [big]})], {
        savepoint_messages: 40,
        download_strategy: strategy,
      })
      let fetches = 0
      const off = proxy.onCommand((c) => {
        // Every 4th body FETCH is cut somewhere in its literals, 4 times in all.
        if (c.name === 'UID FETCH' && isBodyFetch(c.line) && ++fetches % 4 === 0 && fetches <= 16) {
          proxy.dropInLiteral({minSize: 1024, offset: 100 + fetches * 97})
        }
      })
      proxy.resetStats()
      try {
        const report = await backup(config)
        expect(report.exitCode, strategy).toBe(0)
        expect(proxy.stats.drops, strategy).toBe(4)
        expect(folderReport(report, big).new, strategy).toBe(300)
      } finally {
        off()
        proxy.disarm()
      }
      await expectBackupEqualsServer(dc, user, root, big)
    }
  })

  it('again and again: the folder fails with its savepoints kept, the next folder and account are backed up (exit 4)', async () => {
    const [first, second] = [dc.users[1]!, dc.users[2]!]
    const dir = await testTempDir()
    const root1 = join(dir, 'one')
    const root2 = join(dir, 'two')
    const server = serverAt(dc, proxy.port)
    const config = await makeConfig(dir, [accountFile(server, first, root1, {multi_fetch_size: 10}), accountFile(server, second, root2, {multi_fetch_size: 50})], {
      savepoint_messages: 25,
    })
    let fetches = 0
    let failing = false
    const off = proxy.onCommand((c) => {
      // Big of the first account: 6 batches go through, then the link breaks at the 7th and
      // at every EXAMINE of Big after that (logging in still works).
      if (c.name === 'UID FETCH' && isBodyFetch(c.line) && ++fetches === 7) {
        failing = true
        proxy.dropNow()
      }
      if (c.name === 'EXAMINE' && c.line.includes('Big') && failing) proxy.dropNow()
      if (c.name === 'EXAMINE' && c.line.includes('INBOX')) failing = false
    })
    proxy.resetStats()
    let report
    try {
      ;({report} = await backupLogged(config))
    } finally {
      off()
    }
    expect(report.exitCode).toBe(ExitCode.INCOMPLETE)
    const [one, two] = report.accounts
    expect(one!.outcome).toBe('incomplete')
    const failed = folderReport(report, big, first.user)
    expect(failed.outcome).toBe('failed')
    expect(failed.error).toMatchObject({name: 'TransientImapError', exitCode: ExitCode.INCOMPLETE})
    // The link broke before the 7th batch: a savepoint kept all 60 messages received before.
    expect(failed.new).toBe(60)
    const kept = await readLocalFolder(root1, big)
    expectConsistent(kept)
    expect(kept.messages.length).toBe(60)
    const remote = await fetchMessages(dc, first, big, kept.messages.map((m) => m.uid))
    for (const [i, m] of kept.messages.entries()) expect(m.bytes.equals(remote[i]!.raw)).toBe(true)
    expect(kept.uidNext, 'an incomplete folder records no UIDNEXT').toBeUndefined()
    // The next folder of the account and the next account are backed up.
    await expectBackupEqualsServer(dc, first, root1, 'INBOX')
    expect(two!.outcome).toBe('ok')
    await expectBackupEqualsServer(dc, second, root2, big)

    // The next run completes the folder from where it stopped.
    proxy.resetStats()
    const rerun = await backup(config)
    expect(rerun.exitCode).toBe(0)
    expect(folderReport(rerun, big, first.user).new).toBe(240)
    expect(bodyFetches(proxy).some((line) => / 1:/.test(line))).toBe(false)
    await expectBackupEqualsServer(dc, first, root1, big)
  })

  it('a server that cannot be reached any more: the remaining folders are reported, not tried for minutes', async () => {
    const user = dc.users[0]!
    const dir = await testTempDir()
    const root = join(dir, 'backup')
    const config = await makeConfig(dir, [accountFile(serverAt(dc, proxy.port), user, root, {folders: [big, 'INBOX']})])
    const off = proxy.onCommand((c) => {
      if (c.name === 'EXAMINE' && c.line.includes('Big')) {
        proxy.dropNow()
        void proxy.refuseNew(true)
      }
    })
    try {
      const report = await backup(config)
      expect(report.exitCode).toBe(ExitCode.INCOMPLETE)
      expect(folderReport(report, big)).toMatchObject({outcome: 'failed'})
      expect(folderReport(report, 'INBOX')).toMatchObject({outcome: 'failed', error: {name: 'NotAttempted'}})
      expect(folderReport(report, 'INBOX').error!.message).toMatch(/could not be reached.*connection refused/)
    } finally {
      off()
      await proxy.refuseNew(false)
    }
  })
})

describe('accounts that cannot be backed up', () => {
  it('items 17–18: a refused login gives 111 and the next account is still backed up', async () => {
    const [first, second] = [dc.users[0]!, dc.users[1]!]
    const dir = await testTempDir()
    const config = await makeConfig(dir, [
      accountFile(dc, {...first, password: 'not-the-password'}, join(dir, 'one')),
      accountFile(dc, second, join(dir, 'two'), {folders: ['INBOX']}),
    ])
    const {report, log} = await backupLogged(config)
    expect(report.exitCode).toBe(ExitCode.CONNECTION)
    expect(report.accounts[0]).toMatchObject({outcome: 'failed', error: {exitCode: ExitCode.CONNECTION}})
    expect(report.accounts[1]!.outcome).toBe('ok')
    await expectBackupEqualsServer(dc, second, join(dir, 'two'), 'INBOX')
    expect(log.records.some((r) => r.level === 'error' && r.message.startsWith(`Backup for account '${first.user}' failed with error`))).toBe(true)
    expect(JSON.stringify(log.records)).not.toContain('not-the-password')
    expect(JSON.stringify(report)).not.toContain('not-the-password')
  })

  it('a locked account fails with 5 naming the pid; the others run', async () => {
    const [first, second] = [dc.users[0]!, dc.users[1]!]
    const dir = await testTempDir()
    const config = await makeConfig(dir, [accountFile(dc, first, join(dir, 'one')), accountFile(dc, second, join(dir, 'two'), {folders: ['INBOX']})])
    const holder = await AccountStore.open(join(dir, 'one'), {mode: 'write', logger: silentLogger})
    try {
      const report = await backup(config)
      expect(report.exitCode).toBe(ExitCode.LOCKED)
      expect(report.accounts[0]).toMatchObject({outcome: 'failed', error: {name: 'LockedError', exitCode: ExitCode.LOCKED}})
      expect(report.accounts[0]!.error!.message).toContain(`pid ${process.pid}`)
      expect(report.accounts[1]!.outcome).toBe('ok')
    } finally {
      await holder.close()
    }
  })

  it('a folder with damaged files fails with 6 and its repair hint; the other folders are backed up', async () => {
    const user = dc.users[2]!
    const dir = await testTempDir()
    const root = join(dir, 'backup')
    const config = await makeConfig(dir, [accountFile(dc, user, root)])
    expect((await backup(config)).exitCode).toBe(0)
    await writeFile(join(root, 'INBOX.imap'), '{"version":3,"uid_val')
    const report = await backup(config)
    expect(report.exitCode).toBe(ExitCode.DAMAGED)
    expect(report.accounts[0]!.outcome).toBe('incomplete')
    expect(folderReport(report, 'INBOX')).toMatchObject({outcome: 'failed', error: {name: 'DamagedError', exitCode: ExitCode.DAMAGED, hint: expect.stringContaining('mailkeep local repair')}})
    expect(folderReport(report, big).outcome).toBe('unchanged')
  })

  it('only active accounts are backed up; none left is a warning and exit 0', async () => {
    const dir = await testTempDir()
    const config = await makeConfig(dir, [
      accountFile(dc, dc.users[0]!, join(dir, 'one'), {status: 'archived'}),
      accountFile(dc, dc.users[1]!, join(dir, 'two'), {status: 'offline'}),
    ])
    const {report, log} = await backupLogged(config)
    expect(report.exitCode).toBe(0)
    expect(report.accounts.map((a) => a.outcome)).toEqual(['skipped', 'skipped'])
    expect(report.accounts[0]!.error!.message).toContain("status is 'archived'")
    expect(log.records.filter((r) => r.level === 'warn').map((r) => r.message)).toEqual(['No matching accounts found to backup'])
    await expect(backup(config, {accounts: ['nobody@example.test']})).rejects.toThrow(/nobody@example.test is not a configured account/)
  })
})

describe('a full disk', () => {
  it('rolls the folder back to its last savepoint and ends the run with 8', async ({skip}) => {
    const run = promisify(execFile)
    const dir = await testTempDir()
    const small = join(dir, 'small')
    await mkdir(small)
    try {
      await run('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', small])
    } catch {
      skip() // needs root (or CAP_SYS_ADMIN) to mount a small file system
    }
    try {
      const [first, second] = [dc.users[0]!, dc.users[1]!]
      const config = await makeConfig(dir, [accountFile(dc, first, join(small, 'one'), {folders: [big]}), accountFile(dc, second, join(dir, 'two'))], {savepoint_messages: 50})
      const report = await backup(config)
      expect(report.exitCode).toBe(ExitCode.LOCAL_IO)
      const failed = folderReport(report, big, first.user)
      expect(failed).toMatchObject({outcome: 'failed', error: {name: 'LocalIoError', exitCode: ExitCode.LOCAL_IO}})
      expect(failed.error!.message).toMatch(/no space left on device/)
      expect(report.accounts[1]).toMatchObject({outcome: 'skipped', error: {message: expect.stringMatching(/local I\/O error/)}})
      const kept = await readLocalFolder(join(small, 'one'), big)
      expectConsistent(kept)
      expect(kept.messages.length % 50).toBe(0)
      expect(kept.messages.length).toBe(failed.new)
    } finally {
      await run('umount', [small])
    }
  })
})
