/**
 * `mailkeep utils ignore-history` end to end (compat §9.2 116–118): the exact dummy entries, one
 * transaction per folder, the recorded UIDNEXT, a UIDVALIDITY change (on each server; an empty
 * folder's keeps nothing aside), and a later backup that fetches only newer mail (counted with
 * the TCP proxy: no body FETCH for an ignored UID).
 */
import {readFile} from 'node:fs/promises'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {startDovecot, type DovecotInstance} from '../support/dovecot.js'
import {appendMessages, deleteFolder, ensureFolder, expunge, fetchMessages, folderName, folderStatus, forceUidValidityChange, listUids, renameFolder, seedFolder, seedMessage} from '../support/mail-seed.js'
import {serverKinds, startServer, type ServerKind, type TestServer} from '../support/servers.js'
import {startProxy, type TcpProxy} from '../support/tcp-proxy.js'
import {expandSequenceSet} from '../support/raw-imap.js'
import {allOutput, defaultConfigPath, expectAtSavepoint, folderFiles, listTree, mailkeep, setupAccount, show, snapshot} from '../cli/helpers.js'
import {readLocalFolder} from '../backup/helpers.js'

// Each test runs the CLI several times (a Node start each, seconds on a loaded machine).
vi.setConfig({testTimeout: 240_000})

let slash: DovecotInstance
let dot: DovecotInstance
let proxy: TcpProxy

beforeAll(async () => {
  ;[slash, dot] = await Promise.all([startDovecot(), startDovecot({separator: '.'})])
  proxy = await startProxy({targetPort: slash.port})
})

afterAll(async () => {
  await proxy?.close()
  await Promise.all([slash?.stop(), dot?.stop()])
})

/** The mbox entry imap-backup writes for the dummy of `uid` (compat §9.2 item 117). */
function dummyEntry(uid: number): string {
  return `From fake@email.com\nFrom: fake@email.com\nSubject: Message ${uid} not backed up\nSkipped ${uid}\n\n`
}

interface RawImap {
  version: number
  uid_validity: number
  mailkeep?: {uidnext?: number}
  messages: Array<{uid: number; offset: number; length: number; flags: string[]}>
}

async function readImap(root: string, folder: string): Promise<RawImap> {
  return JSON.parse(await readFile(folderFiles(root, folder).imap, 'utf8')) as RawImap
}

describe('mailkeep utils ignore-history', () => {
  it("writes imap-backup's dummy for each server message and records UIDNEXT (items 116–118)", async () => {
    const s = await setupAccount(slash, 0, {folders: ['ignore-me']})
    await seedFolder(slash, s.user, 'ignore-me', 1)
    const config = defaultConfigPath(s.home)

    const result = await mailkeep(s.home, ['utils', 'ignore-history', s.user.user, '-c', config])
    expect(result.code, show(result)).toBe(0)
    expect(result.stdout).toBe(`${s.user.user}: 1 message in 1 folder marked as not backed up; later backups download only newer mail\n  ignore-me: 1 message marked as not backed up\n`)
    expect(result.stderr).toContain("Folder 'ignore-me' - 1 messages")

    const meta = await readImap(s.root, 'ignore-me')
    expect(meta.messages).toHaveLength(1) // item 116
    expect(meta.messages[0]).toMatchObject({uid: 1, offset: 0, flags: []})
    expect(meta.uid_validity).toBe((await folderStatus(slash, s.user, 'ignore-me')).uidValidity)
    expect(meta.mailkeep?.uidnext).toBe(2)
    expect(await readFile(folderFiles(s.root, 'ignore-me').mbox, 'utf8')).toBe(dummyEntry(1)) // item 117
    await expectAtSavepoint(s.root, 'ignore-me')
    expect(await listTree(s.root)).toEqual(['.mailkeep.lock', 'ignore-me.imap', 'ignore-me.mailkeep', 'ignore-me.mbox'])

    // The dummy reads back as the message imap-backup wrote (what `local show` would print).
    const local = await readLocalFolder(s.root, 'ignore-me')
    expect(local.messages[0]!.bytes.toString('utf8')).toBe('From: fake@email.com\nSubject: Message 1 not backed up\nSkipped 1\n')
  })

  it('then a backup fetches only the newer mail: no body FETCH for an ignored UID', async () => {
    const s = await setupAccount(slash, 1, {}, proxy.port)
    const old = await seedFolder(slash, s.user, 'INBOX', 40)
    const oldWork = await seedFolder(slash, s.user, 'Work', 7)
    const ignored = await mailkeep(s.home, ['utils', 'ignore-history', s.user.user, '--json'])
    expect(ignored.code, show(ignored)).toBe(0)
    const report = JSON.parse(ignored.stdout) as {account: string; folders: Array<{folder: string; ignored: number; uidNext: number}>}
    expect(report.account).toBe(s.user.user)
    expect(report.folders.sort((a, b) => (a.folder < b.folder ? -1 : 1))).toEqual([
      {folder: 'INBOX', ignored: 40, uidNext: 41},
      {folder: 'Work', ignored: 7, uidNext: 8},
    ])
    const mbox = await readFile(folderFiles(s.root, 'INBOX').mbox, 'utf8')
    expect(mbox).toBe(old.map(dummyEntry).join(''))

    const fresh = await appendMessages(slash, s.user, 'INBOX', [seedMessage(500), seedMessage(501)])
    proxy.resetStats()
    const backup = await mailkeep(s.home, ['backup'])
    expect(backup.code, show(backup)).toBe(0)
    const fetched = proxy.commands.filter((c) => c.name === 'UID FETCH' && /BODY(\.PEEK)?\[/i.test(c.line))
    expect(fetched.length).toBeGreaterThan(0)
    const fetchedUids = fetched.flatMap((c) => expandSequenceSet(c.line.split(' ')[3]!))
    expect(fetchedUids.sort((a, b) => a - b)).toEqual(fresh)
    // Work had nothing new: skipped from STATUS alone, not even selected.
    expect(proxy.commands.some((c) => /^(EXAMINE|SELECT) "?Work/.test(c.line.replace(/^\S+ /, '')))).toBe(false)

    const inbox = await readLocalFolder(s.root, 'INBOX')
    expect(inbox.messages.map((m) => m.uid)).toEqual([...old, ...fresh])
    const server = await fetchMessages(slash, s.user, 'INBOX', fresh)
    for (const m of server) expect(inbox.messages.find((l) => l.uid === m.uid)!.bytes.equals(m.raw)).toBe(true)
    expect((await readLocalFolder(s.root, 'Work')).messages.map((m) => m.uid)).toEqual(oldWork)
  })

  it('keeps what is stored, and a second run changes nothing', async () => {
    const s = await setupAccount(slash, 2, {folders: ['Mixed']})
    const first = await seedFolder(slash, s.user, 'Mixed', 3)
    expect((await mailkeep(s.home, ['backup'])).code).toBe(0)
    const stored = await readFile(folderFiles(s.root, 'Mixed').mbox)
    const later = await appendMessages(slash, s.user, 'Mixed', [seedMessage(10), seedMessage(11)])

    const result = await mailkeep(s.home, ['utils', 'ignore-history', s.user.user])
    expect(result.code, show(result)).toBe(0)
    expect(result.stdout).toContain('Mixed: 2 messages marked as not backed up')
    const mbox = await readFile(folderFiles(s.root, 'Mixed').mbox)
    expect(mbox.subarray(0, stored.length).equals(stored), 'the real messages were rewritten').toBe(true)
    expect(mbox.subarray(stored.length).toString('utf8')).toBe(later.map(dummyEntry).join(''))
    expect((await readImap(s.root, 'Mixed')).messages.map((m) => m.uid)).toEqual([...first, ...later])

    // The lock file is written by every run; the folder's files must not be.
    const files = async (): Promise<string[]> => (await snapshot(s.root)).filter((line) => !line.startsWith('.mailkeep.lock'))
    const before = await files()
    const again = await mailkeep(s.home, ['utils', 'ignore-history', s.user.user])
    expect(again.code, show(again)).toBe(0)
    expect(again.stdout).toContain('Mixed: 0 messages marked as not backed up')
    expect(await files()).toEqual(before)
  })

  it("'.' + INBOX. flavour: full names, one transaction for many messages", async () => {
    const s = await setupAccount(dot, 0)
    const sent = folderName(dot, 'Sent')
    const uids = await seedFolder(dot, s.user, sent, 2500)
    const result = await mailkeep(s.home, ['utils', 'ignore-history', s.user.user])
    expect(result.code, show(result)).toBe(0)
    expect(result.stdout).toContain('INBOX.Sent: 2,500 messages marked as not backed up')
    expect(await expectAtSavepoint(s.root, sent)).toEqual(uids)
    expect(await listUids(dot, s.user, sent)).toEqual(uids)
    expect(await listTree(s.root)).toEqual(expect.arrayContaining(['INBOX.Sent.imap', 'INBOX.Sent.mbox']))
  })
})

describe('a folder whose local path cannot be made', () => {
  // As in a backup (test/cli/local-paths.test.ts): such a folder fails alone, with its own
  // error, and every other folder gets its placeholders. ignore-history used to stop the whole
  // account at the first one (a name too long: exit 2; a directory in the way: exit 4), so the
  // folders after it got neither placeholders nor their UIDNEXT.
  it('fails alone (exit 4, its own error in the report); the folders before and after it are done', async () => {
    const long = 'L'.repeat(230)
    const names = ['Archive', 'Archive.imap/2023', long, 'Zeta']
    const s = await setupAccount(slash, 3, {folders: names})
    const seeded = new Map<string, number[]>()
    for (const [i, name] of names.entries()) {
      await ensureFolder(slash, s.user, name)
      seeded.set(name, await seedFolder(slash, s.user, name, 1 + i))
    }
    const result = await mailkeep(s.home, ['utils', 'ignore-history', s.user.user, '--json'])
    expect(result.code, show(result)).toBe(4)
    const report = JSON.parse(result.stdout) as {exitCode: number; folders: Array<{folder: string; ignored: number; error?: {name: string; message: string; hint?: string; exitCode: number}}>}
    expect(report.exitCode).toBe(4)
    const byName = new Map(report.folders.map((f) => [f.folder, f]))
    expect([...byName.keys()].sort()).toEqual([...names].sort())
    // The long name, and one of the pair whose paths collide: the one the server listed second.
    const failed = report.folders.filter((f) => f.error !== undefined)
    expect(failed.map((f) => f.folder).sort()).toEqual([long, failed.find((f) => f.folder !== long)!.folder].sort())
    expect(['Archive', 'Archive.imap/2023']).toContain(failed.find((f) => f.folder !== long)!.folder)
    expect(byName.get(long)!.error).toMatchObject({exitCode: 4})
    expect(byName.get(long)!.error!.message).toMatch(/cannot be stored/)
    for (const f of failed) expect(f.ignored).toBe(0)
    for (const name of names.filter((n) => !failed.some((f) => f.folder === n))) {
      expect(byName.get(name)!.ignored, name).toBe(seeded.get(name)!.length)
      expect(await expectAtSavepoint(s.root, name)).toEqual(seeded.get(name))
      expect((await readImap(s.root, name)).mailkeep?.uidnext).toBe(Math.max(...seeded.get(name)!) + 1)
    }
    expect(byName.get('Zeta')!.ignored).toBe(4)
    // Text output: the failed folders are named with their error.
    const text = await mailkeep(s.home, ['utils', 'ignore-history', s.user.user])
    expect(text.code, show(text)).toBe(4)
    for (const f of failed) expect(text.stdout).toContain(`  ${f.folder}: not done: `)
    expect(text.stdout).toContain('Zeta: 0 messages marked as not backed up')
  })
})

describe.each(serverKinds())('a changed UIDVALIDITY or folder name on %s', (kind: ServerKind) => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer(kind)
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('moves the old backup aside first (compat §4.6)', async () => {
    const moved = folderName(server, 'Moved')
    const s = await setupAccount(server, 3, {folders: [moved]})
    await seedFolder(server, s.user, moved, 2)
    expect((await mailkeep(s.home, ['backup'])).code).toBe(0)
    const oldMbox = await readFile(folderFiles(s.root, moved).mbox)
    const {before, after} = await forceUidValidityChange(server, s.user, moved)

    const result = await mailkeep(s.home, ['utils', 'ignore-history', s.user.user, '--json'])
    expect(result.code, show(result)).toBe(0)
    expect(JSON.parse(result.stdout)).toEqual({account: s.user.user, folders: [{folder: moved, ignored: 2, uidNext: 3, renamedTo: `${moved}-${before}`}], exitCode: 0})
    expect((await readFile(folderFiles(s.root, `${moved}-${before}`).mbox)).equals(oldMbox)).toBe(true)
    const meta = await readImap(s.root, moved)
    expect(meta.uid_validity).toBe(after)
    expect(await readFile(folderFiles(s.root, moved).mbox, 'utf8')).toBe(dummyEntry(1) + dummyEntry(2))
  })

  // Found by the sequence test (ignore-history-aside): the live backup then holds placeholders
  // for every message, also those the kept-aside copy holds for real, and the next mirror-mode
  // backup removed the kept-aside copy: messages still on the server survived only as
  // placeholders. Mirror mode keeps that copy while the live backup holds placeholders (B5).
  it('then mirror mode keeps the kept-aside copy, the only real copy, while placeholders stand for its messages', async () => {
    const folder = folderName(server, 'Aside')
    const s = await setupAccount(server, 3, {folders: [folder], mirror_mode: true})
    await seedFolder(server, s.user, folder, 3)
    expect((await mailkeep(s.home, ['backup'])).code).toBe(0)
    const {before} = await forceUidValidityChange(server, s.user, folder)
    const ignored = await mailkeep(s.home, ['utils', 'ignore-history', s.user.user, '--json'])
    expect(ignored.code, show(ignored)).toBe(0)
    const aside = `${folder}-${before}`
    expect(JSON.parse(ignored.stdout)).toMatchObject({folders: [{folder, ignored: 3, renamedTo: aside}]})
    const real = (await readLocalFolder(s.root, aside)).messages.map((m) => m.bytes.toString('hex'))
    expect(real).toHaveLength(3)

    // Every mirror-mode run keeps it, and says so.
    for (let run = 0; run < 2; run++) {
      const mirror = await mailkeep(s.home, ['backup', '--json'])
      expect(mirror.code, show(mirror)).toBe(0)
      expect(mirror.stderr).toContain(`Kept the local folder '${aside}', a backup kept aside from '${folder}' after a UIDVALIDITY change`)
      const report = JSON.parse(mirror.stdout) as {accounts: Array<{folders: Array<{folder: string; outcome: string}>}>}
      expect(report.accounts[0]!.folders.map((f) => f.folder)).toEqual([folder])
      expect((await readLocalFolder(s.root, aside)).messages.map((m) => m.bytes.toString('hex'))).toEqual(real)
    }

    // Once the server deletes those messages, mirror mode removes their placeholders, and at the
    // end of the same run (once every folder is backed up, docs/backup.md) the kept-aside copy,
    // as any other.
    await expunge(server, s.user, folder, await listUids(server, s.user, folder))
    const emptied = await mailkeep(s.home, ['backup', '--json'])
    expect(emptied.code, show(emptied)).toBe(0)
    expect((await readLocalFolder(s.root, folder)).messages).toEqual([])
    expect(emptied.stderr).not.toContain('Kept the local folder')
    expect((JSON.parse(emptied.stdout) as {accounts: Array<{folders: Array<{folder: string; outcome: string}>}>}).accounts[0]!.folders).toContainEqual(expect.objectContaining({folder: aside, outcome: 'removed'}))
    expect((await readLocalFolder(s.root, aside)).exists).toBe(false)
  })

  // Found by the sequence test (ignore-history-rename, seed 4256912402 on Cyrus): after the
  // server renamed a folder, ignore-history wrote placeholders for its messages under the new
  // name, and the next mirror-mode backup removed the local folder of the old name, the only
  // real copy of them, though the server still has them. A placeholder does not say which
  // message it stands for: mirror mode keeps a vanished folder whose backup is older than
  // placeholders a folder it backs up holds (B5).
  it('then mirror mode keeps the backup of a folder the server renamed, older than the placeholders written for its messages', async () => {
    const old = folderName(server, 'Before')
    const renamed = folderName(server, 'After')
    const s = await setupAccount(server, 0, {folders: [old, renamed], mirror_mode: true})
    await seedFolder(server, s.user, old, 3)
    expect((await mailkeep(s.home, ['backup'])).code).toBe(0)
    const real = (await readLocalFolder(s.root, old)).messages.map((m) => m.bytes.toString('hex'))
    expect(real).toHaveLength(3)
    await renameFolder(server, s.user, old, renamed)
    const ignored = await mailkeep(s.home, ['utils', 'ignore-history', s.user.user, '--json'])
    expect(ignored.code, show(ignored)).toBe(0)
    expect(JSON.parse(ignored.stdout)).toMatchObject({folders: [{folder: renamed, ignored: 3}]})

    // Every mirror-mode run keeps it, and says why.
    for (let run = 0; run < 2; run++) {
      const mirror = await mailkeep(s.home, ['backup', '--json'])
      expect(mirror.code, show(mirror)).toBe(0)
      expect(mirror.stderr).toContain(`Kept the local folder '${old}', which is not backed up any more: its backup is older than the ignore-history placeholders '${renamed}' holds`)
      const report = JSON.parse(mirror.stdout) as {accounts: Array<{folders: Array<{folder: string; outcome: string}>}>}
      expect(report.accounts[0]!.folders.map((f) => f.folder)).toEqual([renamed])
      expect((await readLocalFolder(s.root, old)).messages.map((m) => m.bytes.toString('hex'))).toEqual(real)
    }

    // Once the server deletes those messages, mirror mode removes their placeholders, and at the
    // end of the same run the old name's backup, as any folder the server no longer has.
    await expunge(server, s.user, renamed, await listUids(server, s.user, renamed))
    const last = await mailkeep(s.home, ['backup', '--json'])
    expect(last.code, show(last)).toBe(0)
    expect((await readLocalFolder(s.root, renamed)).messages).toEqual([])
    expect(last.stderr).not.toContain('Kept the local folder')
    expect((JSON.parse(last.stdout) as {accounts: Array<{folders: Array<{folder: string; outcome: string}>}>}).accounts[0]!.folders).toContainEqual(expect.objectContaining({folder: old, outcome: 'removed'}))
    expect((await readLocalFolder(s.root, old)).exists).toBe(false)
  })

  // The other side of that rule: placeholders older than a folder's last backup cannot stand for
  // anything only it holds, so a folder really deleted on the server goes, as before.
  it('and mirror mode still removes a folder deleted on the server whose backup is newer than every placeholder', async () => {
    const kept = folderName(server, 'Stays')
    const gone = folderName(server, 'Goes')
    const s = await setupAccount(server, 1, {folders: [kept, gone], mirror_mode: true})
    await seedFolder(server, s.user, kept, 2)
    await seedFolder(server, s.user, gone, 2)
    expect((await mailkeep(s.home, ['backup'])).code).toBe(0)
    await appendMessages(server, s.user, kept, [seedMessage(3), seedMessage(4)])
    const ignored = await mailkeep(s.home, ['utils', 'ignore-history', s.user.user, '--json'])
    expect(ignored.code, show(ignored)).toBe(0)
    expect((JSON.parse(ignored.stdout) as {folders: unknown[]}).folders).toEqual(
      expect.arrayContaining([expect.objectContaining({folder: kept, ignored: 2}), expect.objectContaining({folder: gone, ignored: 0})]),
    )
    // This backup brings both up to date: their backups are now newer than the placeholders.
    expect((await mailkeep(s.home, ['backup'])).code).toBe(0)
    await deleteFolder(server, s.user, gone)
    const mirror = await mailkeep(s.home, ['backup', '--json'])
    expect(mirror.code, show(mirror)).toBe(0)
    expect(mirror.stderr).not.toContain('Kept the local folder')
    expect((JSON.parse(mirror.stdout) as {accounts: Array<{folders: Array<{folder: string; outcome: string}>}>}).accounts[0]!.folders).toContainEqual(expect.objectContaining({folder: gone, outcome: 'removed'}))
    expect((await readLocalFolder(s.root, gone)).exists).toBe(false)
    expect((await readLocalFolder(s.root, kept)).messages).toHaveLength(4)
  })

  it('of an empty folder keeps nothing aside (issue 11 item 4)', async () => {
    const empty = folderName(server, 'Nothing')
    const s = await setupAccount(server, 2, {folders: [empty]})
    await ensureFolder(server, s.user, empty)
    expect((await mailkeep(s.home, ['backup'])).code).toBe(0)
    const {after} = await forceUidValidityChange(server, s.user, empty)
    const result = await mailkeep(s.home, ['utils', 'ignore-history', s.user.user, '--json'])
    expect(result.code, show(result)).toBe(0)
    const [report] = (JSON.parse(result.stdout) as {folders: Array<{folder: string; renamedTo?: string}>}).folders
    expect(report).toMatchObject({folder: empty})
    expect(report!.renamedTo).toBeUndefined()
    expect((await listTree(s.root)).filter((f) => f.startsWith(`${empty}-`))).toEqual([])
    // Courier changes it again in every session; the others keep the value of the change.
    if (!server.facts.emptyInboxUidValidityVaries) expect((await readImap(s.root, empty)).uid_validity).toBe(after)
    expect((await readImap(s.root, empty)).messages).toEqual([])
  })
})

describe('output', () => {
  it('never shows a password', () => {
    const output = allOutput()
    for (const server of [slash, dot]) for (const user of server.users) expect(output.includes(user.password), `password of ${user.user} in the output`).toBe(false)
  })
})
