// Folders on both Dovecot flavours: LIST with UTF-8 and nested names, NAMESPACE, STATUS,
// LIST-STATUS against the STATUS-per-folder fallback (checked on the wire through a proxy).
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {MissingFolderError} from '../../src/shared/errors.js'
import {startDovecot, type DovecotInstance, type DovecotOptions} from '../support/dovecot.js'
import {appendMessages, createFolder, folderName, folderStatus, seedFolder} from '../support/mail-seed.js'
import {startProxy, type TcpProxy} from '../support/tcp-proxy.js'
import {capabilitiesWithout, connectAs, rejection} from './helpers.js'


const FLAVOURS: Array<{title: string; options: DovecotOptions; namespace: {prefix: string; delimiter: string}}> = [
  {title: "'/' without prefix", options: {separator: '/'}, namespace: {prefix: '', delimiter: '/'}},
  {title: "'.' with prefix INBOX.", options: {separator: '.', prefix: 'INBOX.'}, namespace: {prefix: 'INBOX.', delimiter: '.'}},
]

describe.each(FLAVOURS)('folders on Dovecot $title', ({options, namespace}) => {
  let dc: DovecotInstance
  let proxy: TcpProxy
  const names: Record<string, string> = {}

  beforeAll(async () => {
    dc = await startDovecot(options)
    proxy = await startProxy({targetPort: dc.port})
    const user = dc.users[0]!.user
    names.drafts = folderName(dc, 'Entwürfe')
    names.japanese = folderName(dc, '日本語')
    names.nested = folderName(dc, '日本語', 'Unterordner & mehr')
    names.projects = folderName(dc, 'Projects', 'Alpha')
    for (const name of [names.drafts, names.nested, names.projects]) await createFolder(dc, user, name!)
    await seedFolder(dc, user, names.drafts!, 3)
    await seedFolder(dc, user, 'INBOX', 2)
  })
  afterAll(async () => {
    await proxy?.close()
    await dc?.stop()
  })

  it('lists every folder with its full decoded name, delimiter and attributes', async () => {
    const session = await connectAs(dc, dc.users[0]!)
    try {
      const folders = await session.listFolders()
      const byName = new Map(folders.map((f) => [f.name, f]))
      for (const name of ['INBOX', names.drafts!, names.nested!, names.projects!]) {
        expect(byName.get(name), name).toMatchObject({name, delimiter: dc.separator, noselect: false})
        expect(byName.get(name)!.status).toBeUndefined()
      }
      // The parents created implicitly have no mailbox of their own.
      expect(byName.get(names.japanese!)).toMatchObject({noselect: true})
      expect(byName.get(names.japanese!)!.flags).toContain('\\Noselect')
    } finally {
      await session.logout()
    }
  })

  it('reports the namespace (RFC 2342)', async () => {
    const session = await connectAs(dc, dc.users[0]!)
    try {
      expect(await session.namespaces()).toEqual({personal: [namespace], other: [], shared: []})
    } finally {
      await session.logout()
    }
  })

  it('gets STATUS of a folder, and MissingFolderError for one that does not exist', async () => {
    const session = await connectAs(dc, dc.users[0]!)
    try {
      const expected = await folderStatus(dc, dc.users[0]!.user, names.drafts!)
      expect(await session.status(names.drafts!)).toEqual({
        uidValidity: expected.uidValidity,
        uidNext: expected.uidNext,
        messages: 3,
        highestModseq: String(expected.highestModseq),
      })
      const missing = folderName(dc, 'Nirgendwo')
      const error = await rejection(session.status(missing))
      expect(error).toBeInstanceOf(MissingFolderError)
      expect((error as MissingFolderError).folder).toBe(missing)
      expect((error as Error).cause).toBeDefined()
      expect(await rejection(session.examine(missing))).toBeInstanceOf(MissingFolderError)
      // The session is still usable after a NO.
      expect(session.closed).toBe(false)
      await session.noop()
    } finally {
      await session.logout()
    }
  })

  it('gets every folder status in one LIST-STATUS round trip', async () => {
    proxy.resetStats()
    const session = await connectAs(proxy, dc.users[0]!)
    try {
      const folders = await session.listFolders({status: true})
      const drafts = folders.find((f) => f.name === names.drafts)!
      const expected = await folderStatus(dc, dc.users[0]!.user, names.drafts!)
      expect(drafts.status).toEqual({uidValidity: expected.uidValidity, uidNext: 4, messages: 3, highestModseq: String(expected.highestModseq)})
      expect(folders.find((f) => f.name === 'INBOX')!.status).toMatchObject({messages: 2})
      expect(folders.find((f) => f.name === names.japanese)!.status).toBeUndefined()
      const sent = proxy.commands.map((c) => c.line.replace(/^\S+ /, ''))
      expect(sent.filter((l) => /^STATUS /i.test(l))).toEqual([])
      expect(sent.find((l) => /^LIST /i.test(l))).toMatch(/^LIST "" "\*" RETURN \(STATUS \(UIDVALIDITY UIDNEXT MESSAGES HIGHESTMODSEQ\)\)$/)
    } finally {
      await session.logout()
    }
  })

  it('falls back to STATUS per selectable folder without LIST-STATUS, and uses no CONDSTORE item without CONDSTORE', async () => {
    const plain = await startDovecot({...options, capabilities: capabilitiesWithout('LIST-STATUS', 'CONDSTORE', 'QRESYNC')})
    const plainProxy = await startProxy({targetPort: plain.port})
    try {
      const user = plain.users[0]!
      await createFolder(plain, user.user, folderName(plain, 'Eins'))
      await createFolder(plain, user.user, folderName(plain, 'Zwei', 'Drei'))
      await appendMessages(plain, user.user, folderName(plain, 'Eins'), [{raw: Buffer.from('Subject: x\r\n\r\nbody\r\n')}])
      const session = await connectAs(plainProxy, user)
      try {
        expect(session.capabilities).toMatchObject({listStatus: false, condstore: false, qresync: false})
        const folders = await session.listFolders({status: true})
        expect(folders.find((f) => f.name === folderName(plain, 'Eins'))!.status).toMatchObject({messages: 1, uidNext: 2})
        expect(folders.find((f) => f.name === folderName(plain, 'Eins'))!.status!.highestModseq).toBeUndefined()
        const lines = plainProxy.commands.map((c) => c.line.replace(/^\S+ /, ''))
        expect(lines.some((l) => /RETURN/i.test(l))).toBe(false)
        expect(lines.some((l) => /^ENABLE/i.test(l))).toBe(false)
        const statusLines = lines.filter((l) => /^STATUS /i.test(l))
        const selectable = folders.filter((f) => !f.noselect)
        expect(statusLines).toHaveLength(selectable.length)
        expect(statusLines.every((l) => l.endsWith('(UIDVALIDITY UIDNEXT MESSAGES)'))).toBe(true)
        // The \Noselect parent got no STATUS.
        const parent = folders.find((f) => f.name === folderName(plain, 'Zwei'))!
        expect(parent.noselect).toBe(true)
        expect(parent.status).toBeUndefined()
      } finally {
        await session.logout()
      }
    } finally {
      await plainProxy.close()
      await plain.stop()
    }
  })

  it('sends names in modified UTF-7 and reads them back decoded', async () => {
    proxy.resetStats()
    const session = await connectAs(proxy, dc.users[0]!)
    try {
      const created = folderName(dc, 'Neu €', 'Kind')
      await session.createFolder(created)
      // Creating it again is not an error (RFC 5530 ALREADYEXISTS).
      await session.createFolder(created)
      const folders = await session.listFolders()
      expect(folders.map((f) => f.name)).toContain(created)
      const opened = await session.examine(names.drafts!)
      expect(opened).toMatchObject({name: names.drafts, readOnly: true, exists: 3, uidNext: 4})
      const wire = proxy.commands.map((c) => c.line)
      expect(wire.some((l) => l.includes(`CREATE "${folderName(dc, 'Neu &IKw-', 'Kind')}"`))).toBe(true)
      expect(wire.some((l) => l.includes(`EXAMINE "${folderName(dc, 'Entw&APw-rfe')}"`))).toBe(true)
      // No SUBSCRIBE, no LIST before EXAMINE, no IDLE.
      expect(proxy.commandNames().filter((n) => ['SUBSCRIBE', 'IDLE', 'LSUB'].includes(n))).toEqual([])
    } finally {
      await session.logout()
    }
  })
})
