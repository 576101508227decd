/**
 * Idempotent restore on servers that do not announce UIDPLUS (RFC 4315): no APPENDUID to rely
 * on, so every uploaded message is found again (UID SEARCH in the range above the batch's lower
 * bound, then RFC822.SIZE / INTERNALDATE, then bytes when that is ambiguous). Dovecot still sends
 * APPENDUID when its announcement is hidden (docs/testing.md), so the test checks what the client
 * did after each APPEND, through the proxy. Also: a map that was lost is rebuilt by comparing
 * bytes (nothing appended twice).
 *
 * The destination is a Dovecot that hides UIDPLUS (only Dovecot's announcement can be changed;
 * Cyrus and Courier have UIDPLUS); the backup comes from each server of serverKinds(), so what
 * is found again is each server's form of the corpus (SERVER_FACTS.stored).
 */
import {rm} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {encodeFolderPath} from '../../src/store/folder-path.js'
import {loadCorpus} from '../fixtures/corpus.js'
import {capabilitiesWithout} from '../imap/helpers.js'
import {startDovecot, type DovecotInstance} from '../support/dovecot.js'
import {appendMessages, folderName, seedFolder, seedMessage, serverAt} from '../support/mail-seed.js'
import {SERVER_FACTS, serverKinds, startServer, type ServerKind, type TestServer} from '../support/servers.js'
import {startProxy, type TcpProxy} from '../support/tcp-proxy.js'
import {makeTempDir, removeTempDir} from '../support/temp-dir.js'
import {accountFile, appends, backup, backupItems, destinationItems, expectSameMail, folderOf, makeConfig, restore, totals} from '../transfer/helpers.js'

describe.each(serverKinds())('restore of a backup of %s to a server without UIDPLUS', (kind: ServerKind) => {
  let source: TestServer
  let dest: DovecotInstance
  let proxy: TcpProxy
  let dir: string
  let root: string
  let work: string
  let corpus: ReturnType<typeof loadCorpus>
  /** What the destination stores of a backed-up message. */
  const dovecot = SERVER_FACTS.dovecot

  beforeAll(async () => {
    ;[source, dest] = await Promise.all([startServer(kind), startDovecot({separator: '.', prefix: 'INBOX.', capabilities: capabilitiesWithout('UIDPLUS')})])
    proxy = await startProxy({targetPort: dest.port})
    dir = await makeTempDir('mailkeep-no-uidplus-')
    root = join(dir, 'alice')
    work = folderName(source, 'Work')
    corpus = loadCorpus().filter((m) => source.facts.stored(m.raw) !== undefined)
    const alice = source.users[0]!
    // Identical messages twice (same bytes, same date): pairing must still be one to one.
    const twin = seedMessage(7)
    await appendMessages(source, alice, 'INBOX', [...corpus.map((m, i) => ({raw: m.raw, flags: i % 2 === 0 ? ['\\Seen'] : ['$Label1'], internalDate: new Date(Date.UTC(2022, 0, 1 + i))})), twin, twin])
    await seedFolder(source, alice, work, 120)
    expect((await backup(await makeConfig(dir, [accountFile(source, alice, root)]))).exitCode).toBe(0)
  })

  afterAll(async () => {
    await proxy?.close()
    await source?.stop()
    await dest?.stop()
    if (dir !== undefined) await removeTempDir(dir)
  })

  function config(destUser: number): ReturnType<typeof makeConfig> {
    return makeConfig(dir, [accountFile(source, source.users[0]!, root), accountFile(serverAt(dest, proxy.port), dest.users[destUser]!, join(dir, `unused${destUser}`))])
  }

  it('finds every uploaded message again without APPENDUID; a second run appends nothing', async () => {
    const bob = dest.users[1]!
    const cfg = await config(1)
    proxy.resetStats()
    const report = await restore(cfg, {account: source.users[0]!.user, to: bob.user, tuning: {batchMessages: 16}})
    expect(report.exitCode).toBe(0)
    const total = corpus.length + 2 + 120
    expect(totals(report)).toEqual({uploaded: total, alreadyPresent: 0, adopted: 0, skipped: 0})
    // After each batch of APPENDs, a UID SEARCH for the batch's range (and FETCH of sizes).
    const names = proxy.commandNames()
    expect(appends(proxy)).toBe(total)
    const searchesAfterAppend = names.filter((n, i) => n === 'UID SEARCH' && names[i - 1] === 'APPEND').length
    expect(searchesAfterAppend).toBeGreaterThanOrEqual(Math.ceil(total / 16))
    expectSameMail(await destinationItems(dest, bob, 'INBOX'), await backupItems(root, 'INBOX', dovecot))
    expectSameMail(await destinationItems(dest, bob, 'INBOX.Work'), await backupItems(root, work, dovecot))

    proxy.resetStats()
    const again = await restore(cfg, {account: source.users[0]!.user, to: bob.user})
    expect(totals(again)).toEqual({uploaded: 0, alreadyPresent: total, adopted: 0, skipped: 0})
    expect(appends(proxy)).toBe(0)
  })

  it('a lost map is rebuilt by comparing bytes: nothing is appended twice', async () => {
    const carol = dest.users[2]!
    const cfg = await config(2)
    await restore(cfg, {account: source.users[0]!.user, to: carol.user})
    await rm(join(root, 'INBOX.restore'))
    await rm(join(root, `${encodeFolderPath(work)}.restore`))
    proxy.resetStats()
    const again = await restore(cfg, {account: source.users[0]!.user, to: carol.user})
    expect(again.exitCode).toBe(0)
    expect(totals(again)).toMatchObject({uploaded: 0, adopted: corpus.length + 2 + 120})
    expect(appends(proxy)).toBe(0)
    expectSameMail(await destinationItems(dest, carol, 'INBOX'), await backupItems(root, 'INBOX', dovecot))
    // No clash: a folder whose every message is a copy of a backed-up one is not "other mail".
    expect(folderOf(again, 'INBOX')).toMatchObject({destination: 'INBOX', created: false})
    expect(folderOf(again, 'INBOX').clash).toBeUndefined()
  })
})
