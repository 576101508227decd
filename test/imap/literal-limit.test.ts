// The session's literal limit (src/imap/limits.ts), against the fake server: a server that
// announces a literal far larger than anything mailkeep fetches whole is refused at the
// announcement, before a byte of it is buffered, with an error that says what happened.
import {afterEach, describe, expect, it} from 'vitest'
import {OversizedResponseError} from '../../src/imap/index.js'
import {TransientImapError} from '../../src/shared/errors.js'
import {clearSecrets} from '../../src/shared/secrets.js'
import {startFakeServer, streamJunk, type FakeServer} from './fake-server.js'
import {collect, connectAs, rejection, wireStats} from './helpers.js'

const PASSWORD = 'fake-pw-9a2e'
const user = {user: 'me@example.test', password: PASSWORD}
const MiB = 1024 * 1024
let server: FakeServer | undefined

afterEach(async () => {
  await server?.close()
  server = undefined
  clearSecrets()
})

async function hostile(announced: number): Promise<FakeServer> {
  server = await startFakeServer({
    password: PASSWORD,
    onCommand: (command, c) => {
      if (command.name !== 'UID FETCH') return false
      c.send(`* 1 FETCH (UID 1 FLAGS () RFC822.SIZE 300 BODY[] {${announced}}\r\n`)
      streamJunk(c.socket, Math.min(announced, 200 * MiB))
      return true
    },
  })
  return server
}

describe('the literal limit', () => {
  it('refuses a 900 MB literal for a small message at once, naming size, limit and folder, and closes the session', async () => {
    const fake = await hostile(943718400)
    const session = await connectAs(fake, user, {wholeMessageBytes: 8 * MiB})
    await session.examine('INBOX')
    const started = Date.now()
    const error = await rejection(collect(session.fetchMessages('1:4')))
    expect(error).toBeInstanceOf(OversizedResponseError)
    expect(error).toMatchObject({what: 'literal', bytes: 943718400, limit: 64 * MiB})
    expect((error as Error).message).toContain("a literal of 943718400 bytes (900.0 MiB) in its answer to UID FETCH in 'INBOX', over the limit of 67108864 bytes (64.0 MiB)")
    expect((error as OversizedResponseError).hint).toContain('large_message_bytes')
    expect(Date.now() - started).toBeLessThan(3000)
    // Refused at the announcement: at most what was in flight, nowhere near the literal.
    expect(wireStats(session).received).toBeLessThan(32 * MiB)
    expect(session.closed).toBe(true)
    expect(await rejection(session.noop())).toBeInstanceOf(TransientImapError)
  })

  it('derives the limit from what the caller fetches whole: 4 × wholeMessageBytes above the 64 MiB floor', async () => {
    const fake = await hostile(90 * MiB)
    const session = await connectAs(fake, user, {wholeMessageBytes: 20 * MiB})
    await session.examine('INBOX')
    const error = await rejection(collect(session.fetchMessages('1')))
    expect(error).toMatchObject({what: 'literal', bytes: 90 * MiB, limit: 80 * MiB})
  })

  it('applies to the chunks of downloadMessage too (a server that ignores the byte range)', async () => {
    const fake = await hostile(2147483648)
    const session = await connectAs(fake, user)
    await session.examine('INBOX')
    const error = await rejection(session.downloadMessage(1))
    expect(error).toBeInstanceOf(OversizedResponseError)
    expect(error).toMatchObject({bytes: 2147483648, limit: 64 * MiB})
  })
})
