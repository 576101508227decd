// Network faults between mailkeep and a real Dovecot, injected by the TCP proxy: a drop in the
// middle of a FETCH literal, a stall, a restart, a refused connection, a black hole, a wrong
// password, an interruption.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ConnectionError, InterruptedError, type MailkeepError, TransientImapError} from '../../src/shared/errors.js'
import {ExitCode} from '../../src/shared/exit-codes.js'
import {ImapConnectionError} from '../../src/imap/index.js'
import {withRetries} from '../../src/engine/access/retry.js'
import {bigMessage} from '../fixtures/corpus.js'
import {startDovecot, type DovecotInstance, type TestUser} from '../support/dovecot.js'
import {appendMessages, createFolder, folderName} from '../support/mail-seed.js'
import {freePort} from '../support/ports.js'
import {startProxy, type TcpProxy} from '../support/tcp-proxy.js'
import {collect, connectAs, rejection} from './helpers.js'

const FOLDER_MESSAGES = 6
const MESSAGE_BYTES = 256 * 1024
const FOLDER_BYTES = FOLDER_MESSAGES * MESSAGE_BYTES

describe('network faults', () => {
  let dc: DovecotInstance
  let proxy: TcpProxy
  let user: TestUser
  let folder: string

  beforeAll(async () => {
    dc = await startDovecot({separator: '/'})
    proxy = await startProxy({targetPort: dc.port})
    user = dc.users[0]!
    folder = folderName(dc, 'Faults')
    await createFolder(dc, user.user, folder)
    await appendMessages(
      dc,
      user.user,
      folder,
      Array.from({length: FOLDER_MESSAGES}, (_, i) => ({raw: bigMessage(MESSAGE_BYTES, {seed: `fault-${i}`})})),
    )
  })
  afterAll(async () => {
    await proxy?.close()
    await dc?.stop()
  })

  it('a connection dropped in the middle of a FETCH literal is a TransientImapError and closes the session', async () => {
    const session = await connectAs(proxy, user)
    await session.examine(folder)
    proxy.dropInLiteral({minSize: 100 * 1024})
    const received: number[] = []
    const error = await rejection(
      (async () => {
        for await (const message of session.fetchMessages('1:*')) received.push(message.uid)
      })(),
    )
    expect(error).toBeInstanceOf(TransientImapError)
    expect((error as Error).cause).toBeDefined()
    expect(received).toEqual([])
    expect(session.closed).toBe(true)
    // Every later call says the same, at once.
    expect(await rejection(session.noop())).toBeInstanceOf(TransientImapError)
    await session.logout()
  })

  it('a stall longer than idleTimeoutMs is a TransientImapError from that timeout, not before it', async () => {
    const idle = 700
    const session = await connectAs(proxy, user, {endpoint: {idleTimeoutMs: idle}})
    await session.examine(folder)
    // Idle time between commands is not a failure.
    await new Promise((resolve) => setTimeout(resolve, idle * 1.5))
    await session.noop()
    proxy.stall(Infinity)
    try {
      const started = Date.now()
      const error = await rejection(collect(session.fetchMessages('1:*')))
      const took = Date.now() - started
      expect(error).toBeInstanceOf(TransientImapError)
      // The inactivity timeout ended it (a stall is endless: nothing else would) ...
      expect((error as Error).message).toMatch(/no data .* for 700 ms/)
      // ... and not early. A timer never fires early, so this lower bound holds on a loaded
      // machine; there is no upper bound (speed is measured in bench/, never in timed tests).
      expect(took).toBeGreaterThanOrEqual(idle - 50)
      expect(session.closed).toBe(true)
    } finally {
      proxy.resume()
    }
  })

  it('a slow consumer is not a stall', async () => {
    // The inactivity timeout also covers the login: 300 ms was shorter than a Dovecot login on a
    // loaded 2-core machine (CI, 13:38 on 2026-12-07), so the timeout is 1 s and the consumer
    // waits longer than that between messages.
    const session = await connectAs(proxy, user, {endpoint: {idleTimeoutMs: 1_000}})
    try {
      await session.examine(folder)
      let count = 0
      for await (const _message of session.fetchMessages('1:*')) {
        count++
        await new Promise((resolve) => setTimeout(resolve, 1_300))
      }
      expect(count).toBe(6)
    } finally {
      await session.logout()
    }
  })

  it('an interruption mid-fetch rejects with the signal reason at once and closes the socket', async () => {
    const controller = new AbortController()
    // 256 KiB/s: the six 256 KiB messages take about 6 s to arrive, so a FETCH that ran to its
    // end before rejecting would have moved the whole folder through the proxy.
    proxy.throttle(256 * 1024)
    try {
      const session = await connectAs(proxy, user, {signal: controller.signal})
      await session.examine(folder)
      const reason = new InterruptedError('SIGINT')
      let yielded = 0
      proxy.resetStats()
      const error = await rejection(
        (async () => {
          for await (const _message of session.fetchMessages('1:*')) {
            yielded++
            controller.abort(reason)
          }
        })(),
      )
      const bytesWhenRejected = proxy.stats.serverToClient.bytes
      expect(error).toBe(reason)
      // At once: no message after the abort, and the rest of the FETCH was not waited for.
      expect(yielded).toBe(1)
      expect(bytesWhenRejected).toBeLessThan(FOLDER_BYTES)
      expect(session.closed).toBe(true)
      await expect.poll(() => proxy.stats.active, {timeout: 2000}).toBe(0)
      expect(await rejection(session.noop())).toBe(reason)
    } finally {
      proxy.throttle(null)
    }
  })

  it('refuses a wrong password with ConnectionError (exit 111) that never shows the password', async () => {
    const wrong = {user: user.user, password: 'Wr0ng-Pa55-zz9'}
    const error = await rejection(connectAs(proxy, wrong))
    expect(error).toBeInstanceOf(ConnectionError)
    expect(error).toMatchObject({failure: 'auth', retryable: false})
    expect((error as MailkeepError).exitCode).toBe(ExitCode.CONNECTION)
    expect((error as Error).message).toContain(user.user)
    expect((error as Error).message).toContain(`${proxy.host}:${proxy.port}`)
    for (const text of [(error as Error).message, (error as Error).stack ?? '', String((error as Error).cause)]) expect(text).not.toContain(wrong.password)
    expect(await collectRetry(() => connectAs(proxy, wrong))).toBe(1)
  })

  it('a refused connection is a retryable ConnectionError; a black hole times out', async () => {
    const port = await freePort()
    const refused = await rejection(connectAs({host: '127.0.0.1', port}, user))
    expect(refused).toBeInstanceOf(ImapConnectionError)
    expect(refused).toMatchObject({failure: 'refused', retryable: true})
    await proxy.refuseNew(true, 'silent')
    try {
      // The inactivity timeout is far away: only the 400 ms connect timeout can end this.
      const silent = await rejection(connectAs(proxy, user, {endpoint: {connectTimeoutMs: 400, idleTimeoutMs: 120_000}}))
      // What answered is said (issue 11 item 15); a server that says nothing may be back soon.
      expect(silent).toBeInstanceOf(ImapConnectionError)
      expect(silent).toMatchObject({failure: 'silent', retryable: true})
      expect((silent as Error).message).toMatch(/accepted, but nothing came \(no IMAP greeting within 0\.4 s/i)
      expect((silent as Error).message).not.toMatch(/no (data|progress) from .* for \d+ ms/)
    } finally {
      await proxy.refuseNew(false)
    }
  })

  it('a server restart is a TransientImapError; a new connection (with retry) works', async () => {
    const own = await startDovecot({separator: '.'})
    try {
      const u = own.users[1]!
      const session = await connectAs(own, u)
      await session.examine('INBOX')
      await own.restart()
      const error = await rejection(session.noop())
      expect(error).toBeInstanceOf(TransientImapError)
      expect(session.closed).toBe(true)
      const again = await withRetries(() => connectAs(own, u), {policy: {attempts: 4, baseDelayMs: 50, maxDelayMs: 500}, signal: new AbortController().signal})
      expect((await again.examine('INBOX')).uidValidity).toBeGreaterThan(0)
      await again.logout()
    } finally {
      await own.stop()
    }
  })
})

/** How many attempts withRetries makes for `fn` (which always fails), allowed two retries. */
async function collectRetry(fn: () => Promise<unknown>): Promise<number> {
  let attempts = 0
  await rejection(
    withRetries(
      async () => {
        attempts++
        return fn()
      },
      {policy: {attempts: 2, baseDelayMs: 1, maxDelayMs: 2}, signal: new AbortController().signal},
    ),
  )
  return attempts
}
