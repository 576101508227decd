// LIST answers without a folder name (found by test/reliability, hostile server) were dropped in
// silence, so a backup of such a server reported "ok, no folders" with exit 0, and in mirror mode
// a folder whose LIST line lost its name would have looked deleted on the server. (Lines imapflow
// cannot parse at all are skipped by imapflow itself before they reach us: see the known issue in
// test/reliability/hostile-server.test.ts.)
import {afterEach, describe, expect, it} from 'vitest'
import {RemoteError} from '../../shared/errors.js'
import {startFakeServer, type FakeServer} from '../../../test/imap/fake-server.js'
import {connectAs, rejection} from '../../../test/imap/helpers.js'

const user = {user: 'me@example.test', password: 'list-test-pw'}
let server: FakeServer | undefined

afterEach(async () => {
  await server?.close()
  server = undefined
})

async function serveList(lines: string): Promise<FakeServer> {
  server = await startFakeServer({
    password: user.password,
    onCommand: (command, c) => {
      if (command.name !== 'LIST') return false
      // imapflow asks for the delimiter itself (`LIST "" ""`) when there is no NAMESPACE.
      c.send(command.args === '"" ""' ? '* LIST (\\Noselect) "/" ""\r\n' : lines)
      c.ok(command)
      return true
    },
  })
  return server
}

describe('LIST', () => {
  it('lists well-formed answers, a literal name included', async () => {
    const session = await connectAs(await serveList('* LIST (\\HasNoChildren) "/" INBOX\r\n* LIST () "/" {8}\r\nSent/a b\r\n'), user)
    expect((await session.listFolders()).map((f) => f.name)).toEqual(['INBOX', 'Sent/a b'])
    session.close()
  })

  it.each([
    ['no mailbox name', '* LIST (\\HasNoChildren) "/"\r\n'],
    ['no mailbox name among good answers', '* LIST () "/" INBOX\r\n* LIST (\\Marked) "/"\r\n'],
  ])('refuses an answer with %s instead of dropping it', async (_what, lines) => {
    const session = await connectAs(await serveList(lines), user)
    const error = await rejection(session.listFolders())
    expect(error).toBeInstanceOf(RemoteError)
    expect((error as Error).message).toMatch(/LIST answer\(s\) without a readable folder name/)
    session.close()
  })
})
