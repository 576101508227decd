// mailkeep survives imap-backup writing to its backup (docs/design.md, "The exactness file"):
// the old imap-backup cron job still runs after the switch. What imap-backup does to a folder is
// simulated from its format description (test/support/imap-backup-format.ts):
//
//  - a backup run: it rewrites `.imap` with only its own keys (mailkeep's are dropped) and
//    appends the new messages in its form;
//  - a mirror-mode deletion: it rewrites the whole folder, every kept message read with its
//    reader and written again with its writer, at new offsets.
//
// After each, mailkeep gives every message back right — its own byte for byte, imap-backup's as
// imap-backup reads them — `local check` says which are which, and the next backup goes on
// without downloading anything again or losing any exactness record.
import {readdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Config} from '../../src/config/index.js'
import {loadCorpus} from '../fixtures/corpus.js'
import {startDovecot, type DovecotInstance, type TestUser} from '../support/dovecot.js'
import {imapBackupRead, imapBackupWrite} from '../support/imap-backup-format.js'
import {appendMessages, createFolder, expunge, fetchMessages, type FetchedMessage} from '../support/mail-seed.js'
import {makeTempDir, removeTempDir} from '../support/temp-dir.js'
import {accountEntry, backup, imapBackupEntry, mailkeep, show, writeConfig} from './helpers.js'

const FOLDER = 'Shared'

let dc: DovecotInstance
let user: TestUser
let home: string
let root: string
let config: Config

/** Messages whose lines differ between the quoting rules: `>From:` quoted headers, a first-line envelope. */
const tricky = [
  'From: a@example.test\r\nSubject: forwarded\r\n\r\nBegin forwarded message:\r\n>From: b@example.test\r\n>>From: c@example.test\r\nFrom here on\r\n>From there\r\n',
  'From someone@example.test Tue Mar  5 08:07:09 2024\r\nFrom: d@example.test\r\nSubject: envelope\r\n\r\n>>>From x\r\nbye',
  'Subject: no line break at the end\r\nFrom: e@example.test\r\n\r\nlast line >From\r\n>From',
].map((t) => Buffer.from(t, 'latin1'))

beforeAll(async () => {
  dc = await startDovecot()
  user = dc.users[0]!
  home = await makeTempDir('mailkeep-ib-rewrite-')
  root = join(home, 'backup')
  await createFolder(dc, user, FOLDER)
  await appendMessages(dc, user, FOLDER, [...loadCorpus().map((m) => ({raw: m.raw})), ...tricky.map((raw) => ({raw, flags: ['\\Seen']}))])
  config = await writeConfig(home, [accountEntry(dc, user, root, {folders: [FOLDER]})])
  expect((await backup(config)).exitCode).toBe(0)
}, 120_000)

afterAll(async () => {
  await dc?.stop()
  if (home !== undefined) await removeTempDir(home)
})

interface ImapEntry {
  uid: number
  offset: number
  length: number
  flags: string[]
}

const paths = (): {imap: string; mbox: string; exact: string} => ({imap: join(root, `${FOLDER}.imap`), mbox: join(root, `${FOLDER}.mbox`), exact: join(root, `${FOLDER}.mailkeep`)})

/** What imap-backup keeps of a `.imap` it reads: its own keys (every other key is dropped when it writes). */
async function readAsImapBackup(): Promise<{uid_validity: number; messages: ImapEntry[]}> {
  const data = JSON.parse(await readFile(paths().imap, 'utf8')) as {uid_validity: number; messages: ImapEntry[]}
  return {uid_validity: data.uid_validity, messages: data.messages.map(({uid, offset, length, flags}) => ({uid, offset, length, flags}))}
}

async function writeAsImapBackup(uidValidity: number, messages: ImapEntry[]): Promise<void> {
  await writeFile(paths().imap, JSON.stringify({version: 3, uid_validity: uidValidity, messages}))
}

/** imap-backup's backup run: the server's new messages appended in its form, `.imap` rewritten. */
async function imapBackupRun(): Promise<number[]> {
  const meta = await readAsImapBackup()
  const known = new Set(meta.messages.map((m) => m.uid))
  const fresh = (await fetchMessages(dc, user, FOLDER)).filter((m) => !known.has(m.uid))
  let end = meta.messages.reduce((at, m) => Math.max(at, m.offset + m.length), 0)
  const entries: Buffer[] = []
  for (const m of fresh) {
    const entry = imapBackupEntry(m.raw)
    entries.push(entry)
    meta.messages.push({uid: m.uid, offset: end, length: entry.length, flags: m.flags.map((f) => f.replace(/^\\/, ''))})
    end += entry.length
  }
  await writeFile(paths().mbox, Buffer.concat([await readFile(paths().mbox), ...entries]))
  await writeAsImapBackup(meta.uid_validity, meta.messages)
  return fresh.map((m) => m.uid)
}

/** imap-backup's mirror-mode deletion: the folder rewritten, each kept message read and written again. */
async function imapBackupFilter(remove: ReadonlySet<number>): Promise<Map<number, Buffer>> {
  const meta = await readAsImapBackup()
  const mbox = await readFile(paths().mbox)
  const kept: ImapEntry[] = []
  const entries: Buffer[] = []
  const written = new Map<number, Buffer>()
  let offset = 0
  for (const m of meta.messages) {
    if (remove.has(m.uid)) continue
    const entry = imapBackupWrite(imapBackupRead(mbox.subarray(m.offset, m.offset + m.length)))
    entries.push(entry)
    written.set(m.uid, entry)
    kept.push({...m, offset, length: entry.length})
    offset += entry.length
  }
  await writeFile(paths().mbox, Buffer.concat(entries))
  await writeAsImapBackup(meta.uid_validity, kept)
  return written
}

interface Shown {
  uid: number
  exact: boolean
  bytes: Buffer
}

/** `mailkeep local show --json` for every UID of the folder, as bytes. */
async function showAll(uids: readonly number[]): Promise<Map<number, Shown>> {
  const r = await mailkeep(home, ['local', 'show', user.user, FOLDER, uids.join(','), '--json'])
  expect(r.code, show(r)).toBe(0)
  const out = new Map<number, Shown>()
  for (const m of JSON.parse(r.stdout) as Array<{uid: number; exact: boolean; body: string; body_base64?: string}>) {
    out.set(m.uid, {uid: m.uid, exact: m.exact, bytes: m.body_base64 === undefined ? Buffer.from(m.body, 'utf8') : Buffer.from(m.body_base64, 'base64')})
  }
  return out
}

interface CheckFindingJson {
  code: string
  severity: string
  message: string
  uids?: number[]
}

async function check(): Promise<{code: number | null; findings: CheckFindingJson[]}> {
  const r = await mailkeep(home, ['local', 'check', '--json'])
  const folder = (JSON.parse(r.stdout) as Array<{folders: Array<{name: string; result: string; findings: CheckFindingJson[]}>}>)[0]!.folders.find((f) => f.name === FOLDER)!
  expect(folder.result).toBe('OK')
  return {code: r.code, findings: folder.findings}
}

/** Every message: mailkeep's byte for byte as the server has it, the others as imap-backup reads `entryOf(uid)`. */
async function expectEveryMessageRight(server: FetchedMessage[], own: ReadonlySet<number>, entryOf: (uid: number) => Buffer): Promise<void> {
  const shown = await showAll(server.map((m) => m.uid))
  for (const m of server) {
    const got = shown.get(m.uid)!
    if (own.has(m.uid)) {
      expect(got.exact, `UID ${m.uid} is mailkeep's`).toBe(true)
      expect(got.bytes.equals(m.raw), `UID ${m.uid} byte-exact`).toBe(true)
    } else {
      expect(got.exact, `UID ${m.uid} is imap-backup's`).toBe(false)
      expect(got.bytes.toString('latin1'), `UID ${m.uid} as imap-backup reads it`).toBe(imapBackupRead(entryOf(m.uid)).toString('latin1'))
    }
  }
}

describe('imap-backup writes to a mailkeep backup', () => {
  let ownUids: Set<number>
  let ibUids: number[]

  it('a backup run of imap-backup: mailkeep gives back its own messages byte-exact and imap-backup’s as imap-backup reads them', async () => {
    ownUids = new Set((await fetchMessages(dc, user, FOLDER)).map((m) => m.uid))
    await appendMessages(dc, user, FOLDER, [...tricky.map((raw) => ({raw})), {raw: loadCorpus()[0]!.raw}])
    ibUids = await imapBackupRun()
    expect(ibUids).toHaveLength(tricky.length + 1)
    const text = await readFile(paths().imap, 'utf8')
    expect(text).not.toContain('"mailkeep"')

    const server = await fetchMessages(dc, user, FOLDER)
    const mbox = await readFile(paths().mbox)
    const meta = await readAsImapBackup()
    const entryOf = (uid: number): Buffer => {
      const m = meta.messages.find((x) => x.uid === uid)!
      return mbox.subarray(m.offset, m.offset + m.length)
    }
    await expectEveryMessageRight(server, ownUids, entryOf)

    const {code, findings} = await check()
    expect(code).toBe(0)
    expect(findings).toEqual([expect.objectContaining({code: 'not-byte-exact', severity: 'warning', uids: ibUids})])
    expect(findings[0]!.message).toContain(`${ibUids.length} of ${server.length} message(s) are not byte-exact`)
    expect(findings[0]!.message).toContain('written by imap-backup or another tool')
  })

  it('the next mailkeep backup downloads nothing, writes its keys again and keeps every record', async () => {
    const rowsBefore = (JSON.parse(await readFile(paths().exact, 'utf8')) as {messages: unknown[]}).messages
    const report = await backup(config)
    expect(report.exitCode).toBe(0)
    expect(report.accounts[0]!.folders.find((f) => f.folder === FOLDER)!.new).toBe(0)
    const data = JSON.parse(await readFile(paths().imap, 'utf8')) as {mailkeep: {format: number; exact: number}}
    expect(data.mailkeep).toMatchObject({format: 2, exact: ownUids.size})
    expect((JSON.parse(await readFile(paths().exact, 'utf8')) as {messages: unknown[]}).messages).toEqual(rowsBefore)
    const {findings} = await check()
    expect(findings.map((f) => [f.code, f.uids])).toEqual([['not-byte-exact', ibUids]])
  })

  it('a mirror-mode rewrite by imap-backup: every record stops matching, nothing is guessed, and local check says so', async () => {
    const removed = [...ownUids][3]!
    await expunge(dc, user, FOLDER, [removed])
    const written = await imapBackupFilter(new Set([removed]))
    const server = await fetchMessages(dc, user, FOLDER)
    // The first entries may keep their offsets (nothing before them changed), and those whose
    // bytes imap-backup wrote back unchanged still decode exactly with their records; every other
    // one is read as imap-backup's.
    const shown = await showAll(server.map((m) => m.uid))
    const moved: number[] = []
    for (const m of server) {
      const got = shown.get(m.uid)!
      if (got.exact) expect(got.bytes.equals(m.raw), `UID ${m.uid}`).toBe(true)
      else expect(got.bytes.toString('latin1'), `UID ${m.uid}`).toBe(imapBackupRead(written.get(m.uid)!).toString('latin1'))
      if (!got.exact && ownUids.has(m.uid)) moved.push(m.uid)
    }
    expect(moved.length).toBeGreaterThan(ownUids.size / 2)
    const {code, findings} = await check()
    expect(code).toBe(0)
    expect(findings).toHaveLength(1)
    expect(findings[0]!.uids).toEqual([...moved, ...ibUids].sort((a, b) => a - b))
    expect(findings[0]!.message).toContain(`${moved.length} changed by another tool since mailkeep stored them, so their exactness records no longer match`)

    // The next backup rewrites the exactness file, keeping the old one aside (never dropped).
    const before = await readFile(paths().exact)
    expect((await backup(config)).exitCode).toBe(0)
    const aside = (await readdir(root)).filter((n) => n.startsWith(`${FOLDER}.mailkeep.unmatched-`))
    expect(aside).toHaveLength(1)
    expect(await readFile(join(root, aside[0]!))).toEqual(before)
    const after = await check()
    expect(after.findings[0]!.uids).toEqual([...moved, ...ibUids].sort((a, b) => a - b))
  })
})
