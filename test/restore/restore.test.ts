/**
 * Restore on each server of serverKinds(), against a pair of real servers, '/' without prefix
 * (A) and '.' with `INBOX.` (B): both of that kind where it offers both shapes (Dovecot, Cyrus);
 * Courier ('.' only) is B with a Dovecot A. Into an empty account of the other flavour (both
 * directions), after the source server is gone (the naming recorded in the backup), into the
 * account's own server (the server of the kind: A, or B for Courier) when it still has part of
 * the mail, and into folders with another UIDVALIDITY. Every case checks the destination against the
 * backup (SHA-256 of every message as the destination stores it, flags, INTERNALDATE; the corpus
 * is what both servers accept: SERVER_FACTS), the main ones also against the source
 * server's own messages (fetched with the raw test client, not through our store), that the
 * backup itself did not change, and that a second run sends no APPEND at all.
 */
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {silentContext} from '../../src/shared/context.js'
import {memoryLogger} from '../../src/shared/logger.js'
import {loadCorpus} from '../fixtures/corpus.js'
import type {TestUser} from '../support/dovecot.js'
import {appendMessages, createFolder, deleteFolder, expunge, folderName, folderStatus, forceUidValidityChange, listFolders, listUids, seedFolder, serverAt} from '../support/mail-seed.js'
import {SERVER_FACTS, serverKinds, startServer, type ServerKind, type TestServer} from '../support/servers.js'
import {startProxy, type TcpProxy} from '../support/tcp-proxy.js'
import {makeTempDir, removeTempDir, testTempDir} from '../support/temp-dir.js'
import {accountFile, appends, backup, backupFiles, backupItems, destinationItems, expectSameMail, folderOf, makeConfig, restore, totals, writeImapBackupFolder} from '../transfer/helpers.js'

describe.each(serverKinds())('%s', (kind: ServerKind) => {
  let a: TestServer
  let b: TestServer
  let proxyA: TcpProxy
  let proxyB: TcpProxy
  let dir: string
  let rootA: string
  let rootB: string
  /** The corpus both servers of the pair accept (Cyrus refuses bare LF). */
  let corpus: ReturnType<typeof loadCorpus>
  /** The server of this kind that the own-server tests use, with its names and backup. */
  let own: TestServer
  let ownProxy: TcpProxy
  let ownRoot: string
  let work: string
  let deep: string

  const FLAG_SETS = [[], ['\\Seen'], ['\\Seen', '\\Flagged', '$Label1'], ['\\Answered', '\\Draft'], ['$Forwarded', 'Work']]

  async function fill(server: TestServer, user: TestUser): Promise<void> {
    await appendMessages(
      server,
      user,
      'INBOX',
      corpus.map((m, i) => ({raw: m.raw, flags: FLAG_SETS[i % FLAG_SETS.length]!, internalDate: new Date(Date.UTC(2021, 3, 1) + i * 7_200_000)})),
    )
    await seedFolder(server, user, folderName(server, 'Work'), 40)
    await createFolder(server, user, folderName(server, 'Lists', 'rust'))
    await appendMessages(server, user, folderName(server, 'Lists', 'rust'), corpus.slice(0, 4).map((m, i) => ({raw: m.raw, flags: ['\\Seen'], internalDate: new Date(Date.UTC(2020, 0, 1 + i))})))
  }

  /** A config with the accounts of the own server (through its proxy); the other server's users have the same names, so they get configs of their own. */
  async function config(): ReturnType<typeof makeConfig> {
    const [alice, bob, carol] = own.users
    const via = serverAt(own, ownProxy.port)
    return makeConfig(dir, [accountFile(via, alice!, ownRoot), accountFile(via, bob!, join(dir, 'bobOwn')), accountFile(via, carol!, join(dir, 'carolOwn'))])
  }

  beforeAll(async () => {
    const slash = SERVER_FACTS[kind].separators.includes('/') ? kind : 'dovecot'
    ;[a, b] = await Promise.all([startServer(slash, {separator: '/'}), startServer(kind, {separator: '.'})])
    ;[proxyA, proxyB] = await Promise.all([startProxy({targetPort: a.port}), startProxy({targetPort: b.port})])
    corpus = loadCorpus().filter((m) => a.facts.stored(m.raw) !== undefined && b.facts.stored(m.raw) !== undefined)
    dir = await makeTempDir('mailkeep-restore-')
    rootA = join(dir, 'aliceA')
    rootB = join(dir, 'aliceB')
    await fill(a, a.users[0]!)
    await fill(b, b.users[0]!)
    const ca = await makeConfig(join(dir), [accountFile(a, a.users[0]!, rootA)])
    expect((await backup(ca)).exitCode).toBe(0)
    const cb = await makeConfig(join(dir), [accountFile(b, b.users[0]!, rootB)])
    expect((await backup(cb)).exitCode).toBe(0)
    ;[own, ownProxy, ownRoot] = a.kind === kind ? [a, proxyA, rootA] : [b, proxyB, rootB]
    work = folderName(own, 'Work')
    deep = folderName(own, 'Lists', 'rust')
  })

  afterAll(async () => {
    await proxyA?.close()
    await proxyB?.close()
    await a?.stop()
    await b?.stop()
    if (dir !== undefined) await removeTempDir(dir)
  })

  /** A config with the backup of the source server's alice and an account of the other server as destination. */
  async function crossConfig(sourceServer: TestServer, sourceProxy: TcpProxy, sourceRoot: string, destServer: TestServer, destProxy: TcpProxy, destUser: TestUser): ReturnType<typeof makeConfig> {
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
      // Cyrus made 'Lists' a folder of its own when 'Lists/rust' was created: it is backed up too.
      const parentA = a.facts.createMakesParentFolders ? {Lists: 'INBOX.Lists'} : {}
      expect(Object.fromEntries(report.folders.map((f) => [f.source, f.destination]))).toEqual({INBOX: 'INBOX', 'Lists/rust': 'INBOX.Lists.rust', Work: 'INBOX.Work', ...parentA})
      const total = corpus.length + 40 + 4 // the parent folder, if any, is empty
      expect(totals(report)).toEqual({uploaded: total, alreadyPresent: 0, adopted: 0, skipped: 0})
      expect(appends(proxyB)).toBe(total)
      expect(folderOf(report, 'Work').created).toBe(true)
      for (const [src, dst] of [
        ['INBOX', 'INBOX'],
        ['Work', 'INBOX.Work'],
        ['Lists/rust', 'INBOX.Lists.rust'],
      ] as const) {
        const restored = await destinationItems(b, bob, dst)
        expectSameMail(restored, await backupItems(rootA, src, b.facts))
        // And against the source server itself (BODY.PEEK[], FLAGS, INTERNALDATE by the raw client):
        // a fault shared by our store's writer and reader would not show against the backup alone.
        const original = await destinationItems(a, a.users[0]!, src, b.facts)
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
      expect(Object.fromEntries(report.folders.map((f) => [f.source, f.destination]))).toEqual({INBOX: 'INBOX', 'INBOX.Lists.rust': 'Lists/rust', 'INBOX.Work': 'Work', ...(b.facts.createMakesParentFolders ? {'INBOX.Lists': 'Lists'} : {})})
      expect((await listFolders(a, carol)).map((f) => f.name).sort()).toEqual(['INBOX', 'Lists', 'Lists/rust', 'Work'])
      expectSameMail(await destinationItems(a, carol, 'Lists/rust'), await backupItems(rootB, 'INBOX.Lists.rust', a.facts))
      expectSameMail(await destinationItems(a, carol, 'Work'), await backupItems(rootB, 'INBOX.Work', a.facts))
      expectSameMail(await destinationItems(a, carol, 'INBOX'), await backupItems(rootB, 'INBOX', a.facts))
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
      expect(Object.fromEntries(report.folders.map((f) => [f.source, f.destination]))).toEqual({INBOX: 'INBOX', 'INBOX.Lists.rust': 'Lists/rust', 'INBOX.Work': 'Work', ...(b.facts.createMakesParentFolders ? {'INBOX.Lists': 'Lists'} : {})})
      expect((await listFolders(a, dave)).map((f) => f.name).sort()).toEqual(['INBOX', 'Lists', 'Lists/rust', 'Work'])
      expectSameMail(await destinationItems(a, dave, 'Lists/rust'), await backupItems(rootB, 'INBOX.Lists.rust', a.facts))
      expectSameMail(await destinationItems(a, dave, 'Work'), await backupItems(rootB, 'INBOX.Work', a.facts))
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
      const alice = own.users[0]!
      const cfg = await config()
      const workUids = await listUids(own, alice, work)
      await expunge(own, alice, work, workUids.slice(5, 10))
      ownProxy.resetStats()
      const report = await restore(cfg, {account: alice.user, folders: [work, 'INBOX']})
      expect(report.exitCode).toBe(0)
      expect(folderOf(report, work)).toMatchObject({destination: work, uploaded: 5, alreadyPresent: 35, created: false})
      expect(folderOf(report, 'INBOX')).toMatchObject({uploaded: 0, alreadyPresent: corpus.length})
      expect(appends(ownProxy)).toBe(5)
      expectSameMail(await destinationItems(own, alice, work), await backupItems(ownRoot, work))
      ownProxy.resetStats()
      expect(totals(await restore(cfg, {account: alice.user, folders: [work]})).uploaded).toBe(0)
      expect(appends(ownProxy)).toBe(0)
    })

    it('recreates a folder deleted on the server, and fills a folder that was emptied', async () => {
      const alice = own.users[0]!
      const cfg = await config()
      await deleteFolder(own, alice, deep)
      const report = await restore(cfg, {account: alice.user, folders: [deep]})
      expect(folderOf(report, deep)).toMatchObject({uploaded: 4, destination: deep, created: true})
      expectSameMail(await destinationItems(own, alice, deep), await backupItems(ownRoot, deep))
      // Emptied (its UIDVALIDITY is another one now): an empty folder is used as it is (compat §7 case 2).
      await expunge(own, alice, deep, (await listUids(own, alice, deep)))
      const again = await restore(cfg, {account: alice.user, folders: [deep]})
      expect(folderOf(again, deep)).toMatchObject({uploaded: 4, destination: deep, created: false})
      expectSameMail(await destinationItems(own, alice, deep), await backupItems(ownRoot, deep))
    })

    // Each namespace shape the kind offers: the '/' server without prefix where there is one
    // (Dovecot, Cyrus), and the '.' server with `INBOX.` (all three). INBOX's clash folder is named
    // as a backed-up folder `INBOX-<uidvalidity>` would be on that server: `INBOX-<uv>` without a
    // prefix, `INBOX.INBOX-<uv>` under `INBOX.`, where `INBOX-<uv>` is outside every personal
    // namespace (Courier: "Invalid mailbox name", Dovecot: "Client tried to access nonexistent
    // namespace", Cyrus: "Permission denied"; the run failed the folder, exit 4).
    //
    // The folder that clashes still holds most of the backed-up messages (the server changed its
    // UIDVALIDITY, keeping them): those are recorded as present and only the two expunged before
    // the change go into the clash folder. Uploading every backed-up message there, as mailkeep
    // did before, left the account with two copies of the others (U7).
    it.each(SERVER_FACTS[kind].separators)("a folder that now has another UIDVALIDITY and other mail is left untouched: <name>-<uidvalidity> is created under the server's prefix and gets only what the folder lacks (compat §7; separator '%s')", async (separator) => {
      const [server, proxy, root] = separator === '/' ? [a, proxyA, rootA] : [b, proxyB, rootB]
      const alice = server.users[0]!
      const cfg = await makeConfig(await testTempDir(), [accountFile(serverAt(server, proxy.port), alice, root)])
      const backedUp = await backupItems(root, 'INBOX')
      const local = backedUp.length
      const gone = (await listUids(server, alice, 'INBOX')).slice(0, 2)
      expect(gone.every((u) => backedUp.some((m) => m.uid === u))).toBe(true)
      await expunge(server, alice, 'INBOX', gone)
      await appendMessages(server, alice, 'INBOX', [{raw: Buffer.from('Subject: arrived after the backup\r\n\r\nnew\r\n')}])
      const {before, after} = await forceUidValidityChange(server, alice, 'INBOX')
      const clash = folderName(server, `INBOX-${before}`)
      expect(clash).toBe(separator === '/' ? `INBOX-${before}` : `INBOX.INBOX-${before}`)
      const untouched = await destinationItems(server, alice, 'INBOX')
      const statusBefore = await folderStatus(server, alice, 'INBOX')
      proxy.resetStats()
      const report = await restore(cfg, {account: alice.user, folders: ['INBOX']})
      expect(report.exitCode, JSON.stringify(report.folders)).toBe(0)
      const inbox = folderOf(report, 'INBOX')
      expect(inbox).toMatchObject({destination: clash, created: true, clash: {folder: 'INBOX', uidValidity: after, present: local - 2}, uploaded: 2, adopted: local - 2})
      expect(appends(proxy)).toBe(2)
      expect(await destinationItems(server, alice, 'INBOX')).toEqual(untouched)
      expect(await folderStatus(server, alice, 'INBOX')).toEqual(statusBefore)
      expectSameMail(
        await destinationItems(server, alice, clash),
        backedUp.filter((m) => gone.includes(m.uid)),
      )

      proxy.resetStats()
      const again = await restore(cfg, {account: alice.user, folders: ['INBOX']})
      expect(folderOf(again, 'INBOX')).toMatchObject({destination: clash, uploaded: 0, alreadyPresent: local})
      expect(appends(proxy)).toBe(0)

      if (separator === '/') {
        // Under a destination prefix the server does not enforce (`--prefix INBOX`, INBOX stays
        // INBOX), the clash folder is `INBOX/INBOX-<uv>`; mailkeep 0.1.0 made `INBOX-<uv>`. A
        // restore that went there continues there instead of making a second copy.
        proxy.resetStats()
        const prefixed = await restore(cfg, {account: alice.user, folders: ['INBOX'], prefix: 'INBOX', delimiter: '/'})
        expect(folderOf(prefixed, 'INBOX')).toMatchObject({destination: clash, uploaded: 0, alreadyPresent: local})
        expect(appends(proxy)).toBe(0)
        expect((await listFolders(server, alice)).map((f) => f.name)).not.toContain(`INBOX/INBOX-${before}`)
      }
    })

    it('a folder whose UIDVALIDITY changed but that holds only copies of the backup is no clash: they are adopted', async () => {
      const alice = own.users[0]!
      const cfg = await config()
      await forceUidValidityChange(own, alice, work)
      ownProxy.resetStats()
      const report = await restore(cfg, {account: alice.user, folders: [work]})
      expect(folderOf(report, work)).toMatchObject({destination: work, uploaded: 0, adopted: 40})
      expect(folderOf(report, work).clash).toBeUndefined()
      expect(appends(ownProxy)).toBe(0)
      expectSameMail(await destinationItems(own, alice, work), await backupItems(ownRoot, work))
      ownProxy.resetStats()
      expect(folderOf(await restore(cfg, {account: alice.user, folders: [work]}), work)).toMatchObject({uploaded: 0, adopted: 0, alreadyPresent: 40})
      expect(appends(ownProxy)).toBe(0)
    })

    // U7: a folder that clashes (other mail, another UIDVALIDITY) but holds every backed-up
    // message already needs no clash folder at all: they are recorded as present there, nothing
    // is created and nothing uploaded. mailkeep used to create `<name>-<uv>` and upload all 40
    // into it: the account then held each of them twice.
    it('a clashing folder that already holds every backed-up message: no clash folder, nothing uploaded', async () => {
      const alice = own.users[0]!
      const cfg = await config()
      await appendMessages(own, alice, work, [{raw: Buffer.from('Subject: not from the backup\r\n\r\nother mail\r\n')}])
      const {before, after} = await forceUidValidityChange(own, alice, work)
      const untouched = await destinationItems(own, alice, work)
      const foldersBefore = (await listFolders(own, alice)).map((f) => f.name).sort()
      ownProxy.resetStats()
      const report = await restore(cfg, {account: alice.user, folders: [work]})
      expect(report.exitCode, JSON.stringify(report.folders)).toBe(0)
      expect(folderOf(report, work)).toMatchObject({destination: work, created: false, uploaded: 0, adopted: 40, clash: {folder: work, uidValidity: after, present: 40}})
      expect(appends(ownProxy)).toBe(0)
      expect((await listFolders(own, alice)).map((f) => f.name).sort()).toEqual(foldersBefore)
      expect(foldersBefore).not.toContain(folderName(own, `Work-${before}`))
      expect(await destinationItems(own, alice, work)).toEqual(untouched)
      expectSameMail(untouched, await backupItems(ownRoot, work), {extra: 1})

      ownProxy.resetStats()
      const again = await restore(cfg, {account: alice.user, folders: [work]})
      expect(folderOf(again, work)).toMatchObject({destination: work, uploaded: 0, adopted: 0, alreadyPresent: 40})
      expect(appends(ownProxy)).toBe(0)
      expect((await listFolders(own, alice)).map((f) => f.name).sort()).toEqual(foldersBefore)
    })
  })
})
