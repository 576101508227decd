// `local repair` of a folder holding ignore-history's placeholders, its `.imap` lost (found by the
// sequence test: `repair-placeholders`). A placeholder's text is not the server's message, so
// repair matched none of them and gave the whole folder unverified UIDs (UIDVALIDITY
// 4294967296); the next backup then moved it aside and downloaded the folder in full, undoing
// ignore-history, and `local check` warned about the kept-aside copy forever. A placeholder names
// its UID: repair gives it that UID (docs/repair.md, "ignore-history's placeholders"), and never
// matches it to a message. Through the real CLI, against each real server of the harness.
import {rm} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import type {RepairReport} from '../../src/engine/repair/repair.js'
import type {BackupReport} from '../../src/engine/backup/types.js'
import {encodeFolderPath} from '../../src/store/folder-path.js'
import {appendMessages, createFolder, expunge, folderName, folderStatus, seedMessage} from '../support/mail-seed.js'
import {serverKinds, startServer, type ServerKind, type TestServer} from '../support/servers.js'
import {testTempDir} from '../support/temp-dir.js'
import {accountEntry, mailkeep, show, stored, writeConfig} from './helpers.js'

vi.setConfig({testTimeout: 180_000})

const placeholderText = (uid: number): string => `From: fake@email.com\nSubject: Message ${uid} not backed up\nSkipped ${uid}\n`

describe.each(serverKinds())('%s', (kind: ServerKind) => {
  let instance: TestServer

  beforeAll(async () => {
    instance = await startServer(kind)
  })
  afterAll(async () => {
    await instance?.stop()
  })

  it('gives each placeholder the UID it names, matches the real mail, and the next backup downloads nothing', async () => {
    const user = instance.users[0]!
    const folder = folderName(instance, 'Ignored')
    await createFolder(instance, user, folder)
    const old = await appendMessages(instance, user, folder, [seedMessage(1), seedMessage(2), seedMessage(3)])
    const home = await testTempDir('mailkeep-repair-placeholders-')
    const root = join(home, 'backup')
    await writeConfig(home, [accountEntry(instance, user, root, {folders: [folder]})])
    const ignored = await mailkeep(home, ['utils', 'ignore-history', user.user])
    expect(ignored.code, show(ignored)).toBe(0)

    // Real mail after it: a seed message, and one that looks like a placeholder (its sender and
    // Subject, no Message-ID or Date) but is not one byte for byte: it must stay a message.
    const impostor = {raw: Buffer.from(`From: fake@email.com\r\nSubject: Message ${old[0]} not backed up\r\n\r\nSkipped ${old[0]}\r\n`), flags: ['\\Seen'], internalDate: new Date('2024-01-02T03:04:05Z')}
    const fresh = await appendMessages(instance, user, folder, [seedMessage(4), impostor])
    const first = await mailkeep(home, ['backup'])
    expect(first.code, show(first)).toBe(0)
    // One placeholder's message leaves the server: its placeholder keeps its UID (below UIDNEXT).
    await expunge(instance, user, folder, [old[1]!])

    await rm(join(root, `${encodeFolderPath(folder)}.imap`))
    const r = await mailkeep(home, ['local', 'repair', user.user, folder, '--json'])
    expect(r.code, show(r)).toBe(0)
    const report = JSON.parse(r.stdout) as RepairReport
    const f = report.folders[0]!
    const {uidValidity} = await folderStatus(instance, user, folder)
    expect(f).toMatchObject({action: 'rebuilt', uids: 'verified', uidValidity, messages: 5, matched: 2, placeholders: 2})
    expect(f.kept).toEqual([expect.objectContaining({uid: old[1], reason: 'not-on-server', subject: `Message ${old[1]} not backed up`})])
    expect(f.after).toEqual([])

    // Every placeholder under its own UID, unchanged; the real messages under theirs.
    const local = await stored(root, folder)
    const byUid = new Map(local.map((m) => [m.uid, m]))
    expect([...byUid.keys()].sort((a, b) => a - b)).toEqual([...old, ...fresh].sort((a, b) => a - b))
    for (const uid of old) expect(byUid.get(uid)!.bytes.toString('utf8'), `UID ${uid}`).toBe(placeholderText(uid))
    for (const uid of old) expect(byUid.get(uid)!.flags, `UID ${uid}`).toEqual([])
    expect(byUid.get(fresh[1]!)!.bytes.toString('utf8').replace(/\r\n/g, '\n')).toBe(impostor.raw.toString('utf8').replace(/\r\n/g, '\n'))
    expect(byUid.get(fresh[1]!)!.flags).toEqual(['Seen'])

    const check = await mailkeep(home, ['local', 'check', '-a', user.user])
    expect(check.code, show(check)).toBe(0)
    expect(check.stdout).not.toMatch(/unverified|placeholder UID/)

    // The next backup continues the folder: nothing moved aside, nothing downloaded again.
    const next = await mailkeep(home, ['backup', '--json'])
    expect(next.code, show(next)).toBe(0)
    const backup = JSON.parse(next.stdout) as BackupReport
    const entry = backup.accounts[0]!.folders.find((x) => x.folder === folder)!
    expect(entry.renamedTo).toBeUndefined()
    expect(entry.new).toBe(0)
    expect((await stored(root, folder)).map((m) => m.uid)).toEqual(local.map((m) => m.uid))
  })
})
