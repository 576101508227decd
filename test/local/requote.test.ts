// `mailkeep local requote` end to end (the CLI from dist/): a backup written by mailkeep 0.1.0
// (strict quoting, records in `.imap`) is converted on request only, so that imap-backup reads
// its `>From:` lines right; every message still reads back byte for byte; --dry-run changes
// nothing. No server is needed (nothing is asked of it).
import {mkdir, readdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {encodeMessage} from '../../src/store/mboxrd/index.js'
import {imapBackupRead} from '../support/imap-backup-format.js'
import {makeTempDir, removeTempDir} from '../support/temp-dir.js'
import {hashTree, mailkeep, mailkeepBytes, show, writeConfig} from './helpers.js'

const EMAIL = 'old@example.test'
let home: string
let root: string

/** Messages with lines the two quoting rules write differently, and one they write alike. */
const messages = [
  Buffer.from('From: a@example.test\r\nSubject: forwarded\r\n\r\n>From: b@example.test\r\n>>From: c@example.test\r\nFrom here\r\n'),
  Buffer.from('Subject: plain\r\n\r\nFrom the start\r\n>From quoted\r\n'),
  Buffer.from('Subject: last\r\n\r\nends with\r\n>From'),
]

beforeAll(async () => {
  home = await makeTempDir('mailkeep-requote-')
  root = join(home, 'backup')
  await writeConfig(home, [{username: EMAIL, password: 'unused', server: '127.0.0.1', connection_options: {port: 9, ssl: false}, local_path: root}])
  // The folder as mailkeep 0.1.0 wrote it.
  const entries = messages.map((m) => encodeMessage(m, {quoting: 'strict'}))
  let offset = 0
  const list: object[] = []
  const records: unknown[] = []
  for (const [i, {entry, record}] of entries.entries()) {
    list.push({uid: i + 1, offset, length: entry.length, flags: ['Seen']})
    records.push([i + 1, record.size, 1_700_000_000 + i, record.appended, record.eol])
    offset += entry.length
  }
  await mkdir(root, {recursive: true, mode: 0o700})
  await writeFile(join(root, 'INBOX.mbox'), Buffer.concat(entries.map((e) => e.entry)), {mode: 0o600})
  await writeFile(join(root, 'INBOX.imap'), JSON.stringify({version: 3, uid_validity: 5, mailkeep: {format: 1, quoting: 'mboxrd', uidnext: 4}, messages: list, mailkeep_messages: records}), {mode: 0o600})
}, 60_000)

afterAll(async () => {
  if (home !== undefined) await removeTempDir(home)
})

/** imap-backup's reading of each entry of the folder, by UID. */
async function readByImapBackup(): Promise<string[]> {
  const meta = JSON.parse(await readFile(join(root, 'INBOX.imap'), 'utf8')) as {messages: Array<{offset: number; length: number}>}
  const mbox = await readFile(join(root, 'INBOX.mbox'))
  return meta.messages.map((m) => imapBackupRead(mbox.subarray(m.offset, m.offset + m.length)).toString('latin1'))
}

const asImapBackupText = (m: Buffer): string => {
  const text = m.toString('latin1').replace(/\r\n/g, '\n')
  return text.endsWith('\n') ? `${text}\n` : `${text}\n\n`
}

describe('local requote', () => {
  it('--dry-run counts what would change and writes nothing', async () => {
    const before = await hashTree(root)
    const r = await mailkeep(home, ['local', 'requote', EMAIL, '--dry-run', '--json'])
    expect(r.code, show(r)).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual({account: EMAIL, dryRun: true, folders: [{name: 'INBOX', strict: 3, rewritten: 2, bytesAdded: 3, error: null}], exitCode: 0})
    expect(await hashTree(root)).toEqual(before)
    // imap-backup misreads the first message's `>From:` lines today.
    expect((await readByImapBackup())[0]).not.toBe(asImapBackupText(messages[0]!))
  })

  it('converts: every message reads back byte for byte, and imap-backup now reads each one right', async () => {
    const r = await mailkeep(home, ['local', 'requote', EMAIL])
    expect(r.code, show(r)).toBe(0)
    expect(r.stdout).toBe('Account: old@example.test\n\tINBOX: 3 messages quoted by mailkeep 0.1.0: 2 messages were rewritten (+3 bytes), the others only marked\n')
    expect(await readByImapBackup()).toEqual(messages.map(asImapBackupText))
    for (const [i, m] of messages.entries()) {
      const shown = await mailkeepBytes(home, ['local', 'show', EMAIL, 'INBOX', String(i + 1)])
      expect(shown.code).toBe(0)
      expect(shown.stdout.equals(m), `UID ${i + 1}`).toBe(true)
    }
    const check = await mailkeep(home, ['local', 'check', '--json'])
    expect(check.code, show(check)).toBe(0)
    expect(JSON.parse(check.stdout)[0].folders).toEqual([{name: 'INBOX', result: 'OK', findings: []}])
    expect((await readdir(root)).sort()).toEqual(['.mailkeep.lock', 'INBOX.imap', 'INBOX.mailkeep', 'INBOX.mbox'])
    const again = await mailkeep(home, ['local', 'requote', EMAIL, 'INBOX'])
    expect(again.stdout).toContain('INBOX: nothing to convert')
  })

  it('an unknown folder is a usage error', async () => {
    const r = await mailkeep(home, ['local', 'requote', EMAIL, 'Nope'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("Folder 'Nope' not found")
  })
})
