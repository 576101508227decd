// Incremental sync and writes against Dovecot: QRESYNC (VANISHED on EXAMINE), CHANGEDSINCE,
// UID STORE, UID EXPUNGE, APPEND with and without UIDPLUS, the same without CONDSTORE/QRESYNC.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startDovecot, type DovecotInstance, type TestUser} from '../support/dovecot.js'
import {
  addFlags,
  expunge,
  fetchMessages as rawFetch,
  folderName,
  folderStatus,
  listUids,
  seedFolder,
} from '../support/mail-seed.js'
import {startProxy, type TcpProxy} from '../support/tcp-proxy.js'
import {capabilitiesWithout, collect, connectAs} from './helpers.js'


/**
 * Dovecot keeps per-message mod-sequences only once a client has used CONDSTORE on the folder
 * (until then every message reports the highest modseq). Done once after seeding, so that a
 * later CHANGEDSINCE sees only the test's changes.
 */
async function settle(dc: DovecotInstance, user: TestUser, folder: string): Promise<void> {
  const session = await connectAs(dc, user)
  await session.select(folder)
  await session.logout()
}

const message = (n: number): Buffer => Buffer.from(`From: a@example.test\r\nSubject: m${n}\r\nMessage-ID: <m${n}@x>\r\n\r\nbody ${n}\r\n`)

describe('sync with CONDSTORE and QRESYNC', () => {
  let dc: DovecotInstance
  let proxy: TcpProxy
  let user: TestUser

  beforeAll(async () => {
    dc = await startDovecot({separator: '.'})
    proxy = await startProxy({targetPort: dc.port})
    user = dc.users[0]!
  })
  afterAll(async () => {
    await proxy?.close()
    await dc?.stop()
  })

  it('enables CONDSTORE and QRESYNC and reports them', async () => {
    const session = await connectAs(dc, user)
    try {
      expect(session.capabilities).toMatchObject({condstore: true, qresync: true, listStatus: true, uidplus: true, literalPlus: true, multiappend: true})
      expect(session.capabilities.all.has('IMAP4REV1')).toBe(true)
      expect(session.user).toBe(user.user)
    } finally {
      await session.logout()
    }
  })

  it('EXAMINE with QRESYNC returns the UIDs expunged and the flags changed since a modseq', async () => {
    const folder = folderName(dc, 'Qresync')
    const uids = await seedFolder(dc, user.user, folder, 10)
    await settle(dc, user, folder)
    const before = await folderStatus(dc, user.user, folder)
    await expunge(dc, user.user, folder, [uids[2]!, uids[3]!, uids[7]!])
    await addFlags(dc, user.user, folder, [uids[5]!], ['$Done'])
    proxy.resetStats()
    const session = await connectAs(proxy, user)
    try {
      const opened = await session.examine(folder, {qresync: {uidValidity: before.uidValidity, highestModseq: String(before.highestModseq)}})
      expect(opened.vanished).toEqual([uids[2], uids[3], uids[7]])
      expect(opened.changed?.map((c) => c.uid)).toEqual([uids[5]])
      expect(opened.changed?.[0]!.flags).toContain('$Done')
      expect(opened).toMatchObject({exists: 7, uidValidity: before.uidValidity, uidNext: before.uidNext, readOnly: true})
      expect(BigInt(opened.highestModseq!)).toBeGreaterThan(before.highestModseq!)
      const examine = proxy.commands.find((c) => c.name === 'EXAMINE')!
      expect(examine.line).toMatch(new RegExp(`EXAMINE "INBOX\\.Qresync" \\(QRESYNC \\(${before.uidValidity} ${before.highestModseq}\\)\\)$`))
      // Without the option, no QRESYNC and no vanished.
      const plain = await session.examine(folder)
      expect(plain.vanished).toBeUndefined()
      expect(plain.changed).toBeUndefined()
      // A stale UIDVALIDITY: the server ignores the parameters (RFC 7162 §3.2.5.2).
      const stale = await session.examine(folder, {qresync: {uidValidity: before.uidValidity + 1, highestModseq: String(before.highestModseq)}})
      expect(stale.vanished).toEqual([])
    } finally {
      await session.logout()
    }
  })

  it('fetchFlags with CHANGEDSINCE returns only the changed messages, plus VANISHED', async () => {
    const folder = folderName(dc, 'Changed')
    const uids = await seedFolder(dc, user.user, folder, 8)
    await settle(dc, user, folder)
    const before = await folderStatus(dc, user.user, folder)
    await addFlags(dc, user.user, folder, [uids[1]!, uids[4]!], ['\\Answered'])
    await expunge(dc, user.user, folder, [uids[6]!])
    proxy.resetStats()
    const session = await connectAs(proxy, user)
    try {
      await session.examine(folder)
      const changes = await session.fetchFlags('1:*', {changedSince: String(before.highestModseq)})
      expect(changes.changed.map((c) => c.uid)).toEqual([uids[1], uids[4]])
      expect(changes.changed.every((c) => c.flags.includes('\\Answered') && !c.flags.includes('\\Recent'))).toBe(true)
      expect(changes.vanished).toEqual([uids[6]])
      const line = proxy.commands.filter((c) => c.name === 'UID FETCH').at(-1)!.line
      expect(line).toMatch(new RegExp(`UID FETCH 1:\\* \\(UID FLAGS MODSEQ\\) \\(CHANGEDSINCE ${before.highestModseq} VANISHED\\)$`))
      const all = await session.fetchFlags('1:*')
      expect(all.changed).toHaveLength(7)
      expect(all.vanished).toBeUndefined()
    } finally {
      await session.logout()
    }
  })

  it('stores flags and expunges exactly the given UIDs (UID EXPUNGE)', async () => {
    const folder = folderName(dc, 'Writes')
    const uids = await seedFolder(dc, user.user, folder, 5)
    proxy.resetStats()
    const session = await connectAs(proxy, user)
    try {
      const opened = await session.select(folder)
      expect(opened.readOnly).toBe(false)
      await session.storeFlags(`${uids[0]}:${uids[1]}`, ['\\Flagged', '$Keep'], 'add')
      await session.storeFlags(String(uids[0]), ['\\Flagged'], 'remove')
      await session.storeFlags(String(uids[4]), ['\\Draft'], 'set')
      await session.storeFlags(`${uids[2]},${uids[3]}`, ['\\Deleted'], 'add')
      // Only UID 3 goes, although UID 4 is \Deleted too.
      await session.expunge(String(uids[2]))
      const flags = new Map((await session.fetchFlags('1:*')).changed.map((c) => [c.uid, [...c.flags].sort()]))
      expect(flags.get(uids[0]!)).toEqual(expect.arrayContaining(['$Keep']))
      expect(flags.get(uids[0]!)).not.toContain('\\Flagged')
      expect(flags.get(uids[1]!)).toEqual(expect.arrayContaining(['$Keep', '\\Flagged']))
      expect(flags.get(uids[4]!)).toEqual(['\\Draft'])
      expect(flags.has(uids[2]!)).toBe(false)
    } finally {
      await session.logout()
    }
    expect(await listUids(dc, user.user, folder)).toEqual([uids[0], uids[1], uids[3], uids[4]])
    expect(proxy.commands.map((c) => c.line)).toContainEqual(expect.stringMatching(/UID STORE \d+:\d+ \+FLAGS\.SILENT \(\\Flagged \$Keep\)$/))
    expect(proxy.commandNames()).toContain('UID EXPUNGE')
  })

  it('appends with flags and internal date and returns the APPENDUID (RFC 4315)', async () => {
    const folder = folderName(dc, 'Restore €')
    const session = await connectAs(dc, user)
    try {
      await session.createFolder(folder)
      const raw = Buffer.concat([message(1), Buffer.from('8-bit: \xe4\xf6\xfc\r\n', 'latin1')])
      const date = new Date('2020-02-29T23:59:58Z')
      const result = await session.append(folder, raw, {flags: ['\\Seen', '$Label2', '\\Recent'], internalDate: date})
      const status = await session.status(folder)
      expect(result).toEqual({uid: status.uidNext! - 1, uidValidity: status.uidValidity})
      const [stored] = await rawFetch(dc, user.user, folder)
      expect(stored!.raw.equals(raw)).toBe(true)
      expect([...stored!.flags].sort()).toEqual(['$Label2', '\\Seen'])
      expect(stored!.internalDate.toISOString()).toBe(date.toISOString())
      const second = await session.append(folder, message(2), {flags: [], internalDate: null})
      expect(second.uid).toBe(result.uid! + 1)
    } finally {
      await session.logout()
    }
  })
})

describe('sync without CONDSTORE, QRESYNC and UIDPLUS', () => {
  let dc: DovecotInstance
  let user: TestUser

  beforeAll(async () => {
    dc = await startDovecot({separator: '/', capabilities: capabilitiesWithout('CONDSTORE', 'QRESYNC', 'UIDPLUS', 'LIST-STATUS')})
    user = dc.users[0]!
  })
  afterAll(async () => {
    await dc?.stop()
  })

  it('opens folders without modseq, ignores CHANGEDSINCE, appends without a UID, expunges with EXPUNGE', async () => {
    const folder = folderName(dc, 'Old')
    const uids = await seedFolder(dc, user.user, folder, 4)
    const proxy = await startProxy({targetPort: dc.port})
    const session = await connectAs(proxy, user)
    try {
      expect(session.capabilities).toMatchObject({condstore: false, qresync: false, uidplus: false})
      const opened = await session.examine(folder, {qresync: {uidValidity: 1, highestModseq: '1'}})
      expect(opened.highestModseq).toBeUndefined()
      expect(opened.vanished).toBeUndefined()
      const summaries = await collect(session.fetchSummaries('1:*'))
      expect(summaries.every((s) => s.modseq === undefined)).toBe(true)
      const flags = await session.fetchFlags('1:*', {changedSince: '1'})
      expect(flags.changed.map((c) => c.uid)).toEqual(uids)
      expect(flags.vanished).toBeUndefined()
      expect(await session.append(folder, message(9), {flags: ['\\Seen'], internalDate: null})).toEqual({})
      await session.select(folder)
      await session.storeFlags(String(uids[0]), ['\\Deleted'], 'add')
      await session.expunge(String(uids[0]))
      const lines = proxy.commands.map((c) => c.line)
      expect(lines.some((l) => /CHANGEDSINCE|QRESYNC|MODSEQ|ENABLE/.test(l))).toBe(false)
      expect(proxy.commandNames()).toContain('EXPUNGE')
      expect(proxy.commandNames()).not.toContain('UID EXPUNGE')
    } finally {
      await session.logout()
      await proxy.close()
    }
    expect(await listUids(dc, user.user, folder)).toEqual([uids[1], uids[2], uids[3], uids[3]! + 1])
  })
})
