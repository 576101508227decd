// Messages above large_message_bytes are streamed to the mbox in chunks (downloadMessage into
// appendStream), never held whole; a link that breaks in the middle of one cuts the partial
// entry off and the message is downloaded again. On each server of serverKinds() (byte ranges,
// BODY.PEEK[]<offset.length>, are served by each). RSS is printed for information only.
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {bigMessage} from '../fixtures/corpus.js'
import {appendMessages, createFolder, folderName, seedMessage, serverAt} from '../support/mail-seed.js'
import {serverKinds, startServer, type ServerKind, type TestServer} from '../support/servers.js'
import {startProxy, type TcpProxy} from '../support/tcp-proxy.js'
import {testTempDir} from '../support/temp-dir.js'
import {accountFile, backup, commandCount, expectBackupEqualsServer, folderReport, makeConfig} from './helpers.js'

const MB = 1024 * 1024

describe.each(serverKinds())('large messages, %s', (kind: ServerKind) => {
  let dc: TestServer
  let proxy: TcpProxy
  let folder: string

  beforeAll(async () => {
    dc = await startServer(kind)
    proxy = await startProxy({targetPort: dc.port})
    folder = folderName(dc, 'Attachments')
    for (const user of dc.users.slice(0, 2)) {
      await createFolder(dc, user, folder)
      // Small ones, two above large_message_bytes (streamed), two medium ones (packed by size).
      await appendMessages(dc, user, folder, [
        seedMessage(1),
        {raw: bigMessage(20 * MB, {seed: 7}), flags: ['\\Seen']},
        seedMessage(2),
        {raw: bigMessage(9 * MB, {seed: 8})},
        {raw: bigMessage(MB, {seed: 9})},
        {raw: bigMessage(3 * MB, {seed: 10})},
        seedMessage(3),
      ])
    }
  })
  afterAll(async () => {
    await proxy?.close()
    await dc?.stop()
  })

  it('a 20 MB message is streamed and stored byte for byte, in UID order with the others', async () => {
    const user = dc.users[0]!
    const dir = await testTempDir()
    const root = join(dir, 'backup')
    const config = await makeConfig(dir, [accountFile(serverAt(dc, proxy.port), user, root, {folders: [folder]})])
    proxy.resetStats()
    const rssBefore = process.memoryUsage().rss
    let rssPeak = rssBefore
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 10)
    let report
    try {
      report = await backup(config)
    } finally {
      clearInterval(sampler)
    }
    console.log(`RSS before ${(rssBefore / MB).toFixed(0)} MiB, peak during the backup ${(rssPeak / MB).toFixed(0)} MiB (information only)`)
    expect(report.exitCode).toBe(0)
    expect(folderReport(report, folder)).toMatchObject({outcome: 'ok', new: 7})
    const local = await expectBackupEqualsServer(dc, user, root, folder)
    expect(local.messages.map((m) => m.bytes.length).sort((a, b) => b - a)[0]).toBe(20 * MB)
    // The two large ones came in byte ranges (BODY.PEEK[]<offset.length>), the rest in batches.
    expect(proxy.commands.filter((c) => c.name === 'UID FETCH' && /BODY\.PEEK\[\]<\d+\.\d+>/.test(c.line)).length).toBeGreaterThanOrEqual(29)
    // One SEARCH finds the big ones (LARGER 64 MiB / multi_fetch_size); their sizes, then streams.
    expect(commandCount(proxy, 'UID SEARCH', / LARGER 671088$/)).toBe(1)
    expect(proxy.commands.filter((c) => c.name === 'UID FETCH' && /RFC822\.SIZE( MODSEQ)?\)$/.test(c.line)).map((c) => c.line.split(' ')[3])).toEqual(['2,4:6'])
  })

  it('a link cut in the middle of the large message: the partial entry is cut off and the message fetched again', async () => {
    const user = dc.users[1]!
    const dir = await testTempDir()
    const root = join(dir, 'backup')
    const config = await makeConfig(dir, [accountFile(serverAt(dc, proxy.port), user, root, {folders: [folder]})])
    let ranges = 0
    const off = proxy.onCommand((c) => {
      // Half-way through the 20 MB message's chunks.
      if (c.name === 'UID FETCH' && /BODY\.PEEK\[\]<\d+\.\d+>/.test(c.line) && ++ranges === 10) proxy.dropAfter(300_000)
    })
    proxy.resetStats()
    try {
      const report = await backup(config)
      expect(report.exitCode).toBe(0)
      expect(proxy.stats.drops).toBe(1)
      expect(folderReport(report, folder)).toMatchObject({outcome: 'ok', new: 7, failedMessages: []})
    } finally {
      off()
      proxy.disarm()
    }
    await expectBackupEqualsServer(dc, user, root, folder)
  })
})
