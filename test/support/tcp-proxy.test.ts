// The fault-injecting proxy in front of a real Dovecot: counting, command recording, and each
// fault (drop in a literal, drop after N bytes, stall, throttle, refuse).
import {connect, type Socket} from 'node:net'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {bigMessage} from '../fixtures/corpus.js'
import {startDovecot, type DovecotInstance} from './dovecot.js'
import {appendMessages, createFolder, deleteFolder, fetchMessages, listFolders, listUids, openSession, seedFolder, serverAt, type ImapServer} from './mail-seed.js'
import {freePort} from './ports.js'
import {RawImapClient, astring} from './raw-imap.js'
import {startProxy, type TcpProxy} from './tcp-proxy.js'

const BIG = 300_000

let dc: DovecotInstance
let proxy: TcpProxy
let via: ImapServer
let user: string
let password: string

beforeAll(async () => {
  dc = await startDovecot()
  user = dc.users[0]!.user
  password = dc.users[0]!.password
  await appendMessages(dc, user, 'INBOX', [{raw: bigMessage(BIG, {seed: 'proxy'})}])
  await seedFolder(dc, user, 'Small', 20)
})
afterAll(async () => {
  await dc?.stop()
})
afterEach(async () => {
  await proxy?.close()
})

async function newProxy(): Promise<void> {
  proxy = await startProxy({targetPort: dc.port})
  via = serverAt(dc, proxy.port)
}

/** A plain socket that logs in, fetches the big message and collects every byte until the end. */
async function fetchBigRaw(port: number): Promise<{data: Buffer; error: string | undefined}> {
  const socket: Socket = connect({host: '127.0.0.1', port})
  const chunks: Buffer[] = []
  let sent = false
  return new Promise((resolve) => {
    let error: string | undefined
    socket.on('data', (chunk) => {
      chunks.push(chunk)
      const text = Buffer.concat(chunks).toString('latin1')
      if (!sent && /ready\.\r\n/.test(text)) {
        sent = true
        socket.write(`a LOGIN ${astring(user) as string} ${astring(password) as string}\r\nb EXAMINE INBOX\r\nc UID FETCH 1 BODY.PEEK[]\r\nd LOGOUT\r\n`)
      }
    })
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message))
    socket.on('close', () => resolve({data: Buffer.concat(chunks), error}))
  })
}

/** Bytes of the BODY[] literal that arrived, or -1 if its header never did. */
function literalBytesReceived(data: Buffer): number {
  const header = `{${BIG}}\r\n`
  const at = data.indexOf(header)
  return at < 0 ? -1 : data.length - at - header.length
}

describe('tcp proxy', () => {
  it('forwards IMAP, counts bytes and lines, and records command lines but not literals', async () => {
    await newProxy()
    // A literal whose contents look like commands: they must not be recorded as commands.
    const tricky = Buffer.from('Subject: tricky\r\n\r\nX1 UID FETCH 1:* (BODY[])\r\nX2 LOGOUT\r\n')
    await appendMessages(via, user, 'Small', [{raw: tricky}])
    const uids = await listUids(via, user, 'Small')
    const messages = await fetchMessages(via, user, 'Small', uids.slice(-1))
    expect(messages[0]!.raw.equals(tricky)).toBe(true)

    const names = proxy.commandNames()
    expect(names).toEqual(['LOGIN', 'APPEND', 'LOGOUT', 'LOGIN', 'EXAMINE', 'UID SEARCH', 'LOGOUT', 'LOGIN', 'EXAMINE', 'UID FETCH', 'LOGOUT'])
    expect(proxy.commands.find((c) => c.name === 'APPEND')!.line).toMatch(/^T\d+ APPEND "Small" \{\d+\+\}$/)
    expect(proxy.commands.map((c) => c.connection)).toEqual([1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3])
    // Credentials are not recorded (tests print recorded lines in failure messages).
    expect(proxy.commands.find((c) => c.name === 'LOGIN')!.line).toMatch(/^T\d+ LOGIN \(credentials hidden\)$/)
    expect(proxy.commands.some((c) => c.line.includes(password))).toBe(false)
    expect(proxy.stats).toMatchObject({connections: 3, drops: 0})
    expect(proxy.stats.serverToClient.bytes).toBeGreaterThan(tricky.length)
    expect(proxy.stats.clientToServer.bytes).toBeGreaterThan(tricky.length)
    // Client lines: the 11 commands; the APPEND's literal is skipped, its end is one more line.
    expect(proxy.stats.clientToServer.lines).toBe(12)

    proxy.resetStats()
    await listUids(via, user, 'Small')
    expect(proxy.commandNames()).not.toContain('UID FETCH')
    expect(proxy.stats.connections).toBe(1)
  })

  it('records AUTHENTICATE without its initial response, and a SASL continuation not at all', async () => {
    await newProxy()
    const plain = Buffer.from(`\0${user}\0${password}`).toString('base64')
    const client = await RawImapClient.connect({host: via.host, port: via.port})
    try {
      expect((await client.command(`AUTHENTICATE PLAIN ${plain}`)).tagged.kind).toBe('OK')
    } finally {
      await client.logout()
    }
    const auth = proxy.commands.find((c) => c.name === 'AUTHENTICATE')!
    expect(auth.line).toMatch(/^\S+ AUTHENTICATE PLAIN \(initial response hidden\)$/)
    expect(proxy.commands.some((c) => c.line.includes(plain) || c.line.includes(password))).toBe(false)
  })

  it('drops every connection in the middle of a FETCH literal', async () => {
    await newProxy()
    proxy.dropInLiteral({minSize: 100_000, offset: 123_456})
    const drop = proxy.waitForDrop(10_000)
    const {data, error} = await fetchBigRaw(proxy.port)
    await drop
    expect(error).toBe('ECONNRESET')
    // The client got the literal's first 123,456 bytes and not one more.
    expect(literalBytesReceived(data)).toBe(123_456)
    expect(proxy.stats.drops).toBe(1)
    // Disarmed after one drop (once is the default): the next fetch is complete.
    const again = await fetchBigRaw(proxy.port)
    expect(again.error).toBeUndefined()
    expect(literalBytesReceived(again.data)).toBeGreaterThan(BIG)
  })

  it('drops after exactly N server bytes, once or every time', async () => {
    await newProxy()
    proxy.dropAfter(50_000)
    const first = await fetchBigRaw(proxy.port)
    expect(first.data.length).toBe(50_000)
    expect(first.error).toBe('ECONNRESET')
    expect(literalBytesReceived(first.data)).toBeGreaterThan(0) // N fell inside the literal

    proxy.dropAfter(10_000, {once: false, how: 'end'})
    const a = await fetchBigRaw(proxy.port)
    const b = await fetchBigRaw(proxy.port)
    expect([a.data.length, b.data.length]).toEqual([10_000, 10_000])
    expect([a.error, b.error]).toEqual([undefined, undefined]) // FIN, not RST
    proxy.disarm()
    expect(literalBytesReceived((await fetchBigRaw(proxy.port)).data)).toBeGreaterThan(BIG)
    expect(proxy.stats.drops).toBe(3)
  })

  it('drops open sessions now, and lets a listener stop a command before the server sees it', async () => {
    await newProxy()
    const session = await openSession(via, user)
    proxy.dropNow()
    await expect(session.command('NOOP')).rejects.toThrow()
    session.close()

    await createFolder(via, user, 'Doomed')
    const off = proxy.onCommand((command) => {
      if (command.name === 'DELETE') proxy.dropNow()
    })
    await expect(deleteFolder(via, user, 'Doomed')).rejects.toThrow()
    off()
    expect((await listFolders(dc, user)).map((f) => f.name)).toContain('Doomed')
    expect((await proxy.waitForCommand(/ DELETE /)).name).toBe('DELETE')
  })

  it('stalls and throttles', async () => {
    await newProxy()
    const session = await openSession(via, user)
    proxy.stall(400)
    let started = Date.now()
    await session.command('NOOP')
    expect(Date.now() - started).toBeGreaterThanOrEqual(350)
    await session.logout()

    proxy.throttle(400_000)
    started = Date.now()
    const [message] = await fetchMessages(via, user, 'INBOX', [1])
    const elapsed = Date.now() - started
    expect(message!.raw.length).toBe(BIG)
    expect(elapsed).toBeGreaterThanOrEqual(600) // 300 kB at 400 kB/s ≈ 750 ms
    expect(elapsed).toBeLessThan(3000)
    proxy.throttle(null)
    started = Date.now()
    await fetchMessages(via, user, 'INBOX', [1])
    expect(Date.now() - started).toBeLessThan(500)
  })

  it('refuses, resets or ignores new connections, and serves again', async () => {
    await newProxy()
    const open = await openSession(via, user) // existing sessions are not affected
    await proxy.refuseNew(true)
    await expect(RawImapClient.connect({host: proxy.host, port: proxy.port})).rejects.toThrow(/ECONNREFUSED/)
    await open.command('NOOP')

    await proxy.refuseNew(true, 'reset')
    await expect(RawImapClient.connect({host: proxy.host, port: proxy.port})).rejects.toThrow(/ECONNRESET|closed/)

    await proxy.refuseNew(true, 'silent')
    await expect(RawImapClient.connect({host: proxy.host, port: proxy.port, timeoutMs: 300})).rejects.toThrow(/no answer within 300 ms/)

    await proxy.refuseNew(false)
    expect(await listUids(via, user, 'INBOX')).toEqual([1])
    await open.logout()
  })

  it('resets the client when the server is not there', async () => {
    proxy = await startProxy({targetPort: await freePort()})
    await expect(RawImapClient.connect({host: proxy.host, port: proxy.port})).rejects.toThrow(/ECONNRESET|closed/)
  })

  it('stops listening on close()', async () => {
    await newProxy()
    const port = proxy.port
    await proxy.close()
    await expect(RawImapClient.connect({host: '127.0.0.1', port})).rejects.toThrow(/ECONNREFUSED/)
  })
})
