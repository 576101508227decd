// `local repair` against a real Dovecot (docs/repair.md): a folder backed up from the server
// (the corpus and generated messages, with flags) whose `.imap` is deleted, truncated or garbled
// comes back with the server's UIDs and flags and byte-exact messages; the damaged file is kept
// aside; a following backup downloads nothing. Also: the server unreachable, a torn tail, an
// imap-backup crash tail, --dry-run.
import {appendFile, mkdir, readdir, readFile, stat, truncate, unlink, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it, onTestFinished} from 'vitest'
import type {Config} from '../../src/config/index.js'
import {repairAccount, type RepairOptions, type RepairReport} from '../../src/engine/repair/repair.js'
import {silentContext} from '../../src/shared/context.js'
import {silentLogger} from '../../src/shared/logger.js'
import {FolderStore} from '../../src/store/folder-store.js'
import {toStoredFlags} from '../../src/store/flags.js'
import {checkFolder} from '../../src/store/integrity.js'
import {UNVERIFIED_UID_VALIDITY} from '../../src/store/rebuild.js'
import {loadCorpus} from '../fixtures/corpus.js'
import {startDovecot, type DovecotInstance, type TestUser} from '../support/dovecot.js'
import {appendMessages, createFolder, expunge, fetchMessages, folderStatus, seedMessage, serverAt, setFlags, type FetchedMessage} from '../support/mail-seed.js'
import {startProxy, type TcpProxy} from '../support/tcp-proxy.js'
import {testTempDir} from '../support/temp-dir.js'
import {accountEntry, backup, FAST_RETRY, hashTree, imapBackupEntry, stored, writeConfig} from './helpers.js'

const FOLDER = 'Corpus'
const AT = new Date(Date.UTC(2026, 10, 22, 10, 11, 12))
const STAMP = '20261122T101112Z'

let dc: DovecotInstance
let user: TestUser
let proxy: TcpProxy
/** What the server holds in FOLDER: the expected result of every verified repair. */
let server: FetchedMessage[]

beforeAll(async () => {
  dc = await startDovecot()
  user = dc.users[0]!
  proxy = await startProxy({targetPort: dc.port})
  await createFolder(dc, user, FOLDER)
  const corpus = loadCorpus()
  const flags = [[], ['\\Seen'], ['\\Seen', '\\Flagged', '$Label1'], ['\\Answered', '\\Draft'], ['$Forwarded']]
  await appendMessages(
    dc,
    user,
    FOLDER,
    corpus.map((m, i) => ({raw: m.raw, flags: flags[i % flags.length]!, internalDate: new Date(Date.UTC(2022, 5, 1) + i * 3_600_000)})),
  )
  await appendMessages(dc, user, FOLDER, Array.from({length: 12}, (_, i) => seedMessage(i)))
  server = await fetchMessages(dc, user, FOLDER)
})

afterAll(async () => {
  await proxy?.close()
  await dc?.stop()
})

interface Setup {
  home: string
  root: string
  config: Config
  imap: string
  mbox: string
}

/** A fresh backup of FOLDER (through the proxy, so later runs can be counted). */
async function backedUp(): Promise<Setup> {
  const home = await testTempDir('mailkeep-repair-')
  const root = join(home, 'backup')
  const config = await writeConfig(home, [accountEntry(serverAt(dc, proxy.port), user, root, {folders: [FOLDER]})])
  const report = await backup(config)
  expect(report.exitCode).toBe(0)
  return {home, root, config, imap: join(root, `${FOLDER}.imap`), mbox: join(root, `${FOLDER}.mbox`)}
}

async function repair(s: Setup, options: Partial<RepairOptions> = {}): Promise<RepairReport> {
  return repairAccount({config: s.config, account: user.user, folder: FOLDER, dryRun: false, retry: FAST_RETRY, now: () => AT, ...options}, silentContext())
}

/** A repair while the proxy refuses every new connection: the server cannot be reached. */
async function repairOffline(s: Setup): Promise<RepairReport> {
  await proxy.refuseNew(true, 'refuse')
  try {
    return await repair(s)
  } finally {
    await proxy.refuseNew(false)
  }
}

/** The folder equals the server: UIDs, flags, and every message byte for byte. */
async function expectEqualsServer(root: string): Promise<void> {
  const current = await fetchMessages(dc, user, FOLDER)
  const local = await stored(root, FOLDER)
  expect(local.map((m) => m.uid)).toEqual(current.map((m) => m.uid))
  for (const [i, r] of current.entries()) {
    const l = local[i]!
    expect(l.flags, `flags of UID ${r.uid}`).toEqual([...toStoredFlags(r.flags)].sort())
    expect(l.exact, `UID ${r.uid} has an exactness record`).toBe(true)
    expect(l.bytes.equals(r.raw), `UID ${r.uid} is byte-exact`).toBe(true)
  }
}

/** A backup right after the repair downloads nothing: no body FETCH, nothing new. */
async function expectNothingDownloaded(s: Setup): Promise<void> {
  proxy.resetStats()
  const report = await backup(s.config)
  expect(report.exitCode).toBe(0)
  const folder = report.accounts[0]!.folders.find((f) => f.folder === FOLDER)!
  expect(folder.new).toBe(0)
  const bodies = proxy.commands.filter((c) => c.name === 'UID FETCH' && /BODY(\.PEEK)?\[/i.test(c.line))
  expect(bodies, bodies.map((c) => c.line).join('\n')).toEqual([])
}

describe.each([
  {damage: 'deleted', apply: async (s: Setup) => unlink(s.imap)},
  {damage: 'truncated', apply: async (s: Setup) => truncate(s.imap, Math.floor((await stat(s.imap)).size / 2))},
  {
    damage: 'garbled',
    apply: async (s: Setup) => {
      const bytes = await readFile(s.imap)
      bytes.fill(0x7a, 300, 900)
      await writeFile(s.imap, bytes)
    },
  },
])('a folder whose .imap was $damage', ({damage, apply}) => {
  it("is rebuilt with the server's UIDs and flags, byte-exact, the damaged file kept aside, and the next backup downloads nothing", async () => {
    const s = await backedUp()
    // The server's flags change after the backup: the repair takes the server's current ones.
    const changed = [server[0]!, server[5]!]
    await setFlags(dc, user, FOLDER, changed.map((m) => m.uid), ['\\Flagged'])
    onTestFinished(async () => {
      for (const m of changed) await setFlags(dc, user, FOLDER, [m.uid], m.flags)
    })
    const mboxBefore = await readFile(s.mbox)
    await apply(s)
    const damaged = damage === 'deleted' ? undefined : await readFile(s.imap)
    expect((await checkFolder(s.root, FOLDER)).some((f) => f.severity === 'error')).toBe(true)

    const report = await repair(s)
    expect(report.exitCode, JSON.stringify(report, null, 1)).toBe(0)
    const folder = report.folders[0]!
    expect(folder).toMatchObject({name: FOLDER, action: 'rebuilt', uids: 'verified', messages: server.length, matched: server.length, kept: [], notExact: 0, bodiesFetched: 0, tornBytes: 0})
    expect(folder.after).toEqual([])
    expect(await checkFolder(s.root, FOLDER)).toEqual([])
    expect(await readFile(s.mbox)).toEqual(mboxBefore)
    if (damaged !== undefined) {
      expect(folder.savedAside).toEqual([`${s.imap}.damaged-${STAMP}`])
      expect(await readFile(`${s.imap}.damaged-${STAMP}`)).toEqual(damaged)
    } else {
      expect(folder.savedAside).toEqual([])
    }
    await expectEqualsServer(s.root)
    await expectNothingDownloaded(s)
  })
})

describe('messages the server no longer has', () => {
  it('are kept under their salvaged UIDs, or UIDs below UIDNEXT that the server can never use again', async () => {
    const home = await testTempDir('mailkeep-repair-')
    const folder = 'Shrinking'
    await createFolder(dc, user, folder)
    const uids = await appendMessages(dc, user, folder, Array.from({length: 8}, (_, i) => seedMessage(100 + i)))
    const root = join(home, 'backup')
    const config = await writeConfig(home, [accountEntry(serverAt(dc, proxy.port), user, root, {folders: [folder]})])
    expect((await backup(config)).exitCode).toBe(0)
    await expunge(dc, user, folder, [uids[1]!, uids[4]!])
    await unlink(join(root, `${folder}.imap`))
    const report = await repairAccount({config, account: user.user, folder, dryRun: false, retry: FAST_RETRY}, silentContext())
    const f = report.folders[0]!
    expect(f).toMatchObject({action: 'rebuilt', uids: 'verified', matched: 6})
    expect(f.kept.map((k) => [k.uid, k.reason])).toEqual([
      [uids[1], 'not-on-server'],
      [uids[4], 'not-on-server'],
    ])
    expect(f.after).toEqual([])
    const local = await stored(root, folder)
    expect(local.map((m) => m.uid)).toEqual(uids)
    // The next backup keeps them (keep-all mode) and fetches nothing.
    proxy.resetStats()
    const next = await backup(config)
    expect(next.accounts[0]!.folders[0]!.new).toBe(0)
    expect((await stored(root, folder)).map((m) => m.uid)).toEqual(uids)
  })
})

describe('the server cannot be reached', () => {
  it('keeps every message under placeholder UIDs (reported as unmatched), exit 4; a later repair with the server verifies them', async () => {
    const s = await backedUp()
    const mboxBefore = await readFile(s.mbox)
    // All metadata is gone, the exactness file too (it would give the UIDs back: see below).
    await unlink(s.imap)
    await unlink(join(s.root, `${FOLDER}.mailkeep`))
    const report = await repairOffline(s)
    expect(report.server).toBe('unreachable')
    expect(report.exitCode).toBe(4)
    const f = report.folders[0]!
    expect(f).toMatchObject({action: 'rebuilt', uids: 'unverified', uidValidity: UNVERIFIED_UID_VALIDITY, messages: server.length, matched: 0})
    expect(f.kept).toHaveLength(server.length)
    expect(f.kept.every((k) => k.reason === 'placeholder')).toBe(true)
    // Without the server nor the exactness file, no message can be made byte-exact.
    expect(f.after.map((x) => x.code)).toEqual(['unverified-uids', 'not-byte-exact'])
    expect(f.notExact).toBe(server.length)
    expect(await readFile(s.mbox)).toEqual(mboxBefore)
    const local = await stored(s.root, FOLDER)
    expect(local).toHaveLength(server.length)
    // Every message is still there, read as imap-backup text: without the server there is no
    // exactness record (LF line ends, padding kept, imap-backup's unquoting of `>From`).
    const text = (b: Buffer): string => b.toString('latin1').replace(/\r\n/g, '\n').replace(/^>(>*From)/gm, '$1').replace(/\n+$/, '')
    for (const [i, m] of local.entries()) expect(text(m.bytes)).toBe(text(server[i]!.raw))

    const again = await repair(s)
    expect(again.folders[0]).toMatchObject({action: 'rebuilt', uids: 'verified', matched: server.length, kept: []})
    expect(again.folders[0]!.after).toEqual([])
    await expectEqualsServer(s.root)
    await expectNothingDownloaded(s)
  })
})

describe('the server cannot be reached, but the exactness file is there', () => {
  it("gives back the UIDs and the records of mailkeep's messages from it, verified by decoding, exit 0", async () => {
    const s = await backedUp()
    await unlink(s.imap)
    const report = await repairOffline(s)
    expect(report.server).toBe('unreachable')
    expect(report.exitCode).toBe(0)
    const f = report.folders[0]!
    expect(f).toMatchObject({action: 'rebuilt', uids: 'salvaged', messages: server.length, notExact: 0})
    expect(f.kept.every((k) => k.reason === 'salvaged-uid')).toBe(true)
    expect(f.after).toEqual([])
    // Flags were only in the lost .imap: the next backup with the server takes the server's (mirror
    // mode or --refresh); UIDs and bytes are right already.
    const local = await stored(s.root, FOLDER)
    expect(local.map((m) => m.uid)).toEqual(server.map((m) => m.uid))
    for (const [i, m] of local.entries()) {
      expect(m.exact).toBe(true)
      expect(m.bytes.equals(server[i]!.raw)).toBe(true)
    }
  })
})

describe("imap-backup's duplicate entries (compat §5.5)", () => {
  it('the second copy is kept; with no free UID below UIDNEXT it shares its twin\'s UID; nothing is downloaded', async () => {
    const s = await backedUp()
    const meta = JSON.parse(await readFile(s.imap, 'utf8'))
    const last = meta.messages[meta.messages.length - 1]
    const bytes = await readFile(s.mbox)
    await appendFile(s.mbox, bytes.subarray(last.offset, last.offset + last.length))
    meta.messages.push({...last, offset: last.offset + last.length})
    await writeFile(s.imap, JSON.stringify(meta))
    // The copy has no exactness record of its own (the exactness file binds one entry per row).
    expect((await checkFolder(s.root, FOLDER)).map((f) => f.code)).toEqual(['not-byte-exact', 'duplicate-uid'])
    const report = await repair(s)
    const f = report.folders[0]!
    expect(report.exitCode).toBe(0)
    expect(f).toMatchObject({action: 'rebuilt', uids: 'verified', matched: server.length, messages: server.length + 1})
    expect(f.kept).toEqual([expect.objectContaining({uid: last.uid, reason: 'duplicate'})])
    expect(f.after.map((x) => x.code)).toEqual(['duplicate-uid'])
    await expectNothingDownloaded(s)
  })
})

describe('placeholder UIDs from an earlier repair without the server', () => {
  it('are never taken for server UIDs: the messages are matched again', async () => {
    const home = await testTempDir('mailkeep-repair-')
    const folder = 'Offset'
    await createFolder(dc, user, folder)
    // UIDs that do not start at 1, so placeholders (1, 2, …) differ from the server's UIDs.
    const first = await appendMessages(dc, user, folder, Array.from({length: 4}, (_, i) => seedMessage(200 + i)))
    await expunge(dc, user, folder, first)
    const uids = await appendMessages(dc, user, folder, Array.from({length: 5}, (_, i) => seedMessage(300 + i)))
    const root = join(home, 'backup')
    const config = await writeConfig(home, [accountEntry(serverAt(dc, proxy.port), user, root, {folders: [folder]})])
    expect((await backup(config)).exitCode).toBe(0)
    await unlink(join(root, `${folder}.imap`))
    await unlink(join(root, `${folder}.mailkeep`)) // else its UIDs are salvaged
    const options = {config, account: user.user, folder, dryRun: false, retry: FAST_RETRY}
    await proxy.refuseNew(true, 'refuse')
    try {
      const offline = await repairAccount(options, silentContext())
      expect(offline.folders[0]!.kept.map((k) => k.uid)).toEqual([1, 2, 3, 4, 5])
    } finally {
      await proxy.refuseNew(false)
    }
    const online = await repairAccount(options, silentContext())
    expect(online.folders[0]).toMatchObject({uids: 'verified', matched: 5, kept: []})
    expect((await stored(root, folder)).map((m) => m.uid)).toEqual(uids)
    expect(online.folders[0]!.savedAside).toHaveLength(1)
  })
})

describe('the end of the mbox', () => {
  it('a torn last entry is copied aside and cut off', async () => {
    const s = await backedUp()
    const good = await readFile(s.mbox)
    const torn = Buffer.from('From someone@example.test Tue Mar  5 08:07:09 2024\nSubject: cut off in the midd')
    await appendFile(s.mbox, torn)
    const report = await repair(s)
    const f = report.folders[0]!
    expect(f).toMatchObject({action: 'indexed-tail', tornBytes: torn.length, messages: server.length})
    expect(f.savedAside).toEqual([`${s.mbox}.torn-${STAMP}`, `${s.imap}.damaged-${STAMP}`])
    expect(await readFile(`${s.mbox}.torn-${STAMP}`)).toEqual(torn)
    expect(await readFile(s.mbox)).toEqual(good)
    expect(f.after).toEqual([])
    await expectEqualsServer(s.root)
    await expectNothingDownloaded(s)
  })

  it("imap-backup's crash tail: the extra complete entries are indexed with the server's UIDs", async () => {
    // A folder as imap-backup writes it (its quoting, no exactness records), whose .imap lost
    // the last messages of a run (delay mode, killed before it wrote the metadata; compat §5.4).
    const home = await testTempDir('mailkeep-repair-')
    const root = join(home, 'backup')
    const config = await writeConfig(home, [accountEntry(serverAt(dc, proxy.port), user, root, {folders: [FOLDER]})])
    const entries = server.map((m) => imapBackupEntry(m.raw))
    const known = 20
    const messages: Array<{uid: number; offset: number; length: number; flags: string[]}> = []
    let offset = 0
    for (const [i, e] of entries.entries()) {
      if (i < known) messages.push({uid: server[i]!.uid, offset, length: e.length, flags: toStoredFlags(server[i]!.flags)})
      offset += e.length
    }
    await mkdir(root, {recursive: true, mode: 0o700})
    await writeFile(join(root, `${FOLDER}.mbox`), Buffer.concat(entries))
    const status = await folderStatus(dc, user, FOLDER)
    await writeFile(join(root, `${FOLDER}.imap`), JSON.stringify({version: 3, uid_validity: status.uidValidity, messages}))
    expect((await checkFolder(root, FOLDER)).map((f) => f.code)).toEqual(['mbox-longer', 'not-byte-exact'])

    const report = await repairAccount({config, account: user.user, folder: FOLDER, dryRun: false, retry: FAST_RETRY, now: () => AT}, silentContext())
    const f = report.folders[0]!
    expect(f).toMatchObject({action: 'indexed-tail', uids: 'verified', messages: server.length, matched: server.length - known, kept: []})
    // imap-backup's messages are not byte-exact, and local check says which.
    expect(f.after).toEqual([expect.objectContaining({code: 'not-byte-exact', severity: 'warning', uids: server.map((m) => m.uid)})])
    const local = await stored(root, FOLDER)
    expect(local.map((m) => m.uid)).toEqual(server.map((m) => m.uid))
    // imap-backup's entries stay imap-backup's: read with its rule, as its text.
    expect(local.every((m) => !m.exact)).toBe(true)
    expect(local.slice(known).map((m) => m.flags)).toEqual(server.slice(known).map((m) => [...toStoredFlags(m.flags)].sort()))
    proxy.resetStats()
    const next = await backup(config)
    expect(next.accounts[0]!.folders[0]!.new).toBe(0)
    expect(proxy.commands.filter((c) => c.name === 'UID FETCH' && /BODY(\.PEEK)?\[/i.test(c.line))).toEqual([])
  })
})

describe('an interrupted run', () => {
  it('is finished as the next backup would finish it', async () => {
    const s = await backedUp()
    const folder = await FolderStore.open(s.root, FOLDER, {mode: 'write', logger: silentLogger})
    const tx = await folder.begin({strategy: 'direct'})
    await tx.append({uid: 1000, flags: [], internalDate: null}, Buffer.from('Subject: committed before the crash\r\n\r\nx\r\n'))
    // The process dies here (kill -9): the journal and the appended bytes stay.
    const journal = await readFile(`${s.imap}.journal`)
    const mbox = await readFile(s.mbox)
    await tx.rollback()
    await folder.close()
    await writeFile(`${s.imap}.journal`, journal)
    await writeFile(s.mbox, mbox)
    expect((await checkFolder(s.root, FOLDER)).map((f) => f.code)).toEqual(['pending-journal'])
    const report = await repair(s)
    expect(report.folders[0]).toMatchObject({action: 'recovered', after: []})
    expect((await stored(s.root, FOLDER)).map((m) => m.uid)).toContain(1000)
  })
})

describe('--dry-run', () => {
  it('reports what it would do and writes nothing', async () => {
    const s = await backedUp()
    await truncate(s.imap, 100)
    await appendFile(s.mbox, 'From x\nSubject: torn')
    const before = await hashTree(s.root)
    const report = await repair(s, {dryRun: true})
    expect(report.dryRun).toBe(true)
    const f = report.folders[0]!
    expect(f).toMatchObject({action: 'rebuilt', uids: 'verified', matched: server.length, tornBytes: 'From x\nSubject: torn'.length, savedAside: []})
    expect(await hashTree(s.root)).toEqual(before)
    expect((await readdir(s.root)).sort()).toEqual(['.mailkeep-server-folders.json', '.mailkeep.lock', `${FOLDER}.imap`, `${FOLDER}.mailkeep`, `${FOLDER}.mbox`])
  })
})
