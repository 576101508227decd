/**
 * Copies that the destination server rewrote, after their upload map is lost (U7: a destination
 * never holds more copies of a message than the backup holds).
 *
 * Servers do not always store what they are sent (SERVER_FACTS.stored): Cyrus turns each 8-bit
 * byte of the header into 'X', Courier adds a CRLF to a message that does not end with one. A copy
 * restored there is then not byte-identical to the backed-up message, so once the map that
 * records it is gone (deleted, moved aside as damaged) it has to be recognised by a rule that
 * knows these rewrites (docs/upload-maps.md, "Adoption"); without one, the next restore uploads
 * it a second time.
 *
 * On each server of serverKinds():
 * - into the account's own server (its backup holds what that server stores): restore, delete the
 *   `.restore` maps, restore again; backup (the restored copies are downloaded and paired,
 *   `mailkeep_restored`), delete the maps, restore again;
 * - an account that moved to this server from a Dovecot (its backup holds Dovecot's bytes, with
 *   8-bit headers and no final newline): the same, where the backup in between keeps the old
 *   backup aside (a new UIDVALIDITY) and the pairs cannot help; and migrate to another account
 *   of this server, delete the `.mirror` maps, migrate again.
 * Each time the server folder must hold each message exactly once, as that server stores it.
 *
 * And the rule itself against the real servers: for every corpus message a server accepts, what it
 * stores is the message as sent or one of the forms server-rewrites.ts knows, except what that
 * module says it does not cover (NOT_COVERED); and a destination that holds a message and,
 * separately, another that is exactly the first one's rewritten form pairs each with its own.
 */
import {readdir, rm} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {bareLineFeeds, crlfHash} from '../../src/store/crlf-hash.js'
import {locateCopies, messageHashes, rewrittenSizes, type MatchSubject} from '../../src/engine/upload/match.js'
import {rewrittenForms} from '../../src/store/server-rewrites.js'
import {connectAs} from '../imap/helpers.js'
import {corpusMessage, loadCorpus} from '../fixtures/corpus.js'
import type {TestUser} from '../support/dovecot.js'
import {appendMessages, createFolder, expunge, fetchMessages, folderName, folderStatus, listUids, serverAt} from '../support/mail-seed.js'
import {serverKinds, startServer, type ServerKind, type TestServer} from '../support/servers.js'
import {startProxy, type TcpProxy} from '../support/tcp-proxy.js'
import {makeTempDir, removeTempDir, testTempDir} from '../support/temp-dir.js'
import {accountFile, appends, backup, folderOf, makeConfig, restore, sha256, totals, transfer} from '../transfer/helpers.js'

/** 8-bit header bytes (Cyrus: 'X'), no final newline (Courier: CRLF added), and two plain ones. */
const MESSAGES = ['09-raw-utf8-headers', '13-no-trailing-newline', '01-thunderbird-plain', '08-rfc2047-encoded-headers'].map((name, i) => ({
  raw: corpusMessage(name).raw,
  flags: i % 2 === 0 ? ['\\Seen'] : [],
  internalDate: new Date(Date.UTC(2022, 4, 1 + i)),
}))

/** Corpus messages whose stored form server-rewrites.ts does not know, per server, and why. */
const NOT_COVERED: Record<ServerKind, readonly string[]> = {
  dovecot: [], // drops NUL bytes; the corpus has none (RFC 3501 §4.3 does not allow them in a literal)
  cyrus: [],
  courier: ['16-bare-cr'], // drops a bare CR (RFC 5322 §2.3 does not allow one)
}

describe.each(serverKinds())('%s', (kind: ServerKind) => {
  /** Keeps 8-bit headers and a missing final newline as sent: the server an account moved from. */
  let origin: TestServer
  let server: TestServer
  let proxy: TcpProxy
  let dir: string

  beforeAll(async () => {
    ;[origin, server] = await Promise.all([startServer('dovecot', {separator: '/'}), startServer(kind)])
    proxy = await startProxy({targetPort: server.port})
    dir = await makeTempDir('mailkeep-rewritten-')
  })

  afterAll(async () => {
    await proxy?.close()
    await origin?.stop()
    await server?.stop()
    if (dir !== undefined) await removeTempDir(dir)
  })

  /** Every message exactly once in `folder`, as this server stores it. */
  async function expectEachOnce(user: TestUser, folder: string): Promise<void> {
    const held = (await fetchMessages(server, user, folder)).map((m) => sha256(m.raw)).sort()
    const wanted = MESSAGES.map((m) => sha256(server.facts.stored(m.raw)!)).sort()
    expect(held).toEqual(wanted)
  }

  /** Removes the upload maps (`.restore` or `.mirror`, and their journals) of a backup. */
  async function loseMaps(root: string, kind: 'restore' | 'mirror'): Promise<number> {
    let removed = 0
    for (const entry of await readdir(root, {recursive: true, withFileTypes: true})) {
      if (!entry.isFile() || !(entry.name.endsWith(`.${kind}`) || entry.name.endsWith(`.${kind}.journal`))) continue
      await rm(join(entry.parentPath, entry.name))
      removed++
    }
    return removed
  }

  it("into the account's own server: a lost .restore map makes no second copy, before and after a backup", async () => {
    const alice = server.users[0]!
    const folder = folderName(server, 'Rewritten')
    const root = join(dir, 'alice')
    const config = await makeConfig(await testTempDir(), [accountFile(serverAt(server, proxy.port), alice, root)])
    await createFolder(server, alice, folder)
    await appendMessages(server, alice, folder, MESSAGES)
    expect((await backup(config)).exitCode).toBe(0)
    const uids = await listUids(server, alice, folder)
    await expunge(server, alice, folder, [uids[0]!, uids[1]!])

    const first = await restore(config, {account: alice.user, folders: [folder]})
    expect(folderOf(first, folder)).toMatchObject({uploaded: 2, alreadyPresent: 2})
    await expectEachOnce(alice, folder)

    expect(await loseMaps(root, 'restore')).toBeGreaterThan(0)
    proxy.resetStats()
    const again = await restore(config, {account: alice.user, folders: [folder]})
    expect(again.exitCode).toBe(0)
    expect(totals(again).uploaded).toBe(0)
    expect(appends(proxy)).toBe(0)
    await expectEachOnce(alice, folder)

    expect((await backup(config)).exitCode).toBe(0)
    await loseMaps(root, 'restore')
    proxy.resetStats()
    const third = await restore(config, {account: alice.user, folders: [folder]})
    expect(totals(third).uploaded).toBe(0)
    expect(appends(proxy)).toBe(0)
    await expectEachOnce(alice, folder)
  })

  it('an account that moved here from a Dovecot: the copies this server rewrote are recognised after the maps are lost; migrate too', async () => {
    const bob = server.users[1]!
    const folder = 'Moved'
    const root = join(dir, 'bob')
    await createFolder(origin, bob, folder)
    await appendMessages(origin, bob, folder, MESSAGES)
    const before = await makeConfig(await testTempDir(), [accountFile(origin, bob, root)])
    expect((await backup(before)).exitCode).toBe(0)

    // The account now lives on this server (same user name, so restore goes to its own server).
    const cfgDir = await testTempDir()
    const carol = server.users[2]!
    const config = await makeConfig(cfgDir, [accountFile(serverAt(server, proxy.port), bob, root), accountFile(serverAt(server, proxy.port), carol, join(dir, 'carol'))])
    const target = folderName(server, folder)
    const first = await restore(config, {account: bob.user})
    expect(first.exitCode, JSON.stringify(first.folders)).toBe(0)
    expect(folderOf(first, folder)).toMatchObject({destination: target, uploaded: MESSAGES.length})
    await expectEachOnce(bob, target)

    await loseMaps(root, 'restore')
    proxy.resetStats()
    const again = await restore(config, {account: bob.user})
    expect(again.exitCode).toBe(0)
    expect(folderOf(again, folder)).toMatchObject({destination: target, uploaded: 0, adopted: MESSAGES.length})
    expect(appends(proxy)).toBe(0)
    await expectEachOnce(bob, target)

    // A backup from this server: the folder has another UIDVALIDITY here, so the Dovecot backup
    // is kept aside (`Moved-<uv>`) and the server's copies are downloaded afresh.
    expect((await backup(config, {accounts: [bob.user]})).exitCode).toBe(0)
    await loseMaps(root, 'restore')
    proxy.resetStats()
    const third = await restore(config, {account: bob.user})
    expect(third.exitCode).toBe(0)
    expect(third.folders.filter((f) => f.source.startsWith(folder) || f.source.startsWith(target)).length).toBeGreaterThanOrEqual(2)
    expect(totals(third).uploaded, JSON.stringify(third.folders)).toBe(0)
    expect(appends(proxy)).toBe(0)
    await expectEachOnce(bob, target)

    // migrate from the same backup to another account of this server: the same with .mirror maps.
    const migrated = await transfer(config, {command: 'migrate', source: bob.user, destination: carol.user, automaticNamespaces: true})
    expect(migrated.exitCode).toBe(0)
    await expectEachOnce(carol, target)
    expect(await loseMaps(root, 'mirror')).toBeGreaterThan(0)
    proxy.resetStats()
    const remigrated = await transfer(config, {command: 'migrate', source: bob.user, destination: carol.user, automaticNamespaces: true})
    expect(remigrated.exitCode).toBe(0)
    expect(totals(remigrated).uploaded, JSON.stringify(remigrated.folders)).toBe(0)
    expect(appends(proxy)).toBe(0)
    await expectEachOnce(carol, target)
  })

  it('what this server stores is each message as sent or a form server-rewrites.ts knows (but NOT_COVERED)', async () => {
    const alice = server.users[0]!
    const folder = folderName(server, 'Corpus')
    const corpus = loadCorpus().filter((m) => server.facts.stored(m.raw) !== undefined)
    await createFolder(server, alice, folder)
    await appendMessages(server, alice, folder, corpus.map((m) => ({raw: m.raw})))
    const stored = await fetchMessages(server, alice, folder)
    expect(stored).toHaveLength(corpus.length)
    const unknown: string[] = []
    corpus.forEach((m, i) => {
      const known = [crlfHash(m.raw), ...rewrittenForms(m.raw).map((f) => f.hash())]
      if (!known.includes(crlfHash(stored[i]!.raw))) unknown.push(m.name)
    })
    expect(unknown).toEqual(NOT_COVERED[kind])
  })

  it("a message and another that is exactly its rewritten form are each paired with their own copy (as sent first), not across", async () => {
    // `sent` has an 8-bit header; `twin` is what Cyrus makes of it. On the destination the twin
    // comes first: matched in one pass, `sent` would take the twin's copy (its Cyrus form) and
    // leave the twin without one, so the folder would not hold only copies and be restored anew.
    const sent = Buffer.concat([Buffer.from('From: twins@example.test\r\nSubject: Caf'), Buffer.from([0xc3, 0xa9]), Buffer.from('\r\nMessage-ID: <twins@example.test>\r\n\r\nthe same body\r\n')])
    const twin = Buffer.from(sent.toString('latin1').replace(/\xc3\xa9/, 'XX'), 'latin1')
    expect(twin.length).toBe(sent.length)
    const when = new Date(Date.UTC(2022, 5, 1))
    const aliceOrigin = origin.users[0]!
    const dave = server.users[3]!
    await createFolder(origin, aliceOrigin, 'Twins')
    await appendMessages(origin, aliceOrigin, 'Twins', [{raw: sent, internalDate: when}, {raw: twin, internalDate: when}])
    const root = join(dir, 'twins')
    const config = await makeConfig(await testTempDir(), [accountFile(origin, aliceOrigin, root), accountFile(serverAt(server, proxy.port), dave, join(dir, 'dave'))])
    expect((await backup(config, {accounts: [aliceOrigin.user]})).exitCode).toBe(0)
    const target = folderName(server, 'Twins')
    await createFolder(server, dave, target)
    await appendMessages(server, dave, target, [{raw: twin, internalDate: when}, {raw: sent, internalDate: when}])
    const held = async (): Promise<string[]> => (await fetchMessages(server, dave, target)).map((m) => sha256(m.raw)).sort()
    const before = await held()

    proxy.resetStats()
    const report = await restore(config, {account: aliceOrigin.user, to: dave.user})
    expect(report.exitCode).toBe(0)
    expect(folderOf(report, 'Twins')).toMatchObject({destination: target, uploaded: 0, adopted: 2})
    expect(folderOf(report, 'Twins').clash).toBeUndefined()
    expect(appends(proxy)).toBe(0)
    expect(await held()).toEqual(before)
  })

  it.each([false, true])("the copy of an interrupted APPEND that the server rewrote is found again (pending intent; proof %s)", async (proof) => {
    // What a rerun does for the messages of an intent (docs/upload-maps.md, "After a crash"):
    // looks for them among the UIDs from the intent's lower bound, by size and INTERNALDATE, by
    // bytes where that is not unique (proof: always by bytes, as adoption). Here the messages were
    // appended and their UIDs never recorded.
    const alice = server.users[0]!
    const folder = folderName(server, `Pending-${proof}`)
    await createFolder(server, alice, folder)
    const from = (await folderStatus(server, alice, folder)).uidNext
    const uids = await appendMessages(server, alice, folder, MESSAGES)
    const subjects: MatchSubject[] = MESSAGES.map((m, i) => {
      const crlfSize = m.raw.length + bareLineFeeds(m.raw)
      return {uid: i + 1, crlfSize, rawSize: m.raw.length, internalDate: m.internalDate, messageId: undefined, rewrittenSizes: rewrittenSizes(m.raw, crlfSize), hashes: async () => messageHashes(m.raw)}
    })
    const session = await connectAs(server, alice)
    try {
      await session.select(folder)
      const found = await locateCopies(session, subjects, {from, taken: () => false, proof, signal: new AbortController().signal})
      expect(Object.fromEntries(found)).toEqual(Object.fromEntries(uids.map((uid, i) => [i + 1, uid])))
    } finally {
      await session.logout()
    }
  })
})
