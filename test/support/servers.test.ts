// The three servers through the server-agnostic harness (servers.ts): each fact in SERVER_FACTS
// pinned against the real server, and the operations the suite relies on (seeding, flags,
// expunge, folder changes, UIDVALIDITY changes, restart, stop) checked on each.
import {existsSync} from 'node:fs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {loadCorpus} from '../fixtures/corpus.js'
import {
  addFlags,
  appendMessages,
  createFolder,
  deleteFolder,
  expunge,
  fetchFlags,
  fetchMessages,
  folderName,
  folderStatus,
  forceUidValidityChange,
  listFolders,
  listUids,
  openSession,
  removeFlags,
  renameFolder,
  seedFolder,
  serverAt,
  setFlags,
  withSession,
} from './mail-seed.js'
import {startProxy} from './tcp-proxy.js'
import {isPortFree} from './ports.js'
import {listProcesses} from './processes.js'
import {ImapCommandError, RawImapClient, fetchItems, mailboxArg, valueText, type ImapValue} from './raw-imap.js'
import {KNOWN_EXTENSIONS, SERVER_FACTS, serverKinds, startServer, type ServerKind, type TestServer} from './servers.js'

const NAMESPACES: Record<string, string> = {
  '/': '(("" "/"))',
  '.': '(("INBOX." "."))',
}

describe.each(serverKinds())('%s', (kind: ServerKind) => {
  const facts = SERVER_FACTS[kind]

  describe.each(facts.separators.map((separator) => ({separator})))("with separator '$separator'", ({separator}) => {
    let server: TestServer
    let user: string

    beforeAll(async () => {
      server = await startServer(kind, {separator})
      user = server.users[0]!.user
    })
    afterAll(async () => {
      await server?.stop()
    })

    it('announces its personal namespace and separator, and the other namespaces its facts say', async () => {
      const untagged = await withSession(server, user, async (c) => (await c.command('NAMESPACE')).untagged)
      expect(untagged.map((r) => r.raw.toString().trimEnd())[0]).toMatch(new RegExp(`^\\* NAMESPACE ${escape(NAMESPACES[separator]!)} `))
      // The first namespace of each kind: ((prefix delimiter) …) or NIL.
      const first = (value: ImapValue | undefined): {prefix: string; delimiter: string} | null =>
        Array.isArray(value) && Array.isArray(value[0]) ? {prefix: valueText(value[0][0]), delimiter: valueText(value[0][1])} : null
      const values = untagged.find((r) => r.kind === 'NAMESPACE')!.values
      expect({personal: first(values[0]), other: first(values[1]), shared: first(values[2])}).toEqual(facts.namespaces[separator])
      expect(server.separator).toBe(separator)
      const child = folderName(server, 'Projects', 'Alpha')
      await createFolder(server, user, folderName(server, 'Projects'))
      await createFolder(server, user, child)
      const folders = await listFolders(server, user)
      expect(folders.find((f) => f.name === child)).toMatchObject({delimiter: separator})
      expect(folders.find((f) => f.name === 'INBOX')).toMatchObject({delimiter: separator})
    })

    it('makes the parent of a new nested folder a folder of its own only where its facts say', async () => {
      const parent = folderName(server, 'Parent')
      await createFolder(server, user, folderName(server, 'Parent', 'Child'))
      const entry = (await listFolders(server, user)).find((f) => f.name === parent)
      const selectable = entry !== undefined && !entry.flags.some((f) => /^\\(Noselect|NonExistent)$/i.test(f))
      expect(selectable).toBe(facts.createMakesParentFolders)
    })

    it('creates, renames and deletes folders, including non-ASCII names (modified UTF-7)', async () => {
      const original = folderName(server, 'Entwürfe & Pläne')
      const renamed = folderName(server, '日本語')
      await createFolder(server, user, original)
      const raw = (await listFolders(server, user)).find((f) => f.name === original)?.rawName
      expect(raw).toBe(folderName(server, 'Entw&APw-rfe &- Pl&AOQ-ne'))
      await renameFolder(server, user, original, renamed)
      let names = (await listFolders(server, user)).map((f) => f.name)
      expect(names).toContain(renamed)
      expect(names).not.toContain(original)
      await deleteFolder(server, user, renamed)
      names = (await listFolders(server, user)).map((f) => f.name)
      expect(names).not.toContain(renamed)
      await expect(deleteFolder(server, user, renamed)).rejects.toThrow(ImapCommandError)
    })
  })

  describe('behaviour', () => {
    let server: TestServer
    let user: string

    beforeAll(async () => {
      server = await startServer(kind)
      user = server.users[0]!.user
    })
    afterAll(async () => {
      await server?.stop()
    })

    it('announces exactly the extensions its facts list', async () => {
      const session = await openSession(server, user)
      const caps = await session.refreshCapabilities()
      await session.logout()
      const announced = KNOWN_EXTENSIONS.filter((ext) => caps.has(ext))
      expect(announced.sort()).toEqual([...facts.capabilities].sort())
      if (kind === 'cyrus') for (const ext of ['CONDSTORE', 'QRESYNC', 'ESEARCH', 'LIST-STATUS']) expect(caps.has(ext), ext).toBe(true)
      if (kind === 'courier') for (const ext of ['CONDSTORE', 'QRESYNC', 'ESEARCH', 'LIST-STATUS', 'MULTIAPPEND', 'LITERAL+']) expect(caps.has(ext), ext).toBe(false)
    })

    it('is seen without COMPRESS through the proxy, which could not read a compressed session', async () => {
      const proxy = await startProxy({targetPort: server.port})
      try {
        const via = serverAt(server, proxy.port)
        const session = await openSession(via, user)
        const caps = await session.refreshCapabilities()
        await session.logout()
        expect([...caps].filter((c) => c.startsWith('COMPRESS'))).toEqual([])
        expect(KNOWN_EXTENSIONS.filter((ext) => caps.has(ext)).sort()).toEqual([...facts.capabilities].filter((ext) => ext !== 'COMPRESS=DEFLATE').sort())
      } finally {
        await proxy.close()
      }
    })

    it('accepts LOGIN for every test user (a password with space, quote and backslash too) and refuses a wrong one', async () => {
      expect(server.users.some((u) => /[ "\\]/.test(u.password))).toBe(true)
      for (const u of server.users) {
        const session = await openSession(server, u)
        expect(session.capabilities.has('IMAP4REV1')).toBe(true)
        await session.logout()
      }
      const client = await RawImapClient.connect({host: server.host, port: server.port})
      await expect(client.login(user, 'wrong password')).rejects.toThrow(ImapCommandError)
      await client.logout()
    })

    it('stores each corpus message as facts.stored() says, with its flags and internal date', async () => {
      const folder = folderName(server, 'Corpus')
      await createFolder(server, user, folder)
      const corpus = loadCorpus()
      const changed: string[] = []
      const refused: string[] = []
      for (const [i, message] of corpus.entries()) {
        const sent = {raw: message.raw, flags: i % 2 === 0 ? ['\\Seen', '$Label1'] : ['\\Flagged', '\\Answered'], internalDate: new Date(Date.UTC(2021, 2, 14, 12, 30, 45) + i * 3_600_000)}
        const expected = facts.stored(message.raw)
        if (expected === undefined) {
          await expect(appendMessages(server, user, folder, [sent]), message.name).rejects.toThrow(ImapCommandError)
          refused.push(message.name)
          continue
        }
        const [uid] = await appendMessages(server, user, folder, [sent])
        const [got] = await fetchMessages(server, user, folder, [uid!])
        expect(got!.raw.equals(expected), `${message.name} differs from facts.stored()`).toBe(true)
        if (!got!.raw.equals(message.raw)) changed.push(message.name)
        expect([...got!.flags].sort(), message.name).toEqual([...sent.flags].sort())
        expect(got!.internalDate.toISOString(), message.name).toBe(sent.internalDate.toISOString())
      }
      // What each server changes, by name, so that a new corpus file or a server update that
      // changes the picture is noticed here first.
      const expectedChanges: Record<ServerKind, {changed: string[]; refused: string[]}> = {
        dovecot: {changed: ['06-mutt-lf', '10-mixed-line-endings', '24-lf-from-lines'], refused: []},
        cyrus: {changed: ['09-raw-utf8-headers'], refused: ['06-mutt-lf', '10-mixed-line-endings', '24-lf-from-lines']},
        courier: {changed: ['06-mutt-lf', '10-mixed-line-endings', '13-no-trailing-newline', '16-bare-cr', '24-lf-from-lines'], refused: []},
      }
      expect({changed, refused}).toEqual(expectedChanges[kind])
    })

    it('returns INTERNALDATE in +0000 or in the zone it was given, as its facts say', async () => {
      const folder = folderName(server, 'Zones')
      await createFolder(server, user, folder)
      const text = await withSession(server, user, async (c) => {
        await c.command([`APPEND ${mailboxArg(folder)} "14-Mar-2021 14:30:45 +0200" `, Buffer.from('Subject: zone\r\n\r\nbody\r\n')])
        await c.command(`EXAMINE ${mailboxArg(folder)}`)
        const result = await c.command('FETCH 1 (INTERNALDATE)')
        return valueText(fetchItems(result.untagged.find((r) => r.kind === 'FETCH')!).get('INTERNALDATE'))
      })
      expect(text).toBe(facts.internalDateKeepsZone ? '14-Mar-2021 14:30:45 +0200' : '14-Mar-2021 12:30:45 +0000')
    })

    it('shows expunges, flag and keyword changes', async () => {
      const folder = folderName(server, 'Changes')
      const uids = await seedFolder(server, user, folder, 10, () => ({raw: Buffer.from('Subject: x\r\n\r\nbody\r\n'), flags: []}))
      await expunge(server, user, folder, [uids[1]!, uids[3]!])
      await setFlags(server, user, folder, [uids[0]!], ['\\Seen', '$Important'])
      await addFlags(server, user, folder, [uids[4]!, uids[5]!], ['\\Flagged'])
      await removeFlags(server, user, folder, [uids[5]!], ['\\Flagged'])
      expect(await listUids(server, user, folder)).toEqual(uids.filter((_, i) => i !== 1 && i !== 3))
      const flags = await fetchFlags(server, user, folder)
      expect([...flags.get(uids[0]!)!].sort()).toEqual(['$Important', '\\Seen'])
      expect(flags.get(uids[4]!)).toEqual(['\\Flagged'])
      expect(flags.get(uids[5]!)).toEqual([])
      expect((await folderStatus(server, user, folder)).messages).toBe(8)
    })

    it('forceUidValidityChange: a new value, the same messages, flags and dates; UIDs as its facts say', async () => {
      // A name that needs modified UTF-7 too: the administrator's tools take it in that form.
      for (const folder of [folderName(server, 'Rebuilt'), folderName(server, 'R\u00e9vis\u00e9'), 'INBOX']) {
        const seeded = await seedFolder(server, user, folder, 4)
        await addFlags(server, user, folder, [seeded[1]!], ['$Label2', '\\Answered'])
        // An expunged message stays expunged (Cyrus keeps its file, and reconstruct finds it).
        await expunge(server, user, folder, [seeded[3]!])
        const before = await fetchMessages(server, user, folder)
        const {before: oldValue, after} = await forceUidValidityChange(server, user, folder)
        expect(after).not.toBe(oldValue)
        const now = await fetchMessages(server, user, folder)
        const strip = (messages: typeof before): Array<[string, string[], string]> => messages.map((m) => [m.raw.toString('latin1'), [...m.flags].sort(), m.internalDate.toISOString()])
        expect(strip(now).sort()).toEqual(strip(before).sort())
        if (facts.uidsSurviveUidValidityChange) expect(now.map((m) => m.uid)).toEqual(before.map((m) => m.uid))
        else expect(now.map((m) => m.uid)).toEqual([1, 2, 3])
        // Stable from then on.
        expect((await folderStatus(server, user, folder)).uidValidity).toBe(after)
      }
    })

    it('RENAME keeps or renews UIDVALIDITY as its facts say', async () => {
      const from = folderName(server, 'BeforeRename')
      const to = folderName(server, 'AfterRename')
      await seedFolder(server, user, from, 2)
      const before = await folderStatus(server, user, from)
      await renameFolder(server, user, from, to)
      const after = await folderStatus(server, user, to)
      expect(after.messages).toBe(2)
      expect(after.uidValidity === before.uidValidity).toBe(facts.renameKeepsUidValidity)
    })

    it('gives an empty INBOX that never held mail a new UIDVALIDITY per session only where its facts say', async () => {
      const fresh = server.users[2]!.user
      const values = new Set<number>()
      for (let i = 0; i < 3; i++) {
        values.add((await folderStatus(server, fresh, 'INBOX')).uidValidity)
        // Courier derives the value from the clock: sessions in the same second could agree.
        await new Promise((resolve) => setTimeout(resolve, 1100))
      }
      expect(values.size > 1).toBe(facts.emptyInboxUidValidityVaries)
    })

    it('logs logins to a log the test can read', async () => {
      const other = server.users[1]!
      await withSession(server, other, async (c) => c.command('NOOP'))
      const deadline = Date.now() + 5000
      while (!(await server.logTail(200)).includes(other.user) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
      expect(await server.logTail(200)).toContain(other.user)
      expect(server.logPath.startsWith(server.dir)).toBe(true)
    })
  })

  describe('lifecycle', () => {
    it('restart() keeps the port and the data, and drops open sessions', async () => {
      const server = await startServer(kind)
      try {
        const user = server.users[0]!.user
        const folder = folderName(server, 'Kept')
        await seedFolder(server, user, folder, 5)
        const before = await folderStatus(server, user, folder)
        const session = await openSession(server, user)
        await session.command(`SELECT ${mailboxArg(folder)}`)
        const {port, pid} = server
        await server.restart()
        expect(server.port).toBe(port)
        expect(server.pid).not.toBe(pid)
        await expect(session.command('NOOP')).rejects.toThrow(/closed/)
        session.close()
        expect(await folderStatus(server, user, folder)).toEqual(before)
      } finally {
        await server.stop()
      }
    })

    it('stops every process it started and no other, frees the port and removes its directory', async () => {
      const [a, b] = await Promise.all([startServer(kind), startServer(kind)])
      try {
        const session = await openSession(a, a.users[1]!) // a process per connection on some servers
        const aProcesses = ownProcesses(a)
        const bProcesses = ownProcesses(b)
        expect(aProcesses).toContain(a.pid)
        expect(bProcesses).toContain(b.pid)
        expect(aProcesses.filter((pid) => bProcesses.includes(pid))).toEqual([])
        await a.stop()
        session.close()
        expect(a.running).toBe(false)
        const alive = new Set(listProcesses().map((p) => p.pid))
        expect(aProcesses.filter((pid) => alive.has(pid))).toEqual([])
        expect(alive.has(b.pid)).toBe(true)
        expect(await isPortFree(a.port)).toBe(true)
        expect(existsSync(a.dir)).toBe(false)
        await withSession(b, b.users[0]!, async (c) => c.command('NOOP'))
        await a.stop() // twice is fine
      } finally {
        await Promise.all([a.stop(), b.stop()])
      }
    })
  })
})

/** PIDs of the instance's processes, as its harness finds them. */
function ownProcesses(server: TestServer): number[] {
  return server.processes().map((p) => p.pid)
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
