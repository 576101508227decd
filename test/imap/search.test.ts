// UID SEARCH with and without ESEARCH (RFC 4731) against Dovecot, and what a hostile ESEARCH
// answer gets, against the fake server. With ESEARCH the server answers with a compact UID set
// instead of one number per message (docs/performance.md, "Memory").
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {RemoteError} from '../../src/shared/errors.js'
import {clearSecrets} from '../../src/shared/secrets.js'
import {startDovecot, type DovecotInstance} from '../support/dovecot.js'
import {addFlags, appendMessages, expunge, fetchMessages, folderName, listUids, seedFolder, seedMessage} from '../support/mail-seed.js'
import {startFakeServer, type FakeServer} from './fake-server.js'
import {connectAs, rejection, traceLines, tracingLogger} from './helpers.js'

// Dovecot's list without ESEARCH (it still answers RETURN, but mailkeep must not ask).
const WITHOUT_ESEARCH = 'IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT MULTIAPPEND UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED LITERAL+ CONDSTORE QRESYNC'

describe.each([
  {name: 'with ESEARCH', capabilities: undefined, sent: /^C: \d+ UID SEARCH RETURN \(ALL\) /},
  {name: 'without ESEARCH', capabilities: WITHOUT_ESEARCH, sent: /^C: \d+ UID SEARCH (?!RETURN)/},
])('UID SEARCH $name', ({capabilities, sent}) => {
  let dc: DovecotInstance
  let folder: string
  let uids: number[]
  let unseen: number[]

  beforeAll(async () => {
    dc = await startDovecot(capabilities === undefined ? {} : {capabilities})
    const user = dc.users[0]!
    folder = folderName(dc, 'Gaps')
    await seedFolder(dc, user, folder, 40)
    // Gaps, so that the answer is a set of several ranges, and some unseen messages.
    await expunge(dc, user, folder, [3, 4, 5, 17, 40])
    uids = await listUids(dc, user, folder)
    await addFlags(dc, user, folder, uids.filter((u) => u % 2 === 0), ['\\Seen'])
    unseen = (await fetchMessages(dc, user, folder)).filter((m) => !m.flags.includes('\\Seen')).map((m) => m.uid)
  })
  afterAll(async () => {
    await dc?.stop()
  })

  it('returns exactly the UIDs the server has, for every kind of criteria, and sends the expected form', async () => {
    const logger = tracingLogger()
    const session = await connectAs(dc, dc.users[0]!, {logger, traceProtocol: true})
    try {
      const opened = await session.examine(folder)
      expect(uids).toHaveLength(35)
      expect(await session.searchUids()).toEqual(uids)
      expect(unseen.length).toBeGreaterThan(0)
      expect(await session.searchUids({unseen: true})).toEqual(unseen)
      expect(await session.searchUids({uidRange: '10:20'})).toEqual(uids.filter((u) => u >= 10 && u <= 20))
      // No match: an ESEARCH answer without ALL (RFC 4731 §3.1).
      expect(await session.searchUids({uidRange: `${opened.uidNext}:*`})).toEqual([])
      const searches = traceLines(logger).filter((l) => / UID SEARCH /.test(l) && l.startsWith('C: '))
      expect(searches).toHaveLength(4)
      for (const line of searches) expect(line).toMatch(sent)
    } finally {
      await session.logout()
    }
  })

  it('UID SEARCH ALL agrees with the session while another client appends and expunges (no false contradiction)', async () => {
    const user = dc.users[1]!
    const busy = folderName(dc, 'Busy')
    const seeded = await seedFolder(dc, user, busy, 10)
    const session = await connectAs(dc, user)
    try {
      await session.examine(busy)
      // Meanwhile: two new messages, two expunged (reported as EXISTS, EXPUNGE or VANISHED
      // during or after the commands below, as the server chooses).
      await appendMessages(dc, user, busy, [seedMessage(50), seedMessage(51)])
      await expunge(dc, user, busy, [seeded[2]!, seeded[7]!])
      const seen = await session.searchUids()
      expect(seen.length).toBeGreaterThanOrEqual(8)
      expect(await session.searchUids()).toEqual(await listUids(dc, user, busy))
      await session.noop()
      expect(await session.searchUids()).toEqual(await listUids(dc, user, busy))
    } finally {
      await session.logout()
    }
  })
})

describe('against a scripted server', () => {
  const PASSWORD = 'fake-pw-e5e4'
  const user = {user: 'me@example.test', password: PASSWORD}
  let server: FakeServer | undefined

  afterEach(async () => {
    await server?.close()
    server = undefined
    clearSecrets()
  })

  describe('a UID SEARCH ALL answer that contradicts the session (issue 11 item 9)', () => {
    /** EXAMINE reports `exists`; UID SEARCH is answered with `during` (untagged lines) then `uids`. */
    async function answering(exists: number, uids: string, during = ''): Promise<FakeServer> {
      server = await startFakeServer({
        password: PASSWORD,
        onCommand: (command, c) => {
          if (command.name === 'EXAMINE') {
            c.send(`* ${exists} EXISTS\r\n* OK [UIDVALIDITY 42] ok\r\n* OK [UIDNEXT 100] ok\r\n`)
            c.ok(command, '[READ-ONLY] done')
            return true
          }
          if (command.name !== 'UID SEARCH') return false
          c.send(`${during}* SEARCH${uids === '' ? '' : ` ${uids}`}\r\n`)
          c.ok(command)
          return true
        },
      })
      return server
    }

    it('refuses an empty answer after `* 7 EXISTS` with a RemoteError that says why', async () => {
      const session = await connectAs(await answering(7, ''), user)
      await session.examine('INBOX')
      const error = await rejection(session.searchUids())
      expect(error).toBeInstanceOf(RemoteError)
      expect((error as Error).message).toMatch(/answered UID SEARCH ALL in 'INBOX' with 0 UID\(s\) while it reported 7 message\(s\) in the folder \(EXISTS\); the answer contradicts itself/)
      // A UID range may match nothing: only ALL has to name every message.
      expect(await session.searchUids({uidRange: '1:*'})).toEqual([])
      await session.logout()
    })

    it('refuses fewer UIDs than messages, and a UID named twice', async () => {
      const fewer = await connectAs(await answering(7, '1 2 3'), user)
      await fewer.examine('INBOX')
      expect(await rejection(fewer.searchUids())).toBeInstanceOf(RemoteError)
      await fewer.logout()
      await server?.close()
      const twice = await connectAs(await answering(3, '1 2 2'), user)
      await twice.examine('INBOX')
      expect((await rejection(twice.searchUids())) as Error).toMatchObject({message: expect.stringMatching(/with 3 UID\(s\) \(1 of them repeated\)/)})
      await twice.logout()
    })

    it('asks again after a NOOP before it counts as a fault: an expunge the server reports only then', async () => {
      server = await startFakeServer({
        password: PASSWORD,
        onCommand: (command, c) => {
          if (command.name === 'EXAMINE') {
            c.send(`* 3 EXISTS\r\n* OK [UIDVALIDITY 42] ok\r\n* OK [UIDNEXT 100] ok\r\n`)
            c.ok(command, '[READ-ONLY] done')
            return true
          }
          if (command.name === 'NOOP') {
            c.send('* 2 EXPUNGE\r\n')
            c.ok(command)
            return true
          }
          if (command.name !== 'UID SEARCH') return false
          c.send('* SEARCH 1 3\r\n')
          c.ok(command)
          return true
        },
      })
      const session = await connectAs(server, user)
      await session.examine('INBOX')
      expect(await session.searchUids()).toEqual([1, 3])
      expect(server.commands.map((c) => c.name).filter((n) => n === 'UID SEARCH' || n === 'NOOP')).toEqual(['UID SEARCH', 'NOOP', 'UID SEARCH'])
      await session.logout()
    })

    it('accepts an answer that matches the count at any moment of the command (mail arriving or expunged meanwhile)', async () => {
      const arriving = await connectAs(await answering(3, '1 2 3 4', '* 4 EXISTS\r\n'), user)
      await arriving.examine('INBOX')
      expect(await arriving.searchUids()).toEqual([1, 2, 3, 4])
      await arriving.logout()
      await server?.close()
      const before = await connectAs(await answering(3, '1 2 3', '* 4 EXISTS\r\n'), user)
      await before.examine('INBOX')
      expect(await before.searchUids()).toEqual([1, 2, 3])
      await before.logout()
      await server?.close()
      const expunged = await connectAs(await answering(3, '1 3', '* 2 EXPUNGE\r\n'), user)
      await expunged.examine('INBOX')
      expect(await expunged.searchUids()).toEqual([1, 3])
      await expunged.logout()
    })
  })

  describe('a hostile ESEARCH answer', () => {
    async function answering(all: string): Promise<FakeServer> {
      server = await startFakeServer({
        password: PASSWORD,
        capabilities: 'IMAP4rev1 ESEARCH UIDPLUS LITERAL+ AUTH=PLAIN',
        onCommand: (command, c) => {
          if (command.name !== 'UID SEARCH') return false
          c.send(`* ESEARCH (TAG "${command.tag}") UID${all === '' ? '' : ` ALL ${all}`}\r\n`)
          c.ok(command)
          return true
        },
      })
      return server
    }

    it('reads a well-formed set, in any order of its ranges', async () => {
      const session = await connectAs(await answering('9,2:4,7:6'), user)
      expect(await session.searchUids()).toEqual([2, 3, 4, 6, 7, 9])
      await session.logout()
    })

    it.each(['1:4294967295', '1:*', 'x:y', '0'])('refuses ALL %s with a RemoteError instead of expanding or guessing', async (set) => {
      const session = await connectAs(await answering(set), user)
      const error = await rejection(session.searchUids())
      expect(error).toBeInstanceOf(RemoteError)
      expect((error as Error).message).toMatch(/unusable ESEARCH result/)
      await session.logout()
    })
  })
})
