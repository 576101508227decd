// Message fetching against Dovecot: byte-exact bodies for the whole corpus, flags and internal
// dates; BODY.PEEK[] (never \Seen); summaries; UID SEARCH; `n:*`; streaming as messages arrive
// and how much is buffered; downloadMessage of a 30 MB message in chunks.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {bigMessage, loadCorpus} from '../fixtures/corpus.js'
import {startDovecot, type DovecotInstance, type TestUser} from '../support/dovecot.js'
import {appendMessages, createFolder, fetchMessages as rawFetch, folderName} from '../support/mail-seed.js'
import {startProxy, type TcpProxy} from '../support/tcp-proxy.js'
import {collect, connectAs, wireStats} from './helpers.js'

describe('fetching messages', () => {
  let dc: DovecotInstance
  let proxy: TcpProxy
  let user: TestUser
  let corpusFolder: string
  let corpusUids: number[]
  const corpus = loadCorpus()

  beforeAll(async () => {
    dc = await startDovecot({separator: '/'})
    proxy = await startProxy({targetPort: dc.port})
    user = dc.users[0]!
    corpusFolder = folderName(dc, 'Corpus')
    await createFolder(dc, user.user, corpusFolder)
    corpusUids = await appendMessages(
      dc,
      user.user,
      corpusFolder,
      corpus.map((m, i) => ({
        raw: m.raw,
        // Half unseen, so that a \Seen set by the fetch would show.
        flags: i % 2 === 0 ? ['$Label1', '\\Flagged'] : ['\\Seen', '\\Answered'],
        internalDate: new Date(Date.UTC(2021, 2, 14, 12, 30, 45) + i * 3_600_000),
      })),
    )
  })
  afterAll(async () => {
    await proxy?.close()
    await dc?.stop()
  })

  it('returns every corpus message byte for byte as the server holds it, with flags and internal date', async () => {
    const session = await connectAs(dc, user)
    try {
      await session.examine(corpusFolder)
      const fetched = await collect(session.fetchMessages('1:*'))
      const raw = await rawFetch(dc, user.user, corpusFolder)
      expect(fetched.map((m) => m.uid)).toEqual(corpusUids)
      for (const [i, message] of fetched.entries()) {
        const expected = raw[i]!
        expect(message.source.equals(expected.raw), `${corpus[i]!.name}: body differs`).toBe(true)
        expect(message.size).toBe(expected.raw.length)
        expect([...message.flags].sort()).toEqual([...expected.flags].sort())
        expect(message.internalDate?.toISOString()).toBe(expected.internalDate.toISOString())
      }
      // 8-bit bodies and bare LF messages are in the corpus: make sure they came through.
      expect(fetched.some((m) => m.source.some((b) => b >= 0x80))).toBe(true)
    } finally {
      await session.logout()
    }
  })

  it('uses BODY.PEEK[] and never sets \\Seen, even in a folder opened read-write', async () => {
    proxy.resetStats()
    const session = await connectAs(proxy, user, {traceProtocol: true})
    try {
      await session.select(corpusFolder)
      const fetched = await collect(session.fetchMessages(corpusUids.join(',')))
      expect(fetched).toHaveLength(corpus.length)
    } finally {
      await session.logout()
    }
    const fetches = proxy.commands.filter((c) => c.name === 'UID FETCH').map((c) => c.line)
    expect(fetches).toHaveLength(1)
    expect(fetches[0]).toMatch(/ \(UID FLAGS INTERNALDATE RFC822\.SIZE BODY\.PEEK\[\]\)$/)
    expect(fetches.some((l) => /BODY\[\]/.test(l))).toBe(false)
    const after = await rawFetch(dc, user.user, corpusFolder)
    const unseen = after.filter((m, i) => i % 2 === 0)
    expect(unseen.every((m) => !m.flags.includes('\\Seen'))).toBe(true)
  })

  it('fetches summaries with MODSEQ, searches UIDs, and reads n:* as "n and above"', async () => {
    const session = await connectAs(dc, user)
    try {
      const opened = await session.examine(corpusFolder)
      const summaries = await collect(session.fetchSummaries('1:*'))
      const raw = await rawFetch(dc, user.user, corpusFolder)
      expect(summaries.map((s) => s.uid)).toEqual(corpusUids)
      for (const [i, s] of summaries.entries()) {
        expect(s.size).toBe(raw[i]!.raw.length)
        expect([...s.flags].sort()).toEqual([...raw[i]!.flags].sort())
        expect(s.internalDate?.toISOString()).toBe(raw[i]!.internalDate.toISOString())
        expect(s.modseq).toMatch(/^\d+$/)
      }
      expect(await session.searchUids()).toEqual(corpusUids)
      expect(await session.searchUids({unseen: true})).toEqual(corpusUids.filter((_, i) => i % 2 === 0))
      const big = raw.filter((m) => m.raw.length > 1000).map((m) => m.uid)
      expect(await session.searchUids({larger: 1000})).toEqual(big)
      // The server answers `n:*` above the highest UID with the highest message (RFC 3501
      // §6.4.8); the adapter drops it.
      const beyond = `${opened.uidNext}:*`
      expect(await collect(session.fetchSummaries(beyond))).toEqual([])
      expect(await collect(session.fetchMessages(beyond))).toEqual([])
      expect(await session.searchUids({uidRange: beyond})).toEqual([])
      expect((await session.fetchFlags(beyond)).changed).toEqual([])
      expect((await collect(session.fetchSummaries(`${corpusUids.at(-2)}:*`))).map((s) => s.uid)).toEqual(corpusUids.slice(-2))
    } finally {
      await session.logout()
    }
  })

  it('yields messages as they arrive and buffers about one message, whatever the batch', async () => {
    const folder = folderName(dc, 'Big')
    await createFolder(dc, user.user, folder)
    const size = 2 * 1024 * 1024
    const count = 12
    const messages = Array.from({length: count}, (_, i) => ({raw: bigMessage(size, {seed: `batch-${i}`})}))
    const uids = await appendMessages(dc, user.user, folder, messages, {maxBatchBytes: 8 * 1024 * 1024})
    const session = await connectAs(dc, user)
    try {
      await session.examine(folder)
      const start = wireStats(session).received
      let consumed = 0
      let maxAhead = 0
      let firstAt = -1
      const arrivals: number[] = []
      for await (const message of session.fetchMessages('1:*')) {
        const received = wireStats(session).received - start
        consumed += message.source.length
        if (firstAt < 0) firstAt = received
        maxAhead = Math.max(maxAhead, received - consumed)
        arrivals.push(message.uid)
        // A slow consumer: the server keeps sending, imapflow must not read it all.
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
      expect(arrivals).toEqual(uids)
      expect(consumed).toBe(size * count)
      // The first message came long before the whole response.
      expect(firstAt).toBeLessThan(2 * size)
      console.log(`fetch of ${count} × ${size} B: first message after ${firstAt} B; read-ahead at most ${maxAhead} B`)
      // Read ahead of what the consumer has taken: the next message's literal at most, plus
      // the socket's and parser's input buffers.
      expect(maxAhead).toBeLessThan(size + 512 * 1024)
    } finally {
      await session.logout()
    }
  })

  it('downloads a 30 MB message in chunks, identical to the raw fetch, and null for a missing UID', async () => {
    const folder = folderName(dc, 'Huge')
    await createFolder(dc, user.user, folder)
    const raw = bigMessage(30 * 1024 * 1024, {seed: 'huge'})
    const [uid] = await appendMessages(dc, user.user, folder, [{raw, flags: ['\\Seen'], internalDate: new Date('2024-04-29T08:00:00Z')}])
    const expected = (await rawFetch(dc, user.user, folder, [uid!]))[0]!.raw
    proxy.resetStats()
    const session = await connectAs(proxy, user)
    try {
      await session.examine(folder)
      const download = await session.downloadMessage(uid!)
      expect(download).not.toBeNull()
      expect(download!.summary).toMatchObject({uid, flags: ['\\Seen'], size: expected.length})
      expect(download!.summary.internalDate?.toISOString()).toBe('2024-04-29T08:00:00.000Z')
      const parts: Buffer[] = []
      for await (const chunk of download!.chunks) {
        expect(chunk.length).toBeLessThanOrEqual(1024 * 1024)
        parts.push(chunk)
      }
      expect(parts.length).toBe(Math.ceil(expected.length / (1024 * 1024)))
      expect(Buffer.concat(parts).equals(expected)).toBe(true)
      const lines = proxy.commands.filter((c) => c.name === 'UID FETCH').map((c) => c.line)
      expect(lines[0]).toMatch(/BODY\.PEEK\[\]<0\.1048576>\)$/)
      expect(lines[1]).toMatch(/BODY\.PEEK\[\]<1048576\.1048576>\)$/)
      expect(await session.downloadMessage(uid! + 100)).toBeNull()
    } finally {
      await session.logout()
    }
  })

  it('downloads with a small chunk size, including a message that is an exact multiple of it', async () => {
    const folder = folderName(dc, 'Chunks')
    await createFolder(dc, user.user, folder)
    const exact = bigMessage(64 * 1024, {seed: 'exact'})
    const odd = bigMessage(64 * 1024 + 17, {seed: 'odd'})
    const uids = await appendMessages(dc, user.user, folder, [{raw: exact}, {raw: odd}])
    const session = await connectAs(dc, user, {downloadChunkBytes: 16 * 1024})
    try {
      await session.examine(folder)
      for (const [i, uid] of uids.entries()) {
        const download = await session.downloadMessage(uid)
        const body = Buffer.concat(await collect(download!.chunks))
        expect(body.equals(i === 0 ? exact : odd)).toBe(true)
      }
    } finally {
      await session.logout()
    }
  })
})
