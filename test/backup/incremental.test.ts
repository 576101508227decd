// Incremental runs, proved by counting the commands that cross a loopback proxy: an unchanged
// folder is not even selected (LIST-STATUS / STATUS), only new messages are fetched, only flag
// changes and expunges are transferred (CONDSTORE/QRESYNC), and with those extensions hidden
// the fallback (UID SEARCH ALL, FLAGS of every message, STATUS) reaches the same end state.
// The first kind runs on the servers that have those extensions (Dovecot, Cyrus), the second on
// Dovecot with them hidden and on Courier, which has none of them.
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {DovecotInstance} from '../support/dovecot.js'
import {startDovecot} from '../support/dovecot.js'
import {SERVER_FACTS, serverKinds, startServer, type TestServer} from '../support/servers.js'
import {addFlags, appendMessages, expunge, folderName, removeFlags, seedFolder, seedMessage, serverAt, setFlags, type ImapServer} from '../support/mail-seed.js'
import {startProxy, type TcpProxy} from '../support/tcp-proxy.js'
import {testTempDir} from '../support/temp-dir.js'
import {accountFile, backup, bodyFetches, commandCount, commandSummary, expectBackupEqualsServer, folderReport, makeConfig, readLocalFolder} from './helpers.js'

/** A UID SEARCH of every message (`UID SEARCH ALL`, with ESEARCH `UID SEARCH RETURN (ALL) ALL`). */
const EVERY_UID = /UID SEARCH(?: RETURN \([^)]*\))?(?: ALL)?\s*$/i
/** Dovecot 2.3's list without CONDSTORE, QRESYNC and LIST-STATUS. */
const NO_EXTENSIONS = 'IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT MULTIAPPEND UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED ESEARCH LITERAL+'

function outcomes(report: Awaited<ReturnType<typeof backup>>): Record<string, string> {
  return Object.fromEntries(report.accounts.flatMap((a) => a.folders).map((f) => [f.folder, f.outcome]))
}

const WITH_EXTENSIONS = serverKinds().filter((kind) => ['CONDSTORE', 'QRESYNC', 'LIST-STATUS'].every((ext) => SERVER_FACTS[kind].capabilities.has(ext)))
/** Dovecot with a capability override, and the real servers that lack all three. */
const WITHOUT_EXTENSIONS = serverKinds().filter((kind) => kind === 'dovecot' || !['CONDSTORE', 'QRESYNC', 'LIST-STATUS'].some((ext) => SERVER_FACTS[kind].capabilities.has(ext)))

describe.each(WITH_EXTENSIONS)('%s with CONDSTORE, QRESYNC and LIST-STATUS', (kind) => {
  let dc: TestServer
  let proxy: TcpProxy
  let server: ImapServer

  beforeAll(async () => {
    dc = await startServer(kind)
    proxy = await startProxy({targetPort: dc.port})
    server = serverAt(dc, proxy.port)
  })
  afterAll(async () => {
    await proxy?.close()
    await dc?.stop()
  })

  it('keep-all: an unchanged folder is not selected, new mail is the only body fetched, flags follow through the QRESYNC EXAMINE', async () => {
    const user = dc.users[0]!
    const work = folderName(dc, 'Work')
    const empty = folderName(dc, 'Empty')
    await seedFolder(dc, user, 'INBOX', 20)
    await seedFolder(dc, user, work, 10)
    await seedFolder(dc, user, empty, 0)
    const dir = await testTempDir()
    const root = join(dir, 'backup')
    const config = await makeConfig(dir, [accountFile(server, user, root)])

    const first = await backup(config)
    expect(first.exitCode).toBe(0)
    expect(outcomes(first)).toEqual({INBOX: 'ok', [work]: 'ok', [empty]: 'ok'})

    // Nothing changed: LIST-STATUS says so, no folder is examined, no message fetched.
    proxy.resetStats()
    const second = await backup(config)
    expect(second.exitCode).toBe(0)
    expect(outcomes(second)).toEqual({INBOX: 'unchanged', [work]: 'unchanged', [empty]: 'unchanged'})
    expect(commandCount(proxy, 'EXAMINE') + commandCount(proxy, 'SELECT') + commandCount(proxy, 'STATUS'), commandSummary(proxy)).toBe(0)
    expect(commandCount(proxy, 'UID FETCH') + commandCount(proxy, 'UID SEARCH'), commandSummary(proxy)).toBe(0)
    expect(commandCount(proxy, 'LIST', /RETURN \(.*STATUS/i), commandSummary(proxy)).toBe(1)
    // IMAP ID (RFC 2971) after login, with mailkeep's identity only: some servers require it.
    expect(proxy.commands.filter((c) => c.name === 'ID').map((c) => c.line)).toEqual([expect.stringMatching(/^\S+ ID \("name" "mailkeep" "version" "\d+\.\d+\.\d+"\)$/)])

    // Two new messages in Work: only Work is examined, only they are fetched.
    const added = await appendMessages(dc, user, work, [seedMessage(100), seedMessage(101)])
    proxy.resetStats()
    const third = await backup(config)
    expect(third.exitCode).toBe(0)
    expect(outcomes(third)).toEqual({INBOX: 'unchanged', [work]: 'ok', [empty]: 'unchanged'})
    expect(folderReport(third, work).new).toBe(2)
    expect(proxy.commands.filter((c) => c.name === 'EXAMINE').map((c) => c.line)).toEqual([expect.stringContaining('Work')])
    expect(bodyFetches(proxy)).toEqual([expect.stringContaining(` ${added[0]}:${added[1]} `)])
    await expectBackupEqualsServer(dc, user, root, work)

    // Flags changed on the server: by default they follow, and with QRESYNC the EXAMINE's answer
    // is all it takes (issue 11 item 10): no FETCH of flags, no SEARCH, no body.
    await setFlags(dc, user, 'INBOX', [1, 2], ['\\Answered'])
    await addFlags(dc, user, 'INBOX', [3], ['$Important'])
    proxy.resetStats()
    const fourth = await backup(config)
    expect(fourth.exitCode).toBe(0)
    expect(folderReport(fourth, 'INBOX')).toMatchObject({outcome: 'ok', new: 0, flagUpdates: 3})
    expect(bodyFetches(proxy), commandSummary(proxy)).toEqual([])
    expect(commandCount(proxy, 'UID FETCH', /FLAGS/) + commandCount(proxy, 'UID SEARCH'), commandSummary(proxy)).toBe(0)
    expect(proxy.commands.filter((c) => c.name === 'EXAMINE').map((c) => c.line)).toEqual([expect.stringMatching(/INBOX.*\(QRESYNC \(\d+ \d+\)\)/)])
    await expectBackupEqualsServer(dc, user, root, 'INBOX')
    // Unchanged folders (HIGHESTMODSEQ too) are not examined.
    expect(outcomes(fourth)[work]).toBe('unchanged')

    // And the next run, --refresh or not, has nothing to do at all.
    proxy.resetStats()
    const fifth = await backup(config, {refresh: true})
    expect(outcomes(fifth)).toEqual({INBOX: 'unchanged', [work]: 'unchanged', [empty]: 'unchanged'})
    expect(commandCount(proxy, 'EXAMINE')).toBe(0)
  })

  it('keep-all with freeze_flags: flags stay as downloaded (imap-backup) until --refresh, which fetches only the changes', async () => {
    const user = dc.users[2]!
    await seedFolder(dc, user, 'INBOX', 12)
    const dir = await testTempDir()
    const root = join(dir, 'backup')
    const config = await makeConfig(dir, [accountFile(server, user, root)], {freeze_flags: true})
    expect((await backup(config)).exitCode).toBe(0)

    await setFlags(dc, user, 'INBOX', [1, 2], ['\\Answered'])
    await addFlags(dc, user, 'INBOX', [3], ['$Important'])
    proxy.resetStats()
    const frozen = await backup(config)
    expect(outcomes(frozen)['INBOX']).toBe('unchanged')
    expect(commandCount(proxy, 'EXAMINE')).toBe(0)
    const stale = await readLocalFolder(root, 'INBOX')
    expect(stale.messages.find((m) => m.uid === 3)!.flags).not.toContain('$Important')

    // --refresh: the flags were never compared since they were downloaded, so this once every
    // stored message's flags are fetched (the checkpoint is the download's); no body.
    proxy.resetStats()
    const refreshed = await backup(config, {refresh: true})
    expect(refreshed.exitCode).toBe(0)
    expect(folderReport(refreshed, 'INBOX')).toMatchObject({outcome: 'ok', new: 0, flagUpdates: 3})
    expect(bodyFetches(proxy), commandSummary(proxy)).toEqual([])
    await expectBackupEqualsServer(dc, user, root, 'INBOX')

    // Changed again, frozen again: a keep-all run moves HIGHESTMODSEQ on (new mail) without
    // looking at flags, and the next --refresh still finds the change, with CHANGEDSINCE.
    await removeFlags(dc, user, 'INBOX', [1], ['\\Answered'])
    await appendMessages(dc, user, 'INBOX', [seedMessage(77)])
    expect(folderReport(await backup(config), 'INBOX')).toMatchObject({outcome: 'ok', new: 1, flagUpdates: 0})
    proxy.resetStats()
    const again = await backup(config, {refresh: true})
    expect(folderReport(again, 'INBOX')).toMatchObject({outcome: 'ok', new: 0, flagUpdates: 1})
    expect(commandCount(proxy, 'UID FETCH', /CHANGEDSINCE/), commandSummary(proxy)).toBe(1)
    await expectBackupEqualsServer(dc, user, root, 'INBOX')
  })

  it('mirror: expunges and flag changes are the only things transferred', async () => {
    const user = dc.users[1]!
    const uids = await seedFolder(dc, user, 'INBOX', 12)
    const dir = await testTempDir()
    const root = join(dir, 'backup')
    const config = await makeConfig(dir, [accountFile(server, user, root, {mirror_mode: true})])
    expect((await backup(config)).exitCode).toBe(0)

    proxy.resetStats()
    const unchanged = await backup(config)
    expect(outcomes(unchanged)).toEqual({INBOX: 'unchanged'})
    expect(commandCount(proxy, 'EXAMINE')).toBe(0)

    await expunge(dc, user, 'INBOX', [uids[0]!, uids[5]!])
    await removeFlags(dc, user, 'INBOX', [uids[1]!], ['\\Seen'])
    const [added] = await appendMessages(dc, user, 'INBOX', [seedMessage(50)])
    proxy.resetStats()
    const report = await backup(config)
    expect(report.exitCode).toBe(0)
    expect(folderReport(report, 'INBOX')).toMatchObject({outcome: 'ok', new: 1, deleted: 2, flagUpdates: 1})
    expect(bodyFetches(proxy)).toEqual([expect.stringContaining(` ${added} `)])
    // Deletions came from QRESYNC's VANISHED, not from listing every UID.
    expect(commandCount(proxy, 'UID SEARCH', EVERY_UID), commandSummary(proxy)).toBe(0)
    await expectBackupEqualsServer(dc, user, root, 'INBOX')

    proxy.resetStats()
    expect(outcomes(await backup(config))).toEqual({INBOX: 'unchanged'})
    expect(commandCount(proxy, 'EXAMINE')).toBe(0)
  })
})

describe.each(WITHOUT_EXTENSIONS)('%s without CONDSTORE, QRESYNC and LIST-STATUS', (kind) => {
  let dc: TestServer
  let proxy: TcpProxy
  let server: ImapServer

  beforeAll(async () => {
    dc = await startServer(kind, {dovecot: {capabilities: NO_EXTENSIONS}})
    proxy = await startProxy({targetPort: dc.port})
    server = serverAt(dc, proxy.port)
  })
  afterAll(async () => {
    await proxy?.close()
    await dc?.stop()
  })

  it('keep-all: STATUS tells an unchanged folder, and new mail is found from the stored UIDNEXT', async () => {
    const user = dc.users[0]!
    const work = folderName(dc, 'Work')
    await seedFolder(dc, user, 'INBOX', 15)
    await seedFolder(dc, user, work, 5)
    const dir = await testTempDir()
    const root = join(dir, 'backup')
    const config = await makeConfig(dir, [accountFile(server, user, root)])
    expect((await backup(config)).exitCode).toBe(0)

    proxy.resetStats()
    const second = await backup(config)
    expect(outcomes(second)).toEqual({INBOX: 'unchanged', [work]: 'unchanged'})
    expect(commandCount(proxy, 'LIST', /RETURN/i)).toBe(0)
    expect(commandCount(proxy, 'STATUS')).toBe(2)
    expect(commandCount(proxy, 'EXAMINE') + commandCount(proxy, 'UID FETCH') + commandCount(proxy, 'UID SEARCH'), commandSummary(proxy)).toBe(0)

    const added = await appendMessages(dc, user, work, [seedMessage(200)])
    proxy.resetStats()
    const third = await backup(config)
    expect(folderReport(third, work)).toMatchObject({outcome: 'ok', new: 1})
    expect(bodyFetches(proxy)).toEqual([expect.stringContaining(` ${added[0]} `)])
    expect(commandCount(proxy, 'UID SEARCH', /UID \d+:\*/), commandSummary(proxy)).toBe(1)
    expect(proxy.commands.some((c) => /CONDSTORE|QRESYNC|CHANGEDSINCE|HIGHESTMODSEQ/i.test(c.line)), commandSummary(proxy)).toBe(false)
    await expectBackupEqualsServer(dc, user, root, work)
  })

  it('mirror: UID SEARCH ALL and FLAGS of every message reach the same end state', async () => {
    const user = dc.users[1]!
    const uids = await seedFolder(dc, user, 'INBOX', 30)
    const dir = await testTempDir()
    const root = join(dir, 'backup')
    const config = await makeConfig(dir, [accountFile(server, user, root, {mirror_mode: true})])
    expect((await backup(config)).exitCode).toBe(0)

    // Unchanged: the folder must be examined (flags may have changed) but as many messages as
    // stored and the same UIDNEXT mean nothing was expunged: no UID SEARCH.
    proxy.resetStats()
    const unchanged = await backup(config)
    expect(folderReport(unchanged, 'INBOX')).toMatchObject({outcome: 'ok', new: 0, deleted: 0, flagUpdates: 0})
    expect(commandCount(proxy, 'EXAMINE')).toBe(1)
    expect(commandCount(proxy, 'UID SEARCH') + bodyFetches(proxy).length, commandSummary(proxy)).toBe(0)

    await expunge(dc, user, 'INBOX', [uids[2]!, uids[3]!, uids[29]!])
    await setFlags(dc, user, 'INBOX', [uids[4]!, uids[7]!], ['\\Flagged', '$Work'])
    const added = await appendMessages(dc, user, 'INBOX', [seedMessage(300), seedMessage(301)])
    proxy.resetStats()
    const report = await backup(config)
    expect(report.exitCode).toBe(0)
    expect(folderReport(report, 'INBOX')).toMatchObject({outcome: 'ok', new: 2, deleted: 3, flagUpdates: 2})
    expect(bodyFetches(proxy)).toEqual([expect.stringContaining(` ${added[0]}:${added[1]} `)])
    expect(proxy.commands.some((c) => /CONDSTORE|QRESYNC|CHANGEDSINCE|VANISHED/i.test(c.line)), commandSummary(proxy)).toBe(false)
    await expectBackupEqualsServer(dc, user, root, 'INBOX')
    const local = await readLocalFolder(root, 'INBOX')
    expect(local.highestModseq).toBeUndefined()
  })
})

describe('a folder of 10,000 messages', () => {
  let dc: DovecotInstance
  let proxy: TcpProxy

  beforeAll(async () => {
    dc = await startDovecot()
    proxy = await startProxy({targetPort: dc.port})
  })
  afterAll(async () => {
    await proxy?.close()
    await dc?.stop()
  })

  it('costs about a kilobyte from the server when nothing changed, and little more after an expunge (mirror)', async () => {
    const user = dc.users[0]!
    const bulk = folderName(dc, 'Bulk')
    const uids = await seedFolder(dc, user, bulk, 10_000, (i) => Buffer.from(`From: address@example.org\r\nSubject: Test ${i}\r\n\r\nbody 1\r\nHi\r\n`))
    const dir = await testTempDir()
    const root = join(dir, 'backup')
    const config = await makeConfig(dir, [accountFile(serverAt(dc, proxy.port), user, root, {mirror_mode: true, multi_fetch_size: 1000, folders: [bulk]})])
    let started = Date.now()
    const first = await backup(config)
    console.log(`first backup of 10,000 messages: ${Date.now() - started} ms (information only)`)
    expect(folderReport(first, bulk).new).toBe(10_000)

    proxy.resetStats()
    started = Date.now()
    expect(outcomes(await backup(config))).toEqual({[bulk]: 'unchanged'})
    console.log(`unchanged run: ${Date.now() - started} ms, ${proxy.stats.serverToClient.bytes} bytes from the server (information only)`)
    expect(proxy.stats.serverToClient.bytes).toBeLessThan(4096)

    await expunge(dc, user, bulk, [uids[10]!, uids[9_999]!])
    proxy.resetStats()
    const report = await backup(config)
    expect(folderReport(report, bulk)).toMatchObject({outcome: 'ok', new: 0, deleted: 2})
    expect(proxy.stats.serverToClient.bytes, commandSummary(proxy)).toBeLessThan(8192)
    const local = await readLocalFolder(root, bulk)
    expect(local.messages.length).toBe(9_998)
    expect(local.messages.some((m) => m.uid === uids[10] || m.uid === uids[9_999])).toBe(false)
  })
})

describe('with CONDSTORE but without QRESYNC', () => {
  let dc: DovecotInstance
  let proxy: TcpProxy

  beforeAll(async () => {
    dc = await startDovecot({capabilities: `${NO_EXTENSIONS} CONDSTORE LIST-STATUS`})
    proxy = await startProxy({targetPort: dc.port})
  })
  afterAll(async () => {
    await proxy?.close()
    await dc?.stop()
  })

  it('mirror: CHANGEDSINCE brings only the changed flags; expunges are found by one UID SEARCH ALL', async () => {
    const user = dc.users[0]!
    const uids = await seedFolder(dc, user, 'INBOX', 40)
    const dir = await testTempDir()
    const root = join(dir, 'backup')
    const config = await makeConfig(dir, [accountFile(serverAt(dc, proxy.port), user, root, {mirror_mode: true})])
    expect((await backup(config)).exitCode).toBe(0)
    expect((await readLocalFolder(root, 'INBOX')).highestModseq).toBeDefined()

    proxy.resetStats()
    expect(outcomes(await backup(config))).toEqual({INBOX: 'unchanged'})
    expect(commandCount(proxy, 'EXAMINE')).toBe(0)

    await setFlags(dc, user, 'INBOX', [uids[3]!], ['\\Deleted'])
    await expunge(dc, user, 'INBOX', [uids[9]!])
    proxy.resetStats()
    const report = await backup(config)
    expect(folderReport(report, 'INBOX')).toMatchObject({outcome: 'ok', new: 0, deleted: 1, flagUpdates: 1})
    expect(commandCount(proxy, 'UID FETCH', /CHANGEDSINCE/), commandSummary(proxy)).toBe(1)
    expect(commandCount(proxy, 'UID FETCH', /FLAGS\)$/), commandSummary(proxy)).toBe(0)
    expect(commandCount(proxy, 'UID SEARCH', EVERY_UID), commandSummary(proxy)).toBe(1)
    expect(proxy.commands.some((c) => /QRESYNC/i.test(c.line)), commandSummary(proxy)).toBe(false)
    await expectBackupEqualsServer(dc, user, root, 'INBOX')
  })
})
