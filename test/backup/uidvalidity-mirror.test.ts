// UIDVALIDITY changes (compat §4.6, §9.2 items 9–13) and mirror mode (items 14–16): the old
// backup is moved aside intact and the folder downloaded again (an empty one starts afresh in
// place); in mirror mode local folders and messages the server no longer has are removed, in
// keep-all mode never. On each server of serverKinds(): each changes UIDVALIDITY its own way
// (forceUidValidityChange), and Courier also by itself for an empty folder.
import {copyFile, readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {InterruptedError} from '../../src/shared/errors.js'
import {AccountStore} from '../../src/store/account-store.js'
import {silentLogger} from '../../src/shared/logger.js'
import {readdir} from 'node:fs/promises'
import {DEFAULT_USERS} from '../support/dovecot.js'
import {appendMessages, createFolder, expunge, fetchMessages, folderName, folderStatus, forceUidValidityChange, serverAt} from '../support/mail-seed.js'
import {serverKinds, startServer, type ServerKind, type TestServer} from '../support/servers.js'
import {startProxy} from '../support/tcp-proxy.js'
import {testTempDir} from '../support/temp-dir.js'
import {accountFile, backup, expectBackupEqualsServer, expectConsistent, folderReport, makeConfig, readLocalFolder} from './helpers.js'

// imap-backup's feature-test messages (compat §9.1) and their mbox entries (compat §4.2).
const msg = (n: number): Buffer => Buffer.from(`From: address@example.org\r\nSubject: Test ${n}\r\n\r\nbody ${n}\r\n\r\n`)
const entry = (n: number): string => `From address@example.org\nFrom: address@example.org\nSubject: Test ${n}\n\nbody ${n}\n\n`

/** A fifth user whose INBOX never holds mail. */
const FRESH = {user: 'frank@example.test', password: 'frank-Pw-3e9d1f'}

describe.each(serverKinds())('%s', (kind: ServerKind) => {
  let dc: TestServer
  beforeAll(async () => {
    // Dovecot as imap-backup's tests run it: '.' without a prefix; the others as they come.
    dc = await startServer(kind, {separator: '.', dovecot: {prefix: ''}, users: [...DEFAULT_USERS, FRESH]})
  })
  afterAll(async () => {
    await dc?.stop()
  })

  describe('UIDVALIDITY change', () => {
    it('items 9–12: the old pair moves to <folder>-<old> intact; the new one is complete', async () => {
      const user = dc.users[0]!
      const folder = folderName(dc, 'stuff-to-backup')
      await createFolder(dc, user, folder)
      await appendMessages(dc, user, folder, [{raw: msg(1)}, {raw: msg(2)}])
      const dir = await testTempDir()
      const root = join(dir, 'backup')
      const config = await makeConfig(dir, [accountFile(dc, user, root, {folders: [folder]})])
      expect((await backup(config)).exitCode).toBe(0)
      const oldMbox = await readFile(join(root, `${folder}.mbox`))
      const oldImap = await readFile(join(root, `${folder}.imap`))

      const {before, after} = await forceUidValidityChange(dc, user, folder)
      await appendMessages(dc, user, folder, [{raw: msg(3)}])
      const report = await backup(config)
      expect(report.exitCode).toBe(0)
      expect(folderReport(report, folder)).toMatchObject({outcome: 'ok', new: 3, renamedTo: `${folder}-${before}`})
      expect((await readFile(join(root, `${folder}-${before}.mbox`))).equals(oldMbox)).toBe(true) // 9
      expect((await readFile(join(root, `${folder}-${before}.imap`))).equals(oldImap)).toBe(true) // 10
      // 11, in the server's UID order: Courier numbers the messages anew (in file-name order).
      const inUidOrder = (await fetchMessages(dc, user, folder)).map((m) => `From address@example.org\n${m.raw.toString('utf8').replace(/\r\n/g, '\n')}`)
      if (dc.facts.uidsSurviveUidValidityChange) expect(inUidOrder.join('')).toBe(entry(1) + entry(2) + entry(3))
      expect(await readFile(join(root, `${folder}.mbox`), 'utf8')).toBe(inUidOrder.join(''))
      expect([...inUidOrder].sort()).toEqual([entry(1), entry(2), entry(3)])
      const imap = JSON.parse(await readFile(join(root, `${folder}.imap`), 'utf8')) as {uid_validity: number}
      expect(imap.uid_validity).toBe(after) // 12
      await expectBackupEqualsServer(dc, user, root, folder)
    })

    it('item 13: when <folder>-<old> is taken, the old pair goes to <folder>-<old>-1', async () => {
      const user = dc.users[1]!
      const folder = folderName(dc, 'renamed')
      await createFolder(dc, user, folder)
      await appendMessages(dc, user, folder, [{raw: msg(1)}])
      const dir = await testTempDir()
      const root = join(dir, 'backup')
      const config = await makeConfig(dir, [accountFile(dc, user, root)])
      expect((await backup(config)).exitCode).toBe(0)
      const {uidValidity} = await folderStatus(dc, user, folder)
      // A valid pair already has the name the rename would take.
      await copyFile(join(root, `${folder}.mbox`), join(root, `${folder}-${uidValidity}.mbox`))
      await copyFile(join(root, `${folder}.imap`), join(root, `${folder}-${uidValidity}.imap`))

      await forceUidValidityChange(dc, user, folder)
      const report = await backup(config)
      expect(report.exitCode).toBe(0)
      expect(folderReport(report, folder).renamedTo).toBe(`${folder}-${uidValidity}-1`)
      expect(await readFile(join(root, `${folder}-${uidValidity}-1.mbox`), 'utf8')).toBe(entry(1))
      await expectBackupEqualsServer(dc, user, root, folder)
    })

    it('a change noticed after a reconnect mid-folder: savepoints move with the old backup, the folder starts again', async () => {
      const user = dc.users[2]!
      const folder = folderName(dc, 'busy')
      await createFolder(dc, user, folder)
      await appendMessages(dc, user, folder, Array.from({length: 12}, (_, i) => ({raw: msg(i + 1)})))
      const proxy = await startProxy({targetPort: dc.port})
      try {
        const dir = await testTempDir()
        const root = join(dir, 'backup')
        const config = await makeConfig(dir, [accountFile(serverAt(dc, proxy.port), user, root, {multi_fetch_size: 2})], {savepoint_messages: 2})
        let fetches = 0
        let change: Promise<unknown> | undefined
        proxy.onCommand((c) => {
          if (c.name !== 'UID FETCH' || !/BODY\.PEEK\[\]/.test(c.line) || ++fetches !== 3) return
          // Cut the link before the third batch, keep the server away, change UIDVALIDITY.
          proxy.dropNow()
          change = (async () => {
            await proxy.refuseNew(true)
            try {
              return await forceUidValidityChange(dc, user, folder)
            } finally {
              await proxy.refuseNew(false)
            }
          })()
        })
        const report = await backup(config, {retry: {attempts: 10, baseDelayMs: 100, maxDelayMs: 400}})
        const {before} = (await change) as {before: number}
        expect(report.exitCode).toBe(0)
        expect(folderReport(report, folder)).toMatchObject({outcome: 'ok', renamedTo: `${folder}-${before}`})
        const old = await readLocalFolder(root, `${folder}-${before}`)
        expectConsistent(old)
        expect(old.uidValidity).toBe(before)
        expect(old.messages.map((m) => m.uid)).toEqual([1, 2, 3, 4])
        await expectBackupEqualsServer(dc, user, root, folder)
      } finally {
        await proxy.close()
      }
    })
  })

  describe('UIDVALIDITY change of an empty folder (issue 11 item 4)', () => {
    it('keeps nothing aside and makes no <folder>-<n> pair, however often it happens', async () => {
      // FRESH's INBOX never held mail: Courier gives it a new UIDVALIDITY in every session, the
      // others keep one; forceUidValidityChange changes the empty folder's on every server.
      const empty = folderName(dc, 'empty')
      await createFolder(dc, FRESH, empty)
      const dir = await testTempDir()
      const root = join(dir, 'backup')
      const config = await makeConfig(dir, [accountFile(dc, FRESH, root)])
      const seen = new Set<number>()
      for (let run = 0; run < 3; run++) {
        const report = await backup(config)
        expect(report.exitCode).toBe(0)
        for (const folder of ['INBOX', empty]) {
          expect(folderReport(report, folder).renamedTo, `${folder}, run ${run + 1}`).toBeUndefined()
          const local = await readLocalFolder(root, folder)
          expect(local.messages).toEqual([])
          if (folder === empty) seen.add(local.uidValidity!)
        }
        expect((await readdir(root)).filter((f) => !f.startsWith('.')).sort()).toEqual(['INBOX.imap', 'INBOX.mbox', `${empty}.imap`, `${empty}.mbox`].sort())
        await forceUidValidityChange(dc, FRESH, empty)
      }
      // The backups really did see new values.
      expect(seen.size).toBe(3)
      // And the first message after it is backed up as usual.
      await appendMessages(dc, FRESH, empty, [{raw: msg(1)}])
      const report = await backup(config)
      expect(folderReport(report, empty)).toMatchObject({outcome: 'ok', new: 1})
      expect(folderReport(report, empty).renamedTo).toBeUndefined()
      await expectBackupEqualsServer(dc, FRESH, root, empty)
    })
  })

  describe('mirror mode', () => {
    it('items 14–15: the local pair of a folder that is not backed up is removed', async () => {
      const user = dc.users[3]!
      const stuff = folderName(dc, 'stuff')
      await createFolder(dc, user, stuff)
      await appendMessages(dc, user, stuff, [{raw: msg(1)}])
      const dir = await testTempDir()
      const root = join(dir, 'backup')
      // A local folder Foo, as imap-backup's test writes it (not on the server).
      const store = await AccountStore.open(root, {mode: 'write', logger: silentLogger})
      try {
        const foo = await store.folder('Foo')
        await foo.initialize(42)
        const tx = await foo.begin()
        await tx.append({uid: 1, flags: [], internalDate: null}, msg(9))
        await tx.commit()
      } finally {
        await store.close()
      }
      const config = await makeConfig(dir, [accountFile(dc, user, root, {mirror_mode: true, folders: [stuff]})])
      const report = await backup(config)
      expect(report.exitCode).toBe(0)
      expect(folderReport(report, 'Foo').outcome).toBe('removed')
      await expect(readFile(join(root, 'Foo.imap'))).rejects.toThrow(/ENOENT/) // 14
      await expect(readFile(join(root, 'Foo.mbox'))).rejects.toThrow(/ENOENT/) // 15
      await expectBackupEqualsServer(dc, user, root, stuff)
    })

    it('item 16: after UID 1 is expunged and a message added, the mbox holds the other two', async () => {
      const user = {user: 'erin@example.test', password: 'erin-Pw-0a1b2c'}
      const own = await startServer(kind, {separator: '.', dovecot: {prefix: ''}, users: [user]})
      try {
        const folder = folderName(own, 'stuff-to-backup')
        await createFolder(own, user, folder)
        const [uid1] = await appendMessages(own, user, folder, [{raw: msg(1)}, {raw: msg(2)}])
        const dir = await testTempDir()
        const root = join(dir, 'backup')
        const config = await makeConfig(dir, [accountFile(own, user, root, {mirror_mode: true, folders: [folder]})])
        expect((await backup(config)).exitCode).toBe(0)
        await expunge(own, user, folder, [uid1!])
        await appendMessages(own, user, folder, [{raw: msg(3)}])
        const report = await backup(config)
        expect(report.exitCode).toBe(0)
        expect(folderReport(report, folder)).toMatchObject({outcome: 'ok', new: 1, deleted: 1})
        expect(await readFile(join(root, `${folder}.mbox`), 'utf8')).toBe(entry(2) + entry(3))
        await expectBackupEqualsServer(own, user, root, folder)

        // Keep-all mode never deletes.
        const keepDir = await testTempDir()
        const keepRoot = join(keepDir, 'backup')
        const keep = await makeConfig(keepDir, [accountFile(own, user, keepRoot, {folders: [folder]})])
        expect((await backup(keep)).exitCode).toBe(0)
        const [uid2] = (await readLocalFolder(keepRoot, folder)).messages.map((m) => m.uid)
        await expunge(own, user, folder, [uid2!])
        const again = await backup(keep, {refresh: true})
        expect(folderReport(again, folder).deleted).toBe(0)
        expect((await readLocalFolder(keepRoot, folder)).messages.map((m) => m.uid)).toContain(uid2)
      } finally {
        await own.stop()
      }
    })
  })

  // Not about the server: Dovecot only.
  describe.runIf(kind === 'dovecot')('interruption', () => {
    it('an aborted signal mid-folder rejects with the InterruptedError; the rerun completes the folder', async () => {
      const user = dc.users[0]!
      const folder = folderName(dc, 'interrupted')
      await createFolder(dc, user, folder)
      await appendMessages(dc, user, folder, Array.from({length: 40}, (_, i) => ({raw: msg(i + 1)})))
      const proxy = await startProxy({targetPort: dc.port})
      try {
        const dir = await testTempDir()
        const root = join(dir, 'backup')
        const config = await makeConfig(dir, [accountFile(serverAt(dc, proxy.port), user, root, {folders: [folder], multi_fetch_size: 5})], {savepoint_messages: 10})
        const controller = new AbortController()
        let fetches = 0
        proxy.onCommand((c) => {
          if (c.name === 'UID FETCH' && /BODY\.PEEK\[\]/.test(c.line) && ++fetches === 5) controller.abort(new InterruptedError('SIGINT'))
        })
        const {silentContext} = await import('../../src/shared/context.js')
        await expect(backup(config, {}, silentContext({signal: controller.signal}))).rejects.toBeInstanceOf(InterruptedError)
        const partial = await readLocalFolder(root, folder)
        expectConsistent(partial)
        // Rolled back to the last savepoint (every 10 messages): 20 of the 20–25 fetched.
        expect(partial.messages.length).toBe(20)
        // The lock was released: a second run works and completes the folder.
        const report = await backup(config)
        expect(report.exitCode).toBe(0)
        expect(folderReport(report, folder).new).toBe(20)
        await expectBackupEqualsServer(dc, user, root, folder)
      } finally {
        await proxy.close()
      }
    })
  })
})
