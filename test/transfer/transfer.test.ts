/**
 * copy and mirror between two real servers ('/' without prefix = A, '.' with `INBOX.` = B), on
 * each server of serverKinds(): both of that kind where it offers both shapes (Dovecot, Cyrus);
 * Courier ('.' only) is B with a Dovecot A. In both directions, with prefixes and delimiters given or taken from NAMESPACE; mirror deletes on
 * the destination exactly what it may (copies whose source is gone) and nothing else; copy brings
 * flag changes on the source over; migrate is idempotent. Every check compares the destination
 * with the backup by SHA-256, flags and INTERNALDATE, the '.' → '/' ones also with the source
 * server's own messages (raw client, not our store), and counts APPENDs through the proxy.
 */
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {capabilitiesWithout} from '../imap/helpers.js'
import {startDovecot, type DovecotInstance, type TestUser} from '../support/dovecot.js'
import {SERVER_FACTS, serverKinds, startServer, type ServerKind, type TestServer} from '../support/servers.js'
import {appendMessages, createFolder, expunge, fetchMessages, listFolders, listUids, removeFlags, seedFolder, seedMessage, serverAt, setFlags} from '../support/mail-seed.js'
import {startProxy, type TcpProxy} from '../support/tcp-proxy.js'
import {makeTempDir, removeTempDir} from '../support/temp-dir.js'
import {accountFile, appends, backupItems, destinationItems, expectSameMail, folderOf, makeConfig, sha256, totals, transfer} from './helpers.js'

describe.each(serverKinds())('%s', (kind: ServerKind) => {
  let a: TestServer
  let b: TestServer
  /** Dovecot without UIDPLUS (a capability override), whatever the kind. */
  let c: DovecotInstance
  let proxyA: TcpProxy
  let proxyB: TcpProxy
  let proxyC: TcpProxy
  let dir: string

  beforeAll(async () => {
    ;[a, b, c] = await Promise.all([
      startServer(SERVER_FACTS[kind].separators.includes('/') ? kind : 'dovecot', {separator: '/'}),
      startServer(kind, {separator: '.'}),
      startDovecot({separator: '/', capabilities: capabilitiesWithout('UIDPLUS')}),
    ])
    ;[proxyA, proxyB, proxyC] = await Promise.all([startProxy({targetPort: a.port}), startProxy({targetPort: b.port}), startProxy({targetPort: c.port})])
    dir = await makeTempDir('mailkeep-transfer-')
  })

  afterAll(async () => {
    for (const p of [proxyA, proxyB, proxyC]) await p?.close()
    for (const d of [a, b, c]) await d?.stop()
    if (dir !== undefined) await removeTempDir(dir)
  })

  function account(server: TestServer | DovecotInstance, proxy: TcpProxy, user: TestUser, extra: Record<string, unknown> = {}): ReturnType<typeof accountFile> {
    return accountFile(serverAt(server, proxy.port), user, join(dir, `${user.user}-${server.port}`), extra)
  }

  describe("copy and mirror '/' → '.' with INBOX.", () => {
    it('mirror: uploads once, adopts an identical copy, keeps destination-only mail, then deletes only copies whose source is gone', async () => {
      const alice = a.users[0]!
      const bob = b.users[1]!
      await seedFolder(a, alice, 'Work', 12)
      await seedFolder(a, alice, 'Lists/rust', 3)
      // On the destination already: mail of its own (kept whatever happens) and a byte-identical
      // copy of source message 3 (adopted, not uploaded a second time).
      await createFolder(b, bob, 'INBOX.Work')
      const own = Buffer.from('From: someone@example.test\r\nSubject: only on the destination\r\n\r\nkeep me\r\n')
      await appendMessages(b, bob, 'INBOX.Work', [{raw: own, flags: ['\\Seen']}, seedMessage(3)])
      const config = await makeConfig(dir, [account(a, proxyA, alice, {mirror_mode: true}), account(b, proxyB, bob)])
      const root = join(dir, `${alice.user}-${a.port}`)

      proxyB.resetStats()
      const first = await transfer(config, {command: 'mirror', source: alice.user, destination: bob.user, automaticNamespaces: true})
      expect(first.exitCode).toBe(0)
      expect(first.backup?.exitCode).toBe(0)
      // Cyrus made 'Lists' a folder of its own when 'Lists/rust' was created (createMakesParentFolders).
      const parent = a.facts.createMakesParentFolders ? {Lists: 'INBOX.Lists'} : {}
      expect(Object.fromEntries(first.folders.map((f) => [f.source, f.destination]))).toEqual({INBOX: 'INBOX', 'Lists/rust': 'INBOX.Lists.rust', Work: 'INBOX.Work', ...parent})
      expect(folderOf(first, 'Work')).toMatchObject({uploaded: 11, adopted: 1, deleted: 0, created: false})
      expect(appends(proxyB)).toBe(14)
      expectSameMail(await destinationItems(b, bob, 'INBOX.Work'), await backupItems(root, 'Work'), {extra: 1})
      expectSameMail(await destinationItems(b, bob, 'INBOX.Lists.rust'), await backupItems(root, 'Lists/rust'))
      const mirrorFile = JSON.parse(await readFile(join(root, 'Work.mirror'), 'utf8'))
      expect(Object.keys(mirrorFile[bob.user].map)).toHaveLength(12)
      expect(mirrorFile[bob.user]).toMatchObject({mailkeep: {folder: 'INBOX.Work'}})

      // The source loses two messages (mirror mode backup follows) and one gets other flags.
      const uids = await listUids(a, alice, 'Work')
      await expunge(a, alice, 'Work', [uids[0]!, uids[3]!]) // [3] is the adopted one: a proven copy
      await setFlags(a, alice, 'Work', [uids[5]!], ['\\Flagged', '$Important'])
      proxyB.resetStats()
      const second = await transfer(config, {command: 'mirror', source: alice.user, destination: bob.user, automaticNamespaces: true})
      expect(second.exitCode).toBe(0)
      expect(folderOf(second, 'Work')).toMatchObject({uploaded: 0, deleted: 2, flagsUpdated: 1, alreadyPresent: 10})
      expect(appends(proxyB)).toBe(0)
      const after = await destinationItems(b, bob, 'INBOX.Work')
      expectSameMail(after, await backupItems(root, 'Work'), {extra: 1})
      expect(after.map((m) => m.sha)).toContain(sha256(own)) // the destination-only message survives

      // A copy deleted on the destination by hand: mirror puts it back, copy would not.
      const victim = after.find((m) => m.sha !== sha256(own))!
      await expunge(b, bob, 'INBOX.Work', [victim.uid])
      const copy = await transfer(config, {command: 'copy', source: alice.user, destination: bob.user, automaticNamespaces: true})
      expect(folderOf(copy, 'Work')).toMatchObject({uploaded: 0, deleted: 0})
      expect(folderOf(copy, 'Work').notes.join()).toMatch(/no longer in 'INBOX.Work'; they are not copied again/)
      const third = await transfer(config, {command: 'mirror', source: alice.user, destination: bob.user, automaticNamespaces: true})
      expect(folderOf(third, 'Work')).toMatchObject({uploaded: 1, deleted: 0})
      expectSameMail(await destinationItems(b, bob, 'INBOX.Work'), await backupItems(root, 'Work'), {extra: 1})
    })

    it("copy without naming options (imap-backup's defaults): a name outside the destination's namespace fails its folder with a hint how to name it", async () => {
      // copy keeps imap-backup's default destination prefix (''); the '.' servers keep personal
      // folders under INBOX. and refuse 'Naming' (each with its own words). Nothing is created.
      const src = c.users[1]!
      const dst = b.users[0]!
      await seedFolder(c, src, 'Naming', 2)
      const config = await makeConfig(dir, [account(c, proxyC, src), account(b, proxyB, dst)])
      const report = await transfer(config, {command: 'copy', source: src.user, destination: dst.user})
      expect(report.exitCode).toBe(4)
      expect(folderOf(report, 'INBOX')).toMatchObject({destination: 'INBOX', outcome: 'ok'})
      expect(folderOf(report, 'Naming')).toMatchObject({destination: 'Naming', outcome: 'failed', uploaded: 0, created: false})
      expect(folderOf(report, 'Naming').error?.hint).toBe(
        "'Naming' is outside the destination's personal namespace 'INBOX.', where its folders must be: add --automatic-namespaces, or --destination-prefix 'INBOX.' (docs/delimiters-and-prefixes.md)",
      )
      expect((await listFolders(b, dst)).map((f) => f.name)).not.toContain('Naming')
    })

    it('copy with explicit --destination-prefix/--destination-delimiter; flags follow; destination-only mail is kept', async () => {
      const carolA = a.users[2]!
      const daveB = b.users[3]!
      await seedFolder(a, carolA, 'Projects/x', 6)
      const config = await makeConfig(dir, [account(a, proxyA, carolA), account(b, proxyB, daveB)])
      const root = join(dir, `${carolA.user}-${a.port}`)
      const options = {command: 'copy', source: carolA.user, destination: daveB.user, destinationPrefix: 'INBOX.From carol', destinationDelimiter: '.'} as const
      const first = await transfer(config, options)
      expect(folderOf(first, 'Projects/x')).toMatchObject({destination: 'INBOX.From carol.Projects.x', uploaded: 6, created: true})
      expect(folderOf(first, 'INBOX')).toMatchObject({destination: 'INBOX.From carol.INBOX'})
      await appendMessages(b, daveB, 'INBOX.From carol.Projects.x', [{raw: Buffer.from('Subject: mine\r\n\r\nx\r\n')}])
      // Flags changed on the destination go back to the backed-up ones (compat item 27).
      const destUids = await listUids(b, daveB, 'INBOX.From carol.Projects.x')
      await setFlags(b, daveB, 'INBOX.From carol.Projects.x', [destUids[1]!], ['\\Draft'])
      await seedFolder(a, carolA, 'Projects/x', 2, (i) => seedMessage(100 + i))
      proxyB.resetStats()
      const second = await transfer(config, options)
      expect(folderOf(second, 'Projects/x'), JSON.stringify(second, null, 1)).toMatchObject({uploaded: 2, alreadyPresent: 6, flagsUpdated: 1})
      expect(appends(proxyB)).toBe(2)
      expectSameMail(await destinationItems(b, daveB, 'INBOX.From carol.Projects.x'), await backupItems(root, 'Projects/x'), {extra: 1})
    })
  })

  describe("copy and mirror '.' with INBOX. → '/'", () => {
    it('copy: INBOX.Work → Work with --source-prefix INBOX.; a rerun appends nothing; a flag changed on the source reaches the destination', async () => {
      const aliceB = b.users[0]!
      const bobA = a.users[1]!
      await seedFolder(b, aliceB, 'INBOX.Work', 9)
      await seedFolder(b, aliceB, 'INBOX.Work.Old', 4)
      const config = await makeConfig(dir, [account(b, proxyB, aliceB), account(a, proxyA, bobA)])
      const root = join(dir, `${aliceB.user}-${b.port}`)
      const options = {command: 'copy', source: aliceB.user, destination: bobA.user, sourcePrefix: 'INBOX.'} as const
      const first = await transfer(config, options)
      expect(first.exitCode, JSON.stringify(first, null, 1)).toBe(0)
      expect(first.naming).toEqual({sourcePrefix: 'INBOX.', sourceDelimiter: '.', destinationPrefix: '', destinationDelimiter: '/'})
      expect(Object.fromEntries(first.folders.map((f) => [f.source, f.destination]))).toMatchObject({'INBOX.Work': 'Work', 'INBOX.Work.Old': 'Work/Old'})
      expectSameMail(await destinationItems(a, bobA, 'Work'), await backupItems(root, 'INBOX.Work'))
      expectSameMail(await destinationItems(a, bobA, 'Work/Old'), await backupItems(root, 'INBOX.Work.Old'))
      // Against the source server itself too: bytes, flags and INTERNALDATE as Dovecot B has them.
      expectSameMail(await destinationItems(a, bobA, 'Work'), await destinationItems(b, aliceB, 'INBOX.Work'))
      expectSameMail(await destinationItems(a, bobA, 'Work/Old'), await destinationItems(b, aliceB, 'INBOX.Work.Old'))
      proxyA.resetStats()
      const again = await transfer(config, options)
      expect(totals(again).uploaded).toBe(0)
      expect(appends(proxyA)).toBe(0)

      // Flags changed on the source (a keep-all account: only the backup's flag refresh brings them).
      const uids = await listUids(b, aliceB, 'INBOX.Work')
      await setFlags(b, aliceB, 'INBOX.Work', [uids[1]!], ['\\Answered', '$Important'])
      await removeFlags(b, aliceB, 'INBOX.Work', [uids[2]!], ['\\Seen'])
      proxyA.resetStats()
      const third = await transfer(config, options)
      expect(third.exitCode).toBe(0)
      expect(folderOf(third, 'INBOX.Work')).toMatchObject({uploaded: 0, flagsUpdated: 2})
      expect(appends(proxyA)).toBe(0)
      expectSameMail(await destinationItems(a, bobA, 'Work'), await destinationItems(b, aliceB, 'INBOX.Work'))
    })

    it('mirror: INBOX.Feeds → Feeds, INBOX.Feeds.Old → Feeds/Old; expunges and flag changes on the source follow', async () => {
      const carolB = b.users[2]!
      const bobA = a.users[1]!
      await seedFolder(b, carolB, 'INBOX.Feeds', 7)
      await seedFolder(b, carolB, 'INBOX.Feeds.Old', 3, (i) => seedMessage(200 + i))
      const config = await makeConfig(dir, [account(b, proxyB, carolB, {mirror_mode: true}), account(a, proxyA, bobA)])
      const root = join(dir, `${carolB.user}-${b.port}`)
      const options = {command: 'mirror', source: carolB.user, destination: bobA.user, automaticNamespaces: true} as const
      const first = await transfer(config, options)
      expect(first.exitCode, JSON.stringify(first, null, 1)).toBe(0)
      expect(first.naming).toEqual({sourcePrefix: 'INBOX.', sourceDelimiter: '.', destinationPrefix: '', destinationDelimiter: '/'})
      expect(Object.fromEntries(first.folders.map((f) => [f.source, f.destination]))).toEqual({INBOX: 'INBOX', 'INBOX.Feeds': 'Feeds', 'INBOX.Feeds.Old': 'Feeds/Old'})
      for (const [src, dst] of [
        ['INBOX.Feeds', 'Feeds'],
        ['INBOX.Feeds.Old', 'Feeds/Old'],
      ] as const) {
        expectSameMail(await destinationItems(a, bobA, dst), await backupItems(root, src))
        expectSameMail(await destinationItems(a, bobA, dst), await destinationItems(b, carolB, src))
      }

      const uids = await listUids(b, carolB, 'INBOX.Feeds')
      await expunge(b, carolB, 'INBOX.Feeds', [uids[0]!, uids[4]!])
      await setFlags(b, carolB, 'INBOX.Feeds', [uids[2]!], ['\\Flagged'])
      proxyA.resetStats()
      const second = await transfer(config, options)
      expect(second.exitCode).toBe(0)
      expect(folderOf(second, 'INBOX.Feeds')).toMatchObject({uploaded: 0, deleted: 2, flagsUpdated: 1, alreadyPresent: 5})
      expect(appends(proxyA)).toBe(0)
      expectSameMail(await destinationItems(a, bobA, 'Feeds'), await backupItems(root, 'INBOX.Feeds'))
      expectSameMail(await destinationItems(a, bobA, 'Feeds'), await destinationItems(b, carolB, 'INBOX.Feeds'))
    })

    it('--automatic-namespaces cannot be combined with an explicit prefix or delimiter', async () => {
      const config = await makeConfig(dir, [account(b, proxyB, b.users[0]!), account(a, proxyA, a.users[1]!)])
      await expect(transfer(config, {command: 'copy', source: b.users[0]!.user, destination: a.users[1]!.user, automaticNamespaces: true, destinationDelimiter: '/'})).rejects.toThrow(
        '--automatic-namespaces is incompatible with --destination-delimiter',
      )
      await expect(transfer(config, {command: 'copy', source: b.users[0]!.user, destination: b.users[0]!.user})).rejects.toThrow('Source and destination accounts cannot be the same!')
    })
  })

  // The destination is Dovecot in every case: run once.
  describe.runIf(kind === 'dovecot')('mirror to a server without UIDPLUS', () => {
    it('does not EXPUNGE while a message it does not own is flagged \\Deleted; does once it is not', async () => {
      const dave = a.users[3]!
      const carol = c.users[2]!
      await seedFolder(a, dave, 'Feeds', 5)
      const config = await makeConfig(dir, [account(a, proxyA, dave, {mirror_mode: true}), account(c, proxyC, carol)])
      expect((await transfer(config, {command: 'mirror', source: dave.user, destination: carol.user})).exitCode).toBe(0)
      const theirs = Buffer.from('Subject: flagged by someone else\r\n\r\nx\r\n')
      await appendMessages(c, carol, 'Feeds', [{raw: theirs, flags: ['\\Deleted']}])
      await expunge(a, dave, 'Feeds', [(await listUids(a, dave, 'Feeds'))[0]!])

      proxyC.resetStats()
      const blocked = await transfer(config, {command: 'mirror', source: dave.user, destination: carol.user})
      expect(proxyC.commandNames()).not.toContain('EXPUNGE')
      expect(folderOf(blocked, 'Feeds')).toMatchObject({deleted: 0})
      expect(folderOf(blocked, 'Feeds').notes.join()).toMatch(/not expunged: the server has no UIDPLUS/)
      expect((await fetchMessages(c, carol, 'Feeds')).map((m) => sha256(m.raw))).toContain(sha256(theirs))

      const theirUid = (await fetchMessages(c, carol, 'Feeds')).find((m) => sha256(m.raw) === sha256(theirs))!.uid
      await removeFlags(c, carol, 'Feeds', [theirUid], ['\\Deleted'])
      const done = await transfer(config, {command: 'mirror', source: dave.user, destination: carol.user})
      expect(folderOf(done, 'Feeds')).toMatchObject({deleted: 1})
      const root = join(dir, `${dave.user}-${a.port}`)
      expectSameMail(await destinationItems(c, carol, 'Feeds'), await backupItems(root, 'Feeds'), {extra: 1})
    })
  })

  describe('account status (compat §3.6) and connection failures', () => {
    it('refuses an offline account, copies an archived one without backing it up first', async () => {
      const src = a.users[0]!
      const dst = b.users[2]!
      const root = join(dir, `${src.user}-${a.port}`)
      const offline = await makeConfig(dir, [account(a, proxyA, src), account(b, proxyB, dst, {status: 'offline'})])
      await expect(transfer(offline, {command: 'copy', source: src.user, destination: dst.user})).rejects.toThrow(`Account '${dst.user}' is not available for migration (status: offline)`)
      await expect(transfer(offline, {command: 'copy', source: 'nobody@example.test', destination: dst.user})).rejects.toThrow("Account 'nobody@example.test' does not exist")
      const archived = await makeConfig(dir, [account(a, proxyA, src, {status: 'archived'}), account(b, proxyB, dst)])
      proxyA.resetStats()
      const report = await transfer(archived, {command: 'copy', source: src.user, destination: dst.user, automaticNamespaces: true})
      expect(report.backup).toBeUndefined()
      expect(proxyA.commandNames()).not.toContain('UID FETCH') // no backup of the source
      expect(report.exitCode).toBe(0)
      expectSameMail(await destinationItems(b, dst, 'INBOX.Work'), await backupItems(root, 'Work'))
    })

    it('a destination that refuses the login is a connection failure (exit 111), before anything is uploaded', async () => {
      const src = a.users[0]!
      const dst = b.users[3]!
      const config = await makeConfig(dir, [account(a, proxyA, src), {...account(b, proxyB, dst), password: 'wrong'}])
      const error = await transfer(config, {command: 'migrate', source: src.user, destination: dst.user}).catch((e: unknown) => e)
      expect((error as {exitCode?: number}).exitCode).toBe(111)
    })
  })
})
