// The inactivity timeout counts progress, not bytes (issue 11 item 14). Before, any byte reset
// it: a server that trickled one byte a second, or sent untagged lines without end, kept a FETCH
// (and the run, and the account's lock) going forever. Now only what moves the command on counts:
// its completion, a message asked for arriving, or the literal of one moving on by 64 KiB.
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {TransientImapError} from '../../src/shared/errors.js'
import {bigMessage} from '../fixtures/corpus.js'
import {startDovecot, type DovecotInstance, type TestUser} from '../support/dovecot.js'
import {appendMessages, createFolder, folderName} from '../support/mail-seed.js'
import {startProxy, type TcpProxy} from '../support/tcp-proxy.js'
import {startFakeServer, type FakeCommand, type FakeConnection, type FakeServer} from './fake-server.js'
import {collect, connectAs, rejection} from './helpers.js'

const PASSWORD = 'progress-Pw-27c1'
const user = {user: 'me@example.test', password: PASSWORD}
const IDLE_MS = 1000
const message = Buffer.from('Subject: one\r\n\r\nbody\r\n')

describe('a server that sends bytes but makes no progress', () => {
  let server: FakeServer | undefined
  const timers = new Set<NodeJS.Timeout>()

  afterEach(async () => {
    for (const t of timers) clearInterval(t)
    timers.clear()
    await server?.close()
    server = undefined
  })

  /** A fake server that answers EXAMINE, and UID FETCH with `fetch`. */
  async function serve(fetch: (command: FakeCommand, c: FakeConnection) => void): Promise<FakeServer> {
    server = await startFakeServer({
      password: PASSWORD,
      onCommand: (command, c) => {
        if (command.name === 'EXAMINE') {
          c.send('* 1 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT 2] ok\r\n')
          c.ok(command, '[READ-ONLY] done')
          return true
        }
        if (command.name !== 'UID FETCH') return false
        fetch(command, c)
        return true
      },
    })
    return server
  }

  /** Sends `chunk` every `ms` until the connection closes. */
  function every(ms: number, c: FakeConnection, chunk: () => string | Buffer): void {
    const timer = setInterval(() => {
      if (c.socket.destroyed) clearInterval(timer)
      else c.send(chunk())
    }, ms)
    timers.add(timer)
  }

  async function noProgress(fetch: (command: FakeCommand, c: FakeConnection) => void): Promise<Error> {
    const fake = await serve(fetch)
    const session = await connectAs(fake, user, {endpoint: {idleTimeoutMs: IDLE_MS}})
    await session.examine('INBOX')
    const started = Date.now()
    const error = await rejection(collect(session.fetchMessages('1:*')))
    expect(error).toBeInstanceOf(TransientImapError)
    // Not before the timeout (a timer never fires early); it would never end otherwise.
    expect(Date.now() - started).toBeGreaterThanOrEqual(IDLE_MS - 50)
    expect(session.closed).toBe(true)
    return error as Error
  }

  it('a literal trickled a byte at a time', async () => {
    const error = await noProgress((_command, c) => {
      c.send(`* 1 FETCH (UID 1 FLAGS () RFC822.SIZE 100000 BODY[] {100000}\r\n`)
      every(50, c, () => 'x')
    })
    expect(error.message).toMatch(/^no progress from .* for 1000 ms during UID FETCH.*: it sent \d+ bytes meanwhile but completed nothing asked for/)
  })

  it('untagged status lines without end', async () => {
    const error = await noProgress((_command, c) => every(20, c, () => '* OK still working on it\r\n'))
    expect(error.message).toMatch(/no progress from .* for 1000 ms/)
  })

  it('FETCH responses without end for a UID nobody asked for, or the same one again and again', async () => {
    for (const uid of [99, 1]) {
      const error = await noProgress((_command, c) => every(20, c, () => `* 1 FETCH (UID ${uid} FLAGS (\\Seen))\r\n`))
      expect(error.message).toMatch(/no progress from .* for 1000 ms/)
      await server?.close()
    }
  })

  it('a server that answers properly, however slowly, is not cut off while each step takes less than the timeout', async () => {
    const fake = await serve((command, c) => {
      // Five responses, 400 ms apart: 2 s in all, twice the timeout, each within it.
      let sent = 0
      const timer = setInterval(() => {
        sent++
        c.send(`* ${sent} FETCH (UID ${sent} FLAGS () RFC822.SIZE ${message.length} BODY[] {${message.length}}\r\n${message.toString('latin1')})\r\n`)
        if (sent === 5) {
          clearInterval(timer)
          c.ok(command)
        }
      }, 400)
      timers.add(timer)
    })
    const session = await connectAs(fake, user, {endpoint: {idleTimeoutMs: IDLE_MS}})
    await session.examine('INBOX')
    const got = await collect(session.fetchMessages('1:5'))
    expect(got.map((m) => m.uid)).toEqual([1, 2, 3, 4, 5])
    await session.logout()
  })
})

describe('a slow but working link (real Dovecot through a throttled proxy)', () => {
  let dc: DovecotInstance
  let proxy: TcpProxy
  let member: TestUser
  let folder: string

  beforeAll(async () => {
    dc = await startDovecot({separator: '/'})
    proxy = await startProxy({targetPort: dc.port})
    member = dc.users[0]!
    folder = folderName(dc, 'Slow')
    await createFolder(dc, member.user, folder)
    await appendMessages(dc, member.user, folder, [0, 1].map((i) => ({raw: bigMessage(300 * 1024, {seed: `slow-${i}`})})))
  })
  afterAll(async () => {
    await proxy?.close()
    await dc?.stop()
  })

  it('a message that takes longer than the timeout to arrive is not cut off: its literal moves on', async () => {
    const session = await connectAs(proxy, member, {endpoint: {idleTimeoutMs: IDLE_MS}})
    try {
      await session.examine(folder)
      // ~150 KB/s: each 300 KiB message takes about 2 s, twice the timeout; 64 KiB every ~0.4 s.
      proxy.throttle(150 * 1024)
      const got = await collect(session.fetchMessages('1:*'))
      expect(got).toHaveLength(2)
    } finally {
      proxy.throttle(null)
      await session.logout()
    }
  })
})
