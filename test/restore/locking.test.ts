/**
 * The backup is read-only during a restore: restore holds the account's shared lock (a backup
 * cannot start; a running backup stops it) and the upload lock (one upload from a backup at a
 * time). SIGINT stops a restore with exit 130 after recording what it uploaded; a rerun finishes.
 */
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {AccountStore} from '../../src/store/account-store.js'
import {acquireUploadLock} from '../../src/store/upload-map.js'
import {LockedError} from '../../src/shared/errors.js'
import {ExitCode} from '../../src/shared/exit-codes.js'
import {silentLogger} from '../../src/shared/logger.js'
import {startDovecot, type DovecotInstance} from '../support/dovecot.js'
import {seedFolder, serverAt} from '../support/mail-seed.js'
import {startProxy, type TcpProxy} from '../support/tcp-proxy.js'
import {makeTempDir, removeTempDir} from '../support/temp-dir.js'
import {accountEntry, defaultConfigPath, mailkeep, makeHome, show, spawnMailkeep, writeConfig} from '../cli/helpers.js'
import {accountFile, backup, backupFiles, backupItems, destinationItems, expectSameMail, makeConfig, restore} from '../transfer/helpers.js'

let source: DovecotInstance
let dest: DovecotInstance
let proxy: TcpProxy
let dir: string
let root: string

beforeAll(async () => {
  ;[source, dest] = await Promise.all([startDovecot({separator: '/'}), startDovecot({separator: '/'})])
  proxy = await startProxy({targetPort: dest.port})
  dir = await makeTempDir('mailkeep-restore-lock-')
  root = join(dir, 'alice')
  await seedFolder(source, source.users[0]!, 'INBOX', 600)
  expect((await backup(await makeConfig(dir, [accountFile(source, source.users[0]!, root)]))).exitCode).toBe(0)
})

afterAll(async () => {
  await proxy?.close()
  await source?.stop()
  await dest?.stop()
  if (dir !== undefined) await removeTempDir(dir)
})

const config = (user: number): ReturnType<typeof makeConfig> =>
  makeConfig(dir, [accountFile(source, source.users[0]!, root), accountFile(serverAt(dest, proxy.port), dest.users[user]!, join(dir, `d${user}`))])

describe('locks', () => {
  it('a running backup (exclusive lock) stops a restore before anything is done (exit 5)', async () => {
    const writer = await AccountStore.open(root, {mode: 'write', logger: silentLogger})
    try {
      const error = await restore(await config(1), {account: source.users[0]!.user, to: dest.users[1]!.user}).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(LockedError)
      expect((error as LockedError).exitCode).toBe(ExitCode.LOCKED)
    } finally {
      await writer.close()
    }
  })

  it('another upload from the same backup (upload lock) stops a restore', async () => {
    const other = await acquireUploadLock(root)
    try {
      await expect(restore(await config(1), {account: source.users[0]!.user, to: dest.users[1]!.user})).rejects.toBeInstanceOf(LockedError)
    } finally {
      await other.release()
    }
  })

  it('a backup cannot start while a restore runs; the backup files stay as they were', async () => {
    const before = await backupFiles(root, 'INBOX')
    proxy.throttle(60_000)
    const running = restore(await config(2), {account: source.users[0]!.user, to: dest.users[2]!.user})
    await proxy.waitForCommand(/APPEND/)
    const blocked = await backup(await makeConfig(dir, [accountFile(source, source.users[0]!, root)]))
    proxy.throttle(null)
    expect(blocked.accounts[0]!.error?.exitCode).toBe(ExitCode.LOCKED)
    expect((await running).exitCode).toBe(0)
    expect(await backupFiles(root, 'INBOX')).toEqual(before)
  })
})

describe('SIGINT', () => {
  it('stops with exit 130 after recording the uploads; a rerun finishes without duplicates', async () => {
    const home = await makeHome()
    const alice = source.users[0]!
    const dave = dest.users[3]!
    await writeConfig(defaultConfigPath(home), {version: '2.2', accounts: [accountEntry(source, alice, root), accountEntry(serverAt(dest, proxy.port), dave, join(home, 'dave'))]})
    proxy.throttle(60_000)
    const run = spawnMailkeep(home, ['restore', alice.user, '--to', dave.user])
    let appends = 0
    const off = proxy.onCommand((c) => {
      if (c.name === 'APPEND' && ++appends === 80) run.kill('SIGINT')
    })
    const result = await run.exited
    off()
    proxy.throttle(null)
    expect(result.code, show(result)).toBe(ExitCode.SIGINT)
    // Everything uploaded before the signal is in the map (folded on the way out), not only in the journal.
    const map = JSON.parse(await readFile(join(root, 'INBOX.restore'), 'utf8'))
    expect(Object.keys(map.destinations[dave.user].INBOX.map).length).toBeGreaterThanOrEqual(50)
    const rerun = await mailkeep(home, ['restore', alice.user, '--to', dave.user, '--json'])
    expect(rerun.code, show(rerun)).toBe(0)
    expectSameMail(await destinationItems(dest, dave, 'INBOX'), await backupItems(root, 'INBOX'))
  })
})
