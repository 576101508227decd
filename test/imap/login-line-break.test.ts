// A password with a line break against a server that offers only the LOGIN command (issue 11,
// "smaller, same family"). LOGIN's arguments are quoted strings, which cannot hold CR or LF;
// before, the refusal of imapflow's compiler came back as "login refused … check the user name and
// password" although the server never saw a login. Now it is refused before anything is sent,
// saying why; where the server offers AUTHENTICATE PLAIN, the same password is sent that way.
import {afterEach, describe, expect, it} from 'vitest'
import {ImapConnectionError} from '../../src/imap/index.js'
import {ExitCode} from '../../src/shared/exit-codes.js'
import {clearSecrets} from '../../src/shared/secrets.js'
import {startFakeServer, type FakeServer} from './fake-server.js'
import {connectAs, rejection} from './helpers.js'

let server: FakeServer | undefined

afterEach(async () => {
  await server?.close()
  server = undefined
  clearSecrets()
})

describe('a password LOGIN cannot carry', () => {
  it.each([
    ['CR LF', 'first\r\nsecond-9a1f', 'a line break (CR or LF)'],
    ['a lone LF', 'first\nsecond-9a1f', 'a line break (CR or LF)'],
    ['NUL', 'first\0second-9a1f', 'a NUL character'],
  ])('%s, server without AUTH=PLAIN/LOGIN: refused before sending, saying why', async (_what, password, kind) => {
    server = await startFakeServer({capabilities: 'IMAP4rev1 LITERAL+', password})
    const error = await rejection(connectAs(server, {user: 'me@example.test', password}))
    expect(error).toBeInstanceOf(ImapConnectionError)
    expect(error).toMatchObject({failure: 'auth', retryable: false, exitCode: ExitCode.CONNECTION})
    expect((error as Error).message).toBe(
      `cannot log in as 'me@example.test' at ${server.host}:${server.port}: the password contains ${kind}, which the LOGIN command cannot carry, and the server offers no AUTHENTICATE PLAIN or LOGIN, which could; nothing was sent`,
    )
    expect((error as ImapConnectionError).hint).toMatch(/stray line break/)
    expect((error as Error).message).not.toMatch(/login refused|second-9a1f/)
    expect(server.commands.map((c) => c.name)).not.toContain('LOGIN')
  })

  it('the same password goes through AUTHENTICATE PLAIN where the server offers it', async () => {
    const password = 'first\r\nsecond-9a1f'
    server = await startFakeServer({password})
    const session = await connectAs(server, {user: 'me@example.test', password})
    expect(server.commands.map((c) => c.name)).toContain('AUTHENTICATE')
    await session.logout()
  })
})
