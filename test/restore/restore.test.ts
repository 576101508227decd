/**
 * Restore against two real Dovecots, '/' without prefix (A) and '.' with `INBOX.` (B): into an
 * empty account of the other flavour (both directions), after the source server is gone (the
 * naming recorded in the backup), into the account's own server when it still has part of the
 * mail, and into folders with another UIDVALIDITY. Every case checks the destination against the
 * backup (SHA-256 of every message, flags, INTERNALDATE), the main ones also against the source
 * server's own messages (fetched with the raw test client, not through our store), that the
 * backup itself did not change, and that a second run sends no APPEND at all.
 */
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {silentContext} from '../../src/shared/context.js'
import {memoryLogger} from '../../src/shared/logger.js'
import {loadCorpus} from '../fixtures/corpus.js'
import {startDovecot, type DovecotInstance, type TestUser} from '../support/dovecot.js'
import {appendMessages, createFolder, deleteFolder, expunge, folderStatus, forceUidValidityChange, listFolders, listUids, seedFolder, serverAt} from '../support/mail-seed.js'
import {startProxy, type TcpProxy} from '../support/tcp-proxy.js'
import {makeTempDir, removeTempDir, testTempDir} from '../support/temp-dir.js'
import {accountFile, appends, backup, backupFiles, backupItems, destinationItems, expectSameMail, folderOf, makeConfig, restore, totals, writeImapBackupFolder} from '../transfer/helpers.js'

let a: DovecotInstance
let b: DovecotInstance
let proxyA: TcpProxy
let proxyB: TcpProxy
let dir: string
let rootA: string
let rootB: string
const corpus = loadCorpus()

const FLAG_SETS = [[], ['\\Seen'], ['\\Seen', '\\Flagged', '$Label1'], ['\\Answered', '\\Draft'], ['$Forwarded', 'Work']]

async function fill(server: DovecotInstance, user: TestUser, names: {inbox: string; work: string; deep: string}): Promise<void> {
  await appendMessages(
    server,
    user,
    names.inbox,
    corpus.map((m, i) => ({raw: m.raw, flags: FLAG_SETS[i % FLAG_SETS.length]!, internalDate: new Date(Date.UTC(2021, 3, 1) + i * 7_200_000)})),
  )
  await seedFolder(server, user, names.work, 40)
  await createFolder(server, user, names.deep)
  await appendMessages(server, user, names.deep, corpus.slice(0, 4).map((m, i) => ({raw: m.raw, flags: ['\\Seen'], internalDate: new Date(Date.UTC(2020, 0, 1 + i))})))
}

/** A config with the accounts of A (through its proxy); B's users have the same names, so they get configs of their own. */
async function config(): ReturnType<typeof makeConfig> {
  const [aliceA, bobA, carolA] = a.users
  const pa = serverAt(a, proxyA.port)
  return makeConfig(dir, [accountFile(pa, aliceA!, rootA), accountFile(pa, bobA!, join(dir, 'bobA')), accountFile(pa, carolA!, join(dir, 'carolA'))])
}

beforeAll(async () => {
  ;[a, b] = await Promise.all([startDovecot({separator: '/'}), startDovecot({separator: '.', prefix: 'INBOX.'})])
  ;[proxyA, proxyB] = await Promise.all([startProxy({targetPort: a.port}), startProxy({targetPort: b.port})])
  dir = await makeTempDir('mailkeep-restore-')
  rootA = join(dir, 'aliceA')
  rootB = join(dir, 'aliceB')
  await fill(a, a.users[0]!, {inbox: 'INBOX', work: 'Work', deep: 'Lists/rust'})
  await fill(b, b.users[0]!, {inbox: 'INBOX', work: 'INBOX.Work', deep: 'INBOX.Lists.rust'})
  const ca = await makeConfig(join(dir), [accountFile(a, a.users[0]!, rootA)])
  expect((await backup(ca)).exitCode).toBe(0)
  const cb = await makeConfig(join(dir), [accountFile(b, b.users[0]!, rootB)])
  expect((await backup(cb)).exitCode).toBe(0)
})

afterAll(async () => {
  await proxyA?.close()
  await proxyB?.close()
  await a?.stop()
  await b?.stop()
  if (dir !== undefined) await removeTempDir(dir)
})

/** A config with the backup of the source server's alice and an account of the other server as destination. */
async function crossConfig(sourceServer: DovecotInstance, sourceProxy: TcpProxy, sourceRoot: string, destServer: DovecotInstance, destProxy: TcpProxy, destUser: TestUser): ReturnType<typeof makeConfig> {
  const src = sourceServer.users[0]!
  return makeConfig(await testTempDir(), [
    accountFile(serverAt(sourceServer, sourceProxy.port), src, sourceRoot),
    accountFile(serverAt(destServer, destProxy.port), destUser, join(dir, 'unused')),
  ])
}

describe("restore into an empty account of the other flavour", () => {
  it("'/' backup → '.' server with INBOX.: Work → INBOX.Work, Lists/rust → INBOX.Lists.rust; a second run appends nothing", async () => {
    const bob = b.users[1]!
    const cfg = await crossConfig(a, proxyA, rootA, b, proxyB, bob)
    const before = await backupFiles(rootA, 'Work')
    proxyB.resetStats()
    const report = await restore(cfg, {account: a.users[0]!.user, to: bob.user})
    expect(report.exitCode).toBe(0)
    expect(report.naming).toMatchObject({sourcePrefix: '', sourceDelimiter: '/', destinationPrefix: 'INBOX.', destinationDelimiter: '.'})
    expect(Object.fromEntries(report.folders.map((f) => [f.source, f.destination]))).toEqual({INBOX: 'INBOX', 'Lists/rust': 'INBOX.Lists.rust', Work: 'INBOX.Work'})
    const total = corpus.length + 40 + 4
    expect(totals(report)).toEqual({uploaded: total, alreadyPresent: 0, adopted: 0, skipped: 0})
    expect(appends(proxyB)).toBe(total)
    expect(folderOf(report, 'Work').created).toBe(true)
    for (const [src, dst] of [
      ['INBOX', 'INBOX'],
      ['Work', 'INBOX.Work'],
      ['Lists/rust', 'INBOX.Lists.rust'],
    ] as const) {
      const restored = await destinationItems(b, bob, dst)
      expectSameMail(restored, await backupItems(rootA, src))
      // And against the source server itself (BODY.PEEK[], FLAGS, INTERNALDATE by the raw client):
      // a fault shared by our store's writer and reader would not show against the backup alone.
      const original = await destinationItems(a, a.users[0]!, src)
      expect(original.length).toBeGreaterThan(0)
      expectSameMail(restored, original)
    }
    // The backup is untouched: no UID rewriting, no renaming (compat §9.2 items 52, 53 differ on purpose).
    expect(await backupFiles(rootA, 'Work')).toEqual(before)

    proxyB.resetStats()
    const again = await restore(cfg, {account: a.users[0]!.user, to: bob.user})
    expect(again.exitCode).toBe(0)
    expect(totals(again)).toEqual({uploaded: 0, alreadyPresent: total, adopted: 0, skipped: 0})
    expect(appends(proxyB)).toBe(0)
  })

  it("'.' backup with INBOX. → '/' server: INBOX.Work → Work, INBOX.Lists.rust → Lists/rust", async () => {
    const carol = a.users[2]!
    const cfg = await crossConfig(b, proxyB, rootB, a, proxyA, carol)
    proxyA.resetStats()
    const report = await restore(cfg, {account: b.users[0]!.user, to: carol.user})
    expect(report.exitCode).toBe(0)
    expect(Object.fromEntries(report.folders.map((f) => [f.source, f.destination]))).toEqual({INBOX: 'INBOX', 'INBOX.Lists.rust': 'Lists/rust', 'INBOX.Work': 'Work'})
    expect((await listFolders(a, carol)).map((f) => f.name).sort()).toEqual(['INBOX', 'Lists', 'Lists/rust', 'Work'])
    expectSameMail(await destinationItems(a, carol, 'Lists/rust'), await backupItems(rootB, 'INBOX.Lists.rust'))
    expectSameMail(await destinationItems(a, carol, 'Work'), await backupItems(rootB, 'INBOX.Work'))
    expectSameMail(await destinationItems(a, carol, 'INBOX'), await backupItems(rootB, 'INBOX'))
    proxyA.resetStats()
    expect(totals(await restore(cfg, {account: b.users[0]!.user, to: carol.user})).uploaded).toBe(0)
    expect(appends(proxyA)).toBe(0)
  })
})

describe('restore after the source server is gone (imap-backup issues #199, #209)', () => {
  const dead = {host: '127.0.0.1', port: 1}

  it("a backup of the '.' server with INBOX. keeps its hierarchy on a '/' server: the backup recorded the delimiter and prefix", async () => {
    const meta = JSON.parse(await readFile(join(rootB, 'INBOX.Lists.rust.imap'), 'utf8'))
    expect(meta.mailkeep).toMatchObject({delimiter: '.', prefix: 'INBOX.'})
    const aliceB = b.users[0]!
    const dave = a.users[3]!
    const cfg = await makeConfig(await testTempDir(), [accountFile(dead, aliceB, rootB), accountFile(serverAt(a, proxyA.port), dave, join(dir, 'unused'))])
    const log = memoryLogger()
    proxyA.resetStats()
    const report = await restore(cfg, {account: aliceB.user, to: dave.user}, silentContext({logger: log}))
    expect(report.exitCode, JSON.stringify(report, null, 1)).toBe(0)
    expect(report.naming).toEqual({sourcePrefix: 'INBOX.', sourceDelimiter: '.', destinationPrefix: '', destinationDelimiter: '/'})
    expect(Object.fromEntries(report.folders.map((f) => [f.source, f.destination]))).toEqual({INBOX: 'INBOX', 'INBOX.Lists.rust': 'Lists/rust', 'INBOX.Work': 'Work'})
    expect((await listFolders(a, dave)).map((f) => f.name).sort()).toEqual(['INBOX', 'Lists', 'Lists/rust', 'Work'])
    expectSameMail(await destinationItems(a, dave, 'Lists/rust'), await backupItems(rootB, 'INBOX.Lists.rust'))
    expectSameMail(await destinationItems(a, dave, 'Work'), await backupItems(rootB, 'INBOX.Work'))
    // Nothing was asked of the dead server, so nothing to warn about.
    expect(log.records.filter((r) => r.level === 'warn').map((r) => r.message)).toEqual([])

    // An explicit --source-delimiter wins over the record (with a warning): '/' leaves the names whole.
    const flat = await restore(cfg, {account: aliceB.user, to: dave.user, folders: ['INBOX.Work'], sourceDelimiter: '/'}, silentContext({logger: log}))
    expect(folderOf(flat, 'INBOX.Work').destination).toBe('INBOX.Work')
    expect(log.records.map((r) => r.message).join('\n')).toMatch(/--source-delimiter '\/' is not the delimiter the backup recorded for 'INBOX.Work' \('.'\); the option is used/)
  })

  it("a backup that records no naming (imap-backup's): '/' with a warning, or --source-delimiter", async () => {
    const root = await testTempDir()
    await writeImapBackupFolder(root, 'Old.Letters', 42, [{uid: 1, text: 'From: x@example.test\nSubject: old\n\nletter\n', flags: ['Seen']}])
    const carol = a.users[2]!
    const cfg = await makeConfig(await testTempDir(), [accountFile(dead, {user: 'gone@example.test', password: 'x'}, root), accountFile(serverAt(a, proxyA.port), carol, join(dir, 'unused'))])
    const log = memoryLogger()
    const guessed = await restore(cfg, {account: 'gone@example.test', to: carol.user}, silentContext({logger: log}))
    expect(folderOf(guessed, 'Old.Letters').destination).toBe('Old.Letters')
    expect(log.records.filter((r) => r.level === 'warn').map((r) => r.message).join('\n')).toMatch(
      /does not record the source server's hierarchy delimiter .* could not be reached .*split on '\/' \(use --source-delimiter .*\); no namespace prefix is removed/,
    )
    const told = await restore(cfg, {account: 'gone@example.test', to: carol.user, sourceDelimiter: '.'})
    expect(folderOf(told, 'Old.Letters')).toMatchObject({destination: 'Old/Letters', uploaded: 1})
    expect(told.naming).toMatchObject({sourceDelimiter: '.', sourcePrefix: ''})
  })
})

describe("restore into the account's own server", () => {
  it('uploads only what the server no longer has (same UIDVALIDITY: same UIDs are the same messages)', async () => {
    const alice = a.users[0]!
    const cfg = await config()
    const workUids = await listUids(a, alice, 'Work')
    await expunge(a, alice, 'Work', workUids.slice(5, 10))
    proxyA.resetStats()
    const report = await restore(cfg, {account: alice.user, folders: ['Work', 'INBOX']})
    expect(report.exitCode).toBe(0)
    expect(folderOf(report, 'Work')).toMatchObject({destination: 'Work', uploaded: 5, alreadyPresent: 35, created: false})
    expect(folderOf(report, 'INBOX')).toMatchObject({uploaded: 0, alreadyPresent: corpus.length})
    expect(appends(proxyA)).toBe(5)
    expectSameMail(await destinationItems(a, alice, 'Work'), await backupItems(rootA, 'Work'))
    proxyA.resetStats()
    expect(totals(await restore(cfg, {account: alice.user, folders: ['Work']})).uploaded).toBe(0)
    expect(appends(proxyA)).toBe(0)
  })

  it('recreates a folder deleted on the server, and fills a folder that was emptied', async () => {
    const alice = a.users[0]!
    const cfg = await config()
    await deleteFolder(a, alice, 'Lists/rust')
    const report = await restore(cfg, {account: alice.user, folders: ['Lists/rust']})
    expect(folderOf(report, 'Lists/rust')).toMatchObject({uploaded: 4, destination: 'Lists/rust', created: true})
    expectSameMail(await destinationItems(a, alice, 'Lists/rust'), await backupItems(rootA, 'Lists/rust'))
    // Emptied (its UIDVALIDITY is another one now): an empty folder is used as it is (compat §7 case 2).
    await expunge(a, alice, 'Lists/rust', (await listUids(a, alice, 'Lists/rust')))
    const again = await restore(cfg, {account: alice.user, folders: ['Lists/rust']})
    expect(folderOf(again, 'Lists/rust')).toMatchObject({uploaded: 4, destination: 'Lists/rust', created: false})
    expectSameMail(await destinationItems(a, alice, 'Lists/rust'), await backupItems(rootA, 'Lists/rust'))
  })

  it('a folder that now has another UIDVALIDITY and other mail is left untouched: <name>-<uidvalidity> is created (compat §7)', async () => {
    const alice = a.users[0]!
    const cfg = await config()
    const local = (await backupItems(rootA, 'INBOX')).length
    await appendMessages(a, alice, 'INBOX', [{raw: Buffer.from('Subject: arrived after the backup\r\n\r\nnew\r\n')}])
    const {before} = await forceUidValidityChange(a, alice, 'INBOX')
    const untouched = await destinationItems(a, alice, 'INBOX')
    const statusBefore = await folderStatus(a, alice, 'INBOX')
    proxyA.resetStats()
    const report = await restore(cfg, {account: alice.user, folders: ['INBOX']})
    expect(report.exitCode).toBe(0)
    const inbox = folderOf(report, 'INBOX')
    expect(inbox).toMatchObject({destination: `INBOX-${before}`, created: true, clash: {folder: 'INBOX', uidValidity: before + 1}, uploaded: local})
    expect(await destinationItems(a, alice, 'INBOX')).toEqual(untouched)
    expect(await folderStatus(a, alice, 'INBOX')).toEqual(statusBefore)
    expectSameMail(await destinationItems(a, alice, `INBOX-${before}`), await backupItems(rootA, 'INBOX'))

    proxyA.resetStats()
    const again = await restore(cfg, {account: alice.user, folders: ['INBOX']})
    expect(folderOf(again, 'INBOX')).toMatchObject({destination: `INBOX-${before}`, uploaded: 0, alreadyPresent: local})
    expect(appends(proxyA)).toBe(0)
  })

  it('a folder whose UIDVALIDITY changed but that holds only copies of the backup is no clash: they are adopted', async () => {
    const alice = a.users[0]!
    const cfg = await config()
    await forceUidValidityChange(a, alice, 'Work')
    proxyA.resetStats()
    const report = await restore(cfg, {account: alice.user, folders: ['Work']})
    expect(folderOf(report, 'Work')).toMatchObject({destination: 'Work', uploaded: 0, adopted: 40})
    expect(folderOf(report, 'Work').clash).toBeUndefined()
    expect(appends(proxyA)).toBe(0)
    expectSameMail(await destinationItems(a, alice, 'Work'), await backupItems(rootA, 'Work'))
    proxyA.resetStats()
    expect(folderOf(await restore(cfg, {account: alice.user, folders: ['Work']}), 'Work')).toMatchObject({uploaded: 0, adopted: 0, alreadyPresent: 40})
    expect(appends(proxyA)).toBe(0)
  })
})
