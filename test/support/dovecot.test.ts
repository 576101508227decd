// The Dovecot harness against the real server: both namespace flavours, seeding, byte-exact
// round trips, UIDVALIDITY changes, capability overrides, restart and clean shutdown.
import {execFile} from 'node:child_process'
import {existsSync} from 'node:fs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {loadCorpus, toCrlf} from '../fixtures/corpus.js'
import {startDovecot, type DovecotInstance, type DovecotOptions} from './dovecot.js'
import {
  addFlags,
  appendMessages,
  createFolder,
  deleteFolder,
  expunge,
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
  seedMessage,
  serverAt,
  setFlags,
  withSession,
} from './mail-seed.js'
import {isPortFree} from './ports.js'
import {startProxy} from './tcp-proxy.js'
import {ImapCommandError, RawImapClient} from './raw-imap.js'

/** `pgrep -f pattern`: the PIDs of matching processes (pgrep exits 1 when there are none). */
function pgrep(pattern: string): Promise<number[]> {
  return new Promise((resolve, reject) => {
    execFile('pgrep', ['-f', pattern], (error, stdout) => {
      if (error && error.code !== 1) reject(error)
      else resolve(stdout.split('\n').filter(Boolean).map(Number))
    })
  })
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const FLAVOURS: Array<{title: string; options: DovecotOptions; namespace: string}> = [
  {title: "separator '/' without prefix", options: {separator: '/'}, namespace: '* NAMESPACE (("" "/")) NIL NIL'},
  {title: "separator '.' with prefix INBOX.", options: {separator: '.', prefix: 'INBOX.'}, namespace: '* NAMESPACE (("INBOX." ".")) NIL NIL'},
]

describe.each(FLAVOURS)('Dovecot with $title', ({options, namespace}) => {
  let dc: DovecotInstance
  let user: string

  beforeAll(async () => {
    dc = await startDovecot(options)
    user = dc.users[0]!.user
  })
  afterAll(async () => {
    await dc?.stop()
  })

  it('announces its namespace and separator', async () => {
    const untagged = await withSession(dc, user, async (c) => (await c.command('NAMESPACE')).untagged)
    expect(untagged.map((r) => r.raw.toString().trimEnd())).toEqual([namespace])
    const child = folderName(dc, 'Projects', 'Alpha')
    await createFolder(dc, user, child)
    const folders = await listFolders(dc, user)
    expect(folders.find((f) => f.name === child)).toMatchObject({delimiter: dc.separator})
    expect(folders.find((f) => f.name === 'INBOX')).toMatchObject({delimiter: dc.separator})
  })

  it('accepts LOGIN for every user and refuses a wrong password', async () => {
    expect(dc.users.length).toBeGreaterThanOrEqual(3)
    for (const u of dc.users) {
      const session = await openSession(dc, u)
      expect(session.capabilities.has('IMAP4REV1')).toBe(true)
      await session.logout()
    }
    const client = await RawImapClient.connect({host: dc.host, port: dc.port})
    await expect(client.login(user, 'wrong password')).rejects.toThrow(/AUTHENTICATIONFAILED/)
    await client.logout()
  })

  it('returns each corpus message exactly as appended, with its flags and internal date', async () => {
    const folder = folderName(dc, 'Corpus')
    await createFolder(dc, user, folder)
    const corpus = loadCorpus()
    const appended = corpus.map((m, i) => ({
      raw: m.raw,
      flags: i % 2 === 0 ? ['\\Seen', '$Label1'] : ['\\Flagged', '\\Answered'],
      internalDate: new Date(Date.UTC(2021, 2, 14, 12, 30, 45) + i * 3_600_000),
    }))
    const uids = await appendMessages(dc, user, folder, appended)
    const fetched = await fetchMessages(dc, user, folder)
    expect(fetched.map((m) => m.uid)).toEqual(uids)
    const changed: string[] = []
    for (const [i, message] of fetched.entries()) {
      const sent = appended[i]!
      // Dovecot stores messages with LF line ends (mail_save_crlf = no) and converts every
      // bare LF to CRLF in BODY[] (IMAP wants CRLF, RFC 3501 §2.2). So LF-only and mixed
      // messages come back with CRLF everywhere, bare CRs stay, nothing is added at the end
      // (no trailing newline stays so). A message with CRLF only comes back byte-identical.
      // mailkeep stores what BODY.PEEK[] returned, which for Dovecot is toCrlf(original).
      const expected = toCrlf(sent.raw)
      expect(message.raw.equals(expected), `${corpus[i]!.name} differs`).toBe(true)
      if (!message.raw.equals(sent.raw)) changed.push(corpus[i]!.name)
      expect([...message.flags].sort()).toEqual([...sent.flags].sort())
      expect(message.internalDate.toISOString()).toBe(sent.internalDate.toISOString())
    }
    expect(changed).toEqual(['06-mutt-lf', '10-mixed-line-endings', '24-lf-from-lines'])
  })

  it('seeds 2,000 messages with one MULTIAPPEND on one connection', async () => {
    // What makes seeding fast (docs/testing.md has the timings): one APPEND command, so one
    // Dovecot transaction, instead of one per message. Checked by what was sent, not by a clock.
    const folder = folderName(dc, 'Seeded')
    const proxy = await startProxy({targetPort: dc.port})
    let uids: number[]
    try {
      uids = await seedFolder(serverAt(dc, proxy.port), user, folder, 2000)
      expect(proxy.stats.connections).toBe(1)
      expect(proxy.commandNames().filter((name) => name === 'APPEND')).toHaveLength(1)
      expect(proxy.commands.find((c) => c.name === 'APPEND')!.line).toMatch(/ APPEND \S+ .*\{\d+\+?\}$/)
    } finally {
      await proxy.close()
    }
    expect(uids).toEqual(Array.from({length: 2000}, (_, i) => i + 1))
    expect(await listUids(dc, user, folder)).toEqual(uids)
    const status = await folderStatus(dc, user, folder)
    expect(status).toMatchObject({messages: 2000, uidNext: 2001})
    expect(status.highestModseq).toBeGreaterThan(0n)
    const [first] = await fetchMessages(dc, user, folder, [1])
    expect(first!.raw.equals(seedMessage(0).raw)).toBe(true)
  })

  it('shows expunges and flag changes', async () => {
    const folder = folderName(dc, 'Changes')
    const uids = await seedFolder(dc, user, folder, 10, () => ({raw: Buffer.from('Subject: x\r\n\r\nbody\r\n'), flags: []}))
    const before = await folderStatus(dc, user, folder)
    await expunge(dc, user, folder, [uids[1]!, uids[3]!])
    await setFlags(dc, user, folder, [uids[0]!], ['\\Seen', '$Important'])
    await addFlags(dc, user, folder, [uids[4]!, uids[5]!], ['\\Flagged'])
    await removeFlags(dc, user, folder, [uids[5]!], ['\\Flagged'])
    expect(await listUids(dc, user, folder)).toEqual(uids.filter((_, i) => i !== 1 && i !== 3))
    const messages = await fetchMessages(dc, user, folder)
    const flags = Object.fromEntries(messages.map((m) => [m.uid, [...m.flags].sort()]))
    expect(flags[uids[0]!]).toEqual(['$Important', '\\Seen'])
    expect(flags[uids[4]!]).toEqual(['\\Flagged'])
    expect(flags[uids[5]!]).toEqual([])
    const after = await folderStatus(dc, user, folder)
    expect(after.messages).toBe(8)
    expect(after.highestModseq! > before.highestModseq!).toBe(true)
  })

  it('makes a forced UIDVALIDITY change visible to clients', async () => {
    const folder = folderName(dc, 'Rebuilt')
    await seedFolder(dc, user, folder, 3)
    const selected = await openSession(dc, user)
    await selected.command(`SELECT "${folder}"`)
    const {before, after} = await forceUidValidityChange(dc, user, folder)
    expect(after).toBeGreaterThan(before)
    // A fresh session sees the new value; UIDs and UIDNEXT are unchanged (doveadm only rewrites
    // the index header).
    expect(await folderStatus(dc, user, folder)).toMatchObject({uidValidity: after, uidNext: 4, messages: 3})
    expect(await listUids(dc, user, folder)).toEqual([1, 2, 3])
    // A session that had the folder selected is disconnected by Dovecot.
    await expect(selected.command('NOOP')).rejects.toThrow(/closed/)
    selected.close()
  })

  it('forces a UIDVALIDITY that Dovecot never gives a folder created afterwards (RFC 3501 §2.3.1.1)', async () => {
    // The sequence test's seed 1695797241: a forced change, then the folder deleted and created
    // again within a second. Dovecot numbers a new folder max(now, its last value + 1); a forced
    // "current + 1" was that very value, so the new, different folder had the old UIDVALIDITY.
    const folder = folderName(dc, 'A&B again')
    await seedFolder(dc, user, folder, 2)
    const created = (await folderStatus(dc, user, folder)).uidValidity
    const {after: forced} = await forceUidValidityChange(dc, user, folder)
    await deleteFolder(dc, user, folder)
    await createFolder(dc, user, folder)
    const recreated = (await folderStatus(dc, user, folder)).uidValidity
    expect([created, forced]).not.toContain(recreated)
    // No scratch folder is left behind.
    expect((await listFolders(dc, user)).map((f) => f.name).filter((n) => n.includes('mailkeep-uidvalidity'))).toEqual([])
  })

  it('creates, renames and deletes folders, including non-ASCII names', async () => {
    const original = folderName(dc, 'Entwürfe & Pläne')
    const renamed = folderName(dc, '日本語')
    await createFolder(dc, user, original)
    let names = (await listFolders(dc, user)).map((f) => f.name)
    expect(names).toContain(original)
    const raw = (await listFolders(dc, user)).find((f) => f.name === original)!.rawName
    expect(raw).toBe(folderName(dc, 'Entw&APw-rfe &- Pl&AOQ-ne'))
    await renameFolder(dc, user, original, renamed)
    names = (await listFolders(dc, user)).map((f) => f.name)
    expect(names).toContain(renamed)
    expect(names).not.toContain(original)
    await deleteFolder(dc, user, renamed)
    expect((await listFolders(dc, user)).map((f) => f.name)).not.toContain(renamed)
    await expect(deleteFolder(dc, user, renamed)).rejects.toThrow(ImapCommandError)
  })

  it('answers doveadm for the same data', async () => {
    const folder = folderName(dc, 'Doveadm')
    await seedFolder(dc, user, folder, 5)
    const {stdout} = await dc.doveadm(['mailbox', 'status', '-u', user, 'messages uidnext', folder])
    expect(stdout.trim()).toBe(`${folder} messages=5 uidnext=6`)
  })
})

describe('Dovecot lifecycle', () => {
  it('stops without leaving a process, the port or the directory behind', async () => {
    const dc = await startDovecot()
    const session = await openSession(dc, dc.users[1]!) // an imap child process exists now
    const masterPid = dc.pid
    expect(await pgrep(dc.confPath)).toEqual([masterPid])
    expect((await pgrep(`dovecot-${dc.instanceName}/`)).length).toBeGreaterThan(2)
    await dc.stop()
    session.close()
    expect(dc.running).toBe(false)
    expect(await pgrep(dc.confPath)).toEqual([])
    expect(await pgrep(dc.instanceName)).toEqual([])
    expect(await isPortFree(dc.port)).toBe(true)
    expect(existsSync(dc.dir)).toBe(false)
    await dc.stop() // twice is fine
  })

  it('restart() keeps the port and the data, and drops open sessions', async () => {
    const dc = await startDovecot()
    try {
      const user = dc.users[0]!.user
      await seedFolder(dc, user, 'Kept', 25)
      const before = await folderStatus(dc, user, 'Kept')
      const session = await openSession(dc, user)
      const {port, pid} = dc
      await dc.restart()
      expect(dc.port).toBe(port)
      expect(dc.pid).not.toBe(pid)
      expect(alive(pid)).toBe(false)
      await expect(session.command('NOOP')).rejects.toThrow(/closed/)
      session.close()
      expect(await folderStatus(dc, user, 'Kept')).toEqual(before)
      expect(await listUids(dc, user, 'Kept')).toHaveLength(25)
    } finally {
      await dc.stop()
    }
  })

  it('starts again on a kept directory with the same mail', async () => {
    const first = await startDovecot({separator: '.'})
    const user = first.users[0]!.user
    await seedFolder(first, user, 'INBOX.Old', 3)
    await first.stop({keepDir: true})
    const second = await startDovecot({separator: '.', dir: first.dir})
    try {
      expect(await listUids(second, user, 'INBOX.Old')).toEqual([1, 2, 3])
    } finally {
      await second.stop()
    }
    expect(existsSync(first.dir)).toBe(true) // a directory passed in is never removed
    const {removeTempDir} = await import('./temp-dir.js')
    await removeTempDir(first.dir)
  })

  it('hides CONDSTORE, QRESYNC, LIST-STATUS and UIDPLUS with a capability override', async () => {
    const dc = await startDovecot({capabilities: 'IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ NAMESPACE MULTIAPPEND CHILDREN UNSELECT'})
    try {
      const session = await openSession(dc, dc.users[0]!)
      const caps = await session.refreshCapabilities()
      await session.logout()
      for (const hidden of ['CONDSTORE', 'QRESYNC', 'LIST-STATUS', 'UIDPLUS', 'ESEARCH', 'MOVE']) expect(caps.has(hidden), hidden).toBe(false)
      expect(caps.has('MULTIAPPEND')).toBe(true)
      // Only the announcement changes: Dovecot still answers the hidden extensions when asked
      // (e.g. it still sends APPENDUID). A well-behaved client never asks; tests of the
      // fallbacks must not rely on the server refusing.
      const uids = await appendMessages(dc, dc.users[0]!.user, 'INBOX', [{raw: seedMessage(1).raw}, {raw: seedMessage(2).raw}])
      expect(uids).toEqual([1, 2])
      expect((await folderStatus(dc, dc.users[0]!.user, 'INBOX')).highestModseq).toBeUndefined()
    } finally {
      await dc.stop()
    }
  })

  it('fails with the log tail, and cleans up, when Dovecot cannot start', async () => {
    const error: Error = await startDovecot({extraConfig: 'no_such_setting = 1'}).then(
      () => new Error('started'),
      (e: Error) => e,
    )
    expect(error.message).toMatch(/exited during start-up/)
    expect(error.message).toMatch(/no_such_setting/)
    const confPath = /dovecot -F -c (\S+)/.exec(error.message)?.[1]
    expect(confPath).toBeDefined()
    expect(await pgrep(confPath!)).toEqual([])
    expect(existsSync(confPath!)).toBe(false)
  })

  it('runs side by side on different ports, with other storage formats', async () => {
    const [a, b] = await Promise.all([startDovecot({storage: 'sdbox'}), startDovecot({separator: '.', storage: 'maildir'})])
    try {
      expect(a.port).not.toBe(b.port)
      for (const dc of [a, b]) {
        const user = dc.users[0]!.user
        const folder = folderName(dc, 'Sub', 'Deeper')
        const raw = loadCorpus()[0]!.raw
        const [uid] = await appendMessages(dc, user, 'INBOX', [{raw, flags: ['\\Seen'], internalDate: new Date('2022-02-02T02:02:02Z')}])
        const [message] = await fetchMessages(dc, user, 'INBOX', [uid!])
        expect(message).toMatchObject({flags: ['\\Seen'], internalDate: new Date('2022-02-02T02:02:02Z')})
        expect(message!.raw.equals(raw)).toBe(true)
        await createFolder(dc, user, folder)
        expect((await listFolders(dc, user)).map((f) => f.name)).toContain(folder)
      }
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })
})
