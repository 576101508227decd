// Answers with a line imapflow cannot parse, against the fake server. imapflow 2.1.2 logs such a
// line and skips it (flow-logger.ts); without the check in flow-internals.ts `command()` and the
// FETCH stream, the command would complete as if the line had not been sent: a LIST without the
// folder, a SEARCH without its UIDs (and a backup that records UIDNEXT past messages it never
// saw). These tests also fail if an imapflow upgrade stops logging the line the way we read it.
import {afterEach, describe, expect, it} from 'vitest'
import {RemoteError, TransientImapError} from '../../src/shared/errors.js'
import {memoryLogger} from '../../src/shared/logger.js'
import {clearSecrets} from '../../src/shared/secrets.js'
import {startFakeServer, type FakeCommand, type FakeConnection, type FakeServer} from './fake-server.js'
import {connectAs, rejection} from './helpers.js'

const PASSWORD = 'fake-pw-41c7'
const user = {user: 'me@example.test', password: PASSWORD}
let server: FakeServer | undefined

afterEach(async () => {
  await server?.close()
  server = undefined
  clearSecrets()
})

type Script = (command: FakeCommand, c: FakeConnection) => boolean

async function serve(onCommand: Script): Promise<FakeServer> {
  server = await startFakeServer({password: PASSWORD, onCommand})
  return server
}

const message = (uid: number): string => `Subject: message ${uid}\r\n\r\nbody ${uid}\r\n`
const fetchLine = (uid: number): string => `* ${uid} FETCH (UID ${uid} FLAGS (\\Seen) INTERNALDATE "01-Jan-2024 00:00:00 +0000" RFC822.SIZE ${message(uid).length} BODY[] {${message(uid).length}}\r\n${message(uid)})\r\n`

describe('an answer with a line that cannot be parsed', () => {
  it('fails LIST with a RemoteError instead of listing fewer folders; the session stays usable', async () => {
    let garble = true
    const fake = await serve((command, c) => {
      if (command.name !== 'LIST') return false
      c.send('* LIST (\\HasNoChildren) "/" INBOX\r\n')
      if (garble) c.send('* LIST ((( "/"\r\n')
      c.send('* LIST (\\HasNoChildren) "/" Archive\r\n')
      c.ok(command)
      return true
    })
    const logger = memoryLogger()
    const session = await connectAs(fake, user, {logger})
    const error = await rejection(session.listFolders())
    expect(error).toBeInstanceOf(RemoteError)
    expect(error).not.toBeInstanceOf(TransientImapError)
    expect((error as Error).message).toMatch(/^unreadable answer from 127\.0\.0\.1:\d+ to LIST: 1 line\(s\) of the answer could not be parsed \(.+: \* LIST \(\(\( "\/"\); nothing was concluded/)
    // Logged at debug, without --trace-protocol too.
    expect(logger.records.some((r) => r.level === 'debug' && r.message.includes('could not parse a server line'))).toBe(true)
    expect(session.closed).toBe(false)
    garble = false
    expect((await session.listFolders()).map((f) => f.name)).toEqual(['INBOX', 'Archive'])
    await session.logout()
  })

  it('fails UID SEARCH with a RemoteError instead of returning fewer UIDs', async () => {
    const fake = await serve((command, c) => {
      if (command.name !== 'UID SEARCH') return false
      c.send('* SEARCH 1 2 3 ((( [[ "\r\n')
      c.ok(command)
      return true
    })
    const session = await connectAs(fake, user)
    await session.examine('INBOX')
    const error = await rejection(session.searchUids({uidRange: '1:*'}))
    expect(error).toBeInstanceOf(RemoteError)
    expect((error as Error).message).toContain("to UID SEARCH in 'INBOX'")
    expect(session.closed).toBe(false)
    await session.noop()
    await session.logout()
  })

  it('hands on every FETCH response that did parse, then fails the stream instead of ending it', async () => {
    const fake = await serve((command, c) => {
      if (command.name !== 'UID FETCH') return false
      c.send(fetchLine(1))
      c.send('* 2 FETCH (UID two FLAGS (((( BODY[] "unterminated\r\n')
      c.send(fetchLine(3))
      c.ok(command)
      return true
    })
    const session = await connectAs(fake, user)
    await session.examine('INBOX')
    const got: number[] = []
    const error = await rejection(
      (async () => {
        for await (const m of session.fetchMessages('1:3')) got.push(m.uid)
      })(),
    )
    expect(got).toEqual([1, 3])
    expect(error).toBeInstanceOf(RemoteError)
    expect((error as Error).message).toContain("to UID FETCH in 'INBOX'")
    // Flag changes too: a lost line must not read as "unchanged".
    const flags = await rejection(session.fetchFlags('1:3'))
    expect(flags).toBeInstanceOf(RemoteError)
    expect(session.closed).toBe(false)
    await session.logout()
  })

  it('does not fail the next command for a line of an earlier one', async () => {
    let garble = true
    const fake = await serve((command, c) => {
      if (command.name !== 'UID SEARCH') return false
      if (garble) c.send('* SEARCH ((( \r\n')
      else c.send('* SEARCH 1 2 3\r\n')
      garble = false
      c.ok(command)
      return true
    })
    const session = await connectAs(fake, user)
    await session.examine('INBOX')
    expect(await rejection(session.searchUids())).toBeInstanceOf(RemoteError)
    expect(await session.searchUids()).toEqual([1, 2, 3])
    await session.logout()
  })
})
