// Protocol faults and login variants that Dovecot will not produce, against the fake server:
// garbage, BYE mid-FETCH, a literal cut short, OAuth mechanisms and token refresh, ID, LOGIN.
import {afterEach, describe, expect, it} from 'vitest'
import {ConnectionError, RemoteError, TransientImapError} from '../../src/shared/errors.js'
import {memoryLogger} from '../../src/shared/logger.js'
import {clearSecrets} from '../../src/shared/secrets.js'
import {connect, type ImapSession} from '../../src/imap/index.js'
import {startFakeServer, type FakeServer, type FakeServerOptions} from './fake-server.js'
import {collect, connectAs, endpointFor, rejection, traceLines} from './helpers.js'

const PASSWORD = 'fake "pw" \\ 7d1c'
const user = {user: 'me@example.test', password: PASSWORD}
let server: FakeServer | undefined

afterEach(async () => {
  await server?.close()
  server = undefined
  clearSecrets()
})

async function serve(options: FakeServerOptions): Promise<FakeServer> {
  server = await startFakeServer({password: PASSWORD, ...options})
  return server
}

const message = 'Subject: one\r\n\r\nbody\r\n'

/**
 * Long enough that a test never reaches it unless the behaviour under test is broken: an error
 * that should come from what the server sent must not come from the inactivity timeout. The
 * error's class and message say which one fired, so no wall-clock bound is needed (speed is
 * measured in bench/, never in timed tests).
 */
const NEVER_MS = 120_000

/** The inactivity timeout's message (src/imap/guard.ts). */
const IDLE_TIMEOUT = /no (data|progress) from .* for \d+ ms/

describe('protocol faults', () => {
  it('an unparseable answer to a command is a RemoteError, not a wait for the idle timeout', async () => {
    const fake = await serve({
      onCommand: (command, c) => {
        if (command.name !== 'NOOP') return false
        c.send(`${command.tag} ((( garbage \x01\x02 ]]]\r\n`)
        return true
      },
    })
    const session = await connectAs(fake, user, {endpoint: {idleTimeoutMs: NEVER_MS}})
    const error = await rejection(session.noop())
    // The timeout would be a TransientImapError, after two minutes.
    expect(error).toBeInstanceOf(RemoteError)
    expect((error as Error).message).not.toMatch(IDLE_TIMEOUT)
    session.close()
  })

  it('garbage after the greeting and then silence is a TransientImapError after the idle timeout', async () => {
    const fake = await serve({
      onCommand: (command, c) => {
        if (command.name !== 'AUTHENTICATE') return false
        c.send('\x00\x7f this is not IMAP ((((\r\nneither is this\r\n')
        return true
      },
    })
    const error = await rejection(connectAs(fake, user, {endpoint: {idleTimeoutMs: 500}}))
    expect(error).toBeInstanceOf(TransientImapError)
    // It is the inactivity timeout that ended the wait (with 500 ms, not the default 120 s); the
    // garbage is bytes, but no progress.
    expect((error as Error).message).toMatch(/no progress from .* for 500 ms.*: it sent \d+ bytes meanwhile/)
  })

  it('a server that is not IMAP at all (no greeting) fails after the connect timeout, saying what it sent', async () => {
    const fake = await serve({greeting: 'SSH-2.0-OpenSSH_9.6\r\n'})
    const error = await rejection(connectAs(fake, user, {endpoint: {connectTimeoutMs: 400, idleTimeoutMs: 400}}))
    // Issue 11 item 15: not a broken link to retry (TransientImapError), but the wrong server.
    expect(error).toBeInstanceOf(ConnectionError)
    expect(error).toMatchObject({failure: 'not-imap', retryable: false})
    expect((error as Error).message).toContain("(an SSH server): it sent 'SSH-2.0-OpenSSH_9.6'")
  })

  it.each([true, false])('a BYE in the middle of a FETCH is a TransientImapError (server closes: %s)', async (closes) => {
    const fake = await serve({
      onCommand: (command, c) => {
        if (command.name !== 'UID FETCH') return false
        c.send(`* 1 FETCH (UID 1 FLAGS () INTERNALDATE "01-Jan-2024 00:00:00 +0000" RFC822.SIZE ${message.length} BODY[] {${message.length}}\r\n${message})\r\n`)
        c.send('* BYE Server shutting down\r\n')
        if (closes) c.end()
        return true
      },
    })
    const session = await connectAs(fake, user, {endpoint: {idleTimeoutMs: NEVER_MS}})
    await session.examine('INBOX')
    const got: number[] = []
    const error = await rejection(
      (async () => {
        for await (const m of session.fetchMessages('1:*')) got.push(m.uid)
      })(),
    )
    expect(got).toEqual([1])
    expect(error).toBeInstanceOf(TransientImapError)
    // The BYE ended the FETCH, not the inactivity timeout (which would take two minutes).
    expect((error as Error).message).toContain('Server shutting down')
    expect((error as Error).message).not.toMatch(IDLE_TIMEOUT)
    expect(session.closed).toBe(true)
  })

  it('a literal announced larger than what follows, then EOF, is a TransientImapError', async () => {
    const fake = await serve({
      onCommand: (command, c) => {
        if (command.name !== 'UID FETCH') return false
        c.send(`* 1 FETCH (UID 1 BODY[] {100000}\r\nonly a little`)
        setTimeout(() => c.end(), 50)
        return true
      },
    })
    const session = await connectAs(fake, user, {endpoint: {idleTimeoutMs: NEVER_MS}})
    await session.examine('INBOX')
    const error = await rejection(collect(session.fetchMessages('1')))
    expect(error).toBeInstanceOf(TransientImapError)
    // The EOF ended the FETCH, not the inactivity timeout (which would take two minutes).
    expect((error as Error).message).toMatch(/lost during UID FETCH/)
    expect((error as Error).message).not.toMatch(IDLE_TIMEOUT)
  })

  it('a NO to FETCH is a RemoteError and the session stays usable', async () => {
    const fake = await serve({
      onCommand: (command, c) => {
        if (command.name !== 'UID FETCH') return false
        c.send(`${command.tag} NO [SERVERBUG] Internal error occurred\r\n`)
        return true
      },
    })
    const session = await connectAs(fake, user)
    await session.examine('INBOX')
    const error = await rejection(collect(session.fetchMessages('1:*')))
    expect(error).toBeInstanceOf(RemoteError)
    expect((error as Error).message).toContain('[SERVERBUG] Internal error occurred')
    expect(session.closed).toBe(false)
    await session.noop()
    await session.logout()
  })
})

describe('login variants', () => {
  it('uses LOGIN without AUTH=PLAIN, and never logs the password', async () => {
    const fake = await serve({capabilities: 'IMAP4rev1 LITERAL+'})
    const logger = memoryLogger()
    const session = await connectAs(fake, user, {logger, traceProtocol: true})
    await session.logout()
    expect(fake.commands.map((c) => c.name)).toContain('LOGIN')
    const trace = traceLines(logger)
    expect(trace.some((l) => /^C: \S+ LOGIN \[REDACTED\]$/.test(l))).toBe(true)
    const all = JSON.stringify(logger.records)
    expect(all).not.toContain('7d1c')
  })

  it('sends ID with our identity after login only when asked (RFC 2971), and tolerates a server without ID', async () => {
    const fake = await serve({})
    const quiet = await connectAs(fake, user)
    await quiet.logout()
    expect(fake.commands.map((c) => c.name)).not.toContain('ID')
    const named = await connectAs(fake, user, {clientId: {name: 'mailkeep', version: '1.2.3'}})
    await named.logout()
    const names = fake.commands.map((c) => c.name)
    const id = fake.commands.find((c) => c.name === 'ID')!
    expect(id.args).toBe('("name" "mailkeep" "version" "1.2.3")')
    expect(names.lastIndexOf('AUTHENTICATE')).toBeLessThan(names.indexOf('ID'))
    await server!.close()
    const noId = await serve({capabilities: 'IMAP4rev1 AUTH=PLAIN'})
    const session = await connectAs(noId, user, {clientId: {name: 'mailkeep', version: '1.2.3'}})
    await session.noop()
    await session.logout()
    expect(noId.commands.map((c) => c.name)).not.toContain('ID')
  })

  describe.each(['XOAUTH2', 'OAUTHBEARER'] as const)('OAuth 2.0 with %s', (mechanism) => {
    async function oauthConnect(fake: FakeServer, tokens: string[], logger = memoryLogger()): Promise<{session: ImapSession | undefined; error: unknown; calls: boolean[]; logger: typeof logger}> {
      const calls: boolean[] = []
      try {
        const session = await connect({
          endpoint: endpointFor(fake),
          credentials: {
            kind: 'oauth2',
            user: user.user,
            mechanism,
            getToken: async (refresh) => {
              calls.push(refresh)
              return tokens[calls.length - 1] ?? 'no-more-tokens'
            },
          },
          logger,
          signal: new AbortController().signal,
          traceProtocol: true,
        })
        return {session, error: undefined, calls, logger}
      } catch (error) {
        return {session: undefined, error, calls, logger}
      }
    }

    it('uses the asked mechanism even when both are offered, and refreshes a rejected token once', async () => {
      const fake = await serve({capabilities: 'IMAP4rev1 SASL-IR AUTH=XOAUTH2 AUTH=OAUTHBEARER', tokens: ['fresh-token-9f8e7d']})
      const {session, calls, logger, error} = await oauthConnect(fake, ['stale-token-1a2b3c', 'fresh-token-9f8e7d'])
      expect(error).toBeUndefined()
      expect(calls).toEqual([false, true])
      expect(fake.oauth.map((o) => [o.mechanism, o.token, o.user])).toEqual([
        [mechanism, 'stale-token-1a2b3c', user.user],
        [mechanism, 'fresh-token-9f8e7d', user.user],
      ])
      await session!.logout()
      const all = JSON.stringify(logger.records)
      expect(all).not.toContain('stale-token-1a2b3c')
      expect(all).not.toContain('fresh-token-9f8e7d')
      expect(traceLines(logger).some((l) => l.includes(`AUTHENTICATE ${mechanism} [REDACTED]`))).toBe(true)
    })

    it('a token rejected twice is a ConnectionError without the token in it', async () => {
      const fake = await serve({capabilities: `IMAP4rev1 AUTH=${mechanism}`, tokens: []})
      const {error, calls, logger} = await oauthConnect(fake, ['bad-token-aaa111', 'bad-token-bbb222'])
      expect(calls).toEqual([false, true])
      expect(error).toBeInstanceOf(ConnectionError)
      expect(error).toMatchObject({failure: 'auth', retryable: false})
      const text = `${(error as Error).message} ${(error as Error).stack} ${JSON.stringify(logger.records)}`
      expect(text).not.toContain('bad-token-aaa111')
      expect(text).not.toContain('bad-token-bbb222')
      // Without SASL-IR the initial response waits for the continuation.
      expect(fake.commands.filter((c) => c.name === 'AUTHENTICATE').map((c) => c.args)).toEqual([mechanism, mechanism])
    })

    it('a server without the mechanism refuses the login without asking for a new token', async () => {
      const fake = await serve({capabilities: 'IMAP4rev1 AUTH=PLAIN'})
      const {error, calls} = await oauthConnect(fake, ['token-ccc333'])
      expect(error).toBeInstanceOf(ConnectionError)
      expect((error as Error).message).toContain(user.user)
      expect(calls).toEqual([false])
    })
  })
})
