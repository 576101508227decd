/**
 * The backup is read-only during a restore: restore holds the account's shared lock (a backup
 * cannot start; a running backup stops it) and the upload lock (one upload from a backup at a
 * time). SIGINT stops a restore with exit 130 after recording what it uploaded; a rerun finishes.
 */
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {AccountStore} from '../../src/store/account-store.js'
import {acquireUploadLock} from '../../src/store/upload-map.js'
import {LockedError} from '../../src/shared/errors.js'
import {ExitCode} from '../../src/shared/exit-codes.js'
import {silentLogger} from '../../src/shared/logger.js'
import {serverAt} from '../support/mail-seed.js'
import {useTwoServers} from './two-servers.js'
import {accountEntry, defaultConfigPath, mailkeep, makeHome, show, spawnMailkeep, writeConfig} from '../cli/helpers.js'
import {accountFile, backup, backupFiles, backupItems, destinationItems, expectSameMail, makeConfig, restore} from '../transfer/helpers.js'

const w = useTwoServers('mailkeep-restore-lock-', 'INBOX', 600)

const config = (user: number): ReturnType<typeof makeConfig> =>
  makeConfig(w.dir, [accountFile(w.source, w.source.users[0]!, w.root), accountFile(serverAt(w.dest, w.proxy.port), w.dest.users[user]!, join(w.dir, `d${user}`))])

describe('locks', () => {
  it('a running backup (exclusive lock) stops a restore before anything is done (exit 5)', async () => {
    const writer = await AccountStore.open(w.root, {mode: 'write', logger: silentLogger})
    try {
      const error = await restore(await config(1), {account: w.source.users[0]!.user, to: w.dest.users[1]!.user}).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(LockedError)
      expect((error as LockedError).exitCode).toBe(ExitCode.LOCKED)
    } finally {
      await writer.close()
    }
  })

  it('another upload from the same backup (upload lock) stops a restore', async () => {
    const other = await acquireUploadLock(w.root)
    try {
      await expect(restore(await config(1), {account: w.source.users[0]!.user, to: w.dest.users[1]!.user})).rejects.toBeInstanceOf(LockedError)
    } finally {
      await other.release()
    }
  })

  it('a backup cannot start while a restore runs; the backup files stay as they were', async () => {
    const before = await backupFiles(w.root, 'INBOX')
    w.proxy.throttle(60_000)
    const running = restore(await config(2), {account: w.source.users[0]!.user, to: w.dest.users[2]!.user})
    await w.proxy.waitForCommand(/APPEND/)
    const blocked = await backup(await makeConfig(w.dir, [accountFile(w.source, w.source.users[0]!, w.root)]))
    w.proxy.throttle(null)
    expect(blocked.accounts[0]!.error?.exitCode).toBe(ExitCode.LOCKED)
    expect((await running).exitCode).toBe(0)
    expect(await backupFiles(w.root, 'INBOX')).toEqual(before)
  })
})

describe('SIGINT', () => {
  it('stops with exit 130 after recording the uploads; a rerun finishes without duplicates', async () => {
    const home = await makeHome()
    const alice = w.source.users[0]!
    const dave = w.dest.users[3]!
    await writeConfig(defaultConfigPath(home), {version: '2.2', accounts: [accountEntry(w.source, alice, w.root), accountEntry(serverAt(w.dest, w.proxy.port), dave, join(home, 'dave'))]})
    w.proxy.throttle(60_000)
    const run = spawnMailkeep(home, ['restore', alice.user, '--to', dave.user])
    let appends = 0
    const off = w.proxy.onCommand((c) => {
      if (c.name === 'APPEND' && ++appends === 80) run.kill('SIGINT')
    })
    const result = await run.exited
    off()
    w.proxy.throttle(null)
    expect(result.code, show(result)).toBe(ExitCode.SIGINT)
    // Everything uploaded before the signal is in the map (folded on the way out), not only in the journal.
    const map = JSON.parse(await readFile(join(w.root, 'INBOX.restore'), 'utf8'))
    expect(Object.keys(map.destinations[dave.user].INBOX.map).length).toBeGreaterThanOrEqual(50)
    const rerun = await mailkeep(home, ['restore', alice.user, '--to', dave.user, '--json'])
    expect(rerun.code, show(rerun)).toBe(0)
    expectSameMail(await destinationItems(w.dest, dave, 'INBOX'), await backupItems(w.root, 'INBOX'))
  })
})
