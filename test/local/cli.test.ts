// The `local` commands end to end (compat §9.2 items 66–87 and mailkeep's additions): the real
// CLI (`bin/run.js`, built in dist/) with HOME in a temp dir and a 0600 config, on a backup made
// by the real engine from a private Dovecot.
import {mkdir, readdir, readFile, rename, symlink, truncate, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {corpusMessage} from '../fixtures/corpus.js'
import {startDovecot, type DovecotInstance, type TestUser} from '../support/dovecot.js'
import {appendMessages, createFolder, fetchMessages, type FetchedMessage} from '../support/mail-seed.js'
import {makeTempDir, removeTempDir} from '../support/temp-dir.js'
import {accountEntry, backup, hashTree, imapBackupEntry, mailkeep, mailkeepBytes, show, writeConfig} from './helpers.js'

let dc: DovecotInstance
let user: TestUser
let home: string
let root: string
let messages: FetchedMessage[]
const ciao = Buffer.from('From: sender@example.com\r\nSubject: Ciao\r\n\r\nbody\r\n\r\n')

beforeAll(async () => {
  dc = await startDovecot()
  user = dc.users[0]!
  home = await makeTempDir('mailkeep-local-cli-')
  root = join(home, 'backup')
  await createFolder(dc, user, 'my_folder')
  await appendMessages(dc, user, 'my_folder', [
    {raw: ciao, flags: ['\\Seen']},
    {raw: corpusMessage('08-rfc2047-encoded-headers').raw},
    {raw: corpusMessage('07-latin1-8bit-body').raw, flags: ['\\Flagged', '$Work']},
    {raw: corpusMessage('18-no-from-no-date').raw},
  ])
  await createFolder(dc, user, 'Work: 2024')
  await appendMessages(dc, user, 'Work: 2024', [{raw: ciao}])
  messages = await fetchMessages(dc, user, 'my_folder')
  const config = await writeConfig(home, [accountEntry(dc, user, root, {folders: ['my_folder', 'Work: 2024']}), {username: 'archived@example.test', password: 'x', status: 'archived', local_path: join(home, 'none')}])
  expect((await backup(config)).exitCode).toBe(0)
  // A folder as imap-backup wrote it: its quoting, no exactness records.
  const entry = imapBackupEntry(ciao)
  await writeFile(join(root, 'legacy.mbox'), entry)
  await writeFile(join(root, 'legacy.imap'), JSON.stringify({version: 3, uid_validity: 1, messages: [{uid: 99, offset: 0, length: entry.length, flags: ['Seen']}]}))
}, 120_000)

afterAll(async () => {
  await dc?.stop()
  if (home !== undefined) await removeTempDir(home)
})

describe('local accounts (76–78)', () => {
  it('lists every configured username, whatever its status', async () => {
    const r = await mailkeep(home, ['local', 'accounts'])
    expect(r.code, show(r)).toBe(0)
    expect(r.stdout).toBe(`${user.user}\narchived@example.test\n`)
  })

  it('--json and --format json', async () => {
    for (const flag of ['--json', '--format=json']) {
      const r = await mailkeep(home, ['local', 'accounts', flag])
      expect(JSON.parse(r.stdout)).toEqual([{username: user.user}, {username: 'archived@example.test'}])
    }
  })

  it('--config uses the other file', async () => {
    const other = join(home, 'other.json')
    await writeFile(other, JSON.stringify({version: '2.2', accounts: [{username: 'me@example.com', password: 'p'}]}), {mode: 0o600})
    const r = await mailkeep(home, ['local', 'accounts', '--config', other])
    expect(r.stdout).toBe('me@example.com\n')
  })
})

describe('local folders (82–84)', () => {
  it('prints server names in double quotes, decoded from the file names', async () => {
    const r = await mailkeep(home, ['local', 'folders', user.user])
    expect(r.code, show(r)).toBe(0)
    expect(r.stdout).toBe('"Work: 2024"\n"legacy"\n"my_folder"\n')
    const json = await mailkeep(home, ['local', 'folders', user.user, '--json'])
    expect(JSON.parse(json.stdout)).toContainEqual({name: 'my_folder'})
  })

  it('an unknown account', async () => {
    const r = await mailkeep(home, ['local', 'folders', 'nobody@example.test'])
    expect(r.code).toBe(3)
    expect(r.stderr).toContain('nobody@example.test is not a configured account')
  })
})

describe('local list (79–81)', () => {
  it('text: header, dashes, UID right-aligned, date, sender, size, subject decoded', async () => {
    const r = await mailkeep(home, ['local', 'list', user.user, 'my_folder'])
    expect(r.code, show(r)).toBe(0)
    const lines = r.stdout.split('\n')
    expect(lines[0]).toBe(`${'UID'.padStart(10)}  ${'Date'.padEnd(16)}  ${'From'.padEnd(24)}  ${'Size'.padStart(9)}  Subject`)
    expect(lines[1]).toMatch(/^-{100,}$/)
    expect(lines[2]).toBe(`${String(messages[0]!.uid).padStart(10)}  ${''.padEnd(16)}  ${'sender@example.com'.padEnd(24)}  ${`${messages[0]!.raw.length} B`.padStart(9)}  Ciao`)
    expect(lines[3]).toBe(`${String(messages[1]!.uid).padStart(10)}  2024-04-04 08:00  ${'Jürgen Müller'.padEnd(24)}  ${`${messages[1]!.raw.length} B`.padStart(9)}  Grüße aus München ✈ und 日本語`)
    expect(lines[4]).toContain('Renée Exemple')
    expect(lines[4]).toContain('Résumé de la réunion')
    // No From, no Date: blank cells.
    expect(lines[5]).toMatch(new RegExp(`^ +${messages[3]!.uid} {35}\\s+\\d+ B  Neither From nor Date$`))
  })

  it('cuts long subjects to 57 characters and "..."', async () => {
    const folder = 'Long'
    await createFolder(dc, user, folder)
    const subject = 'x'.repeat(70)
    await appendMessages(dc, user, folder, [{raw: Buffer.from(`Subject: ${subject}\r\n\r\nb\r\n`)}])
    const config = await writeConfig(home, [accountEntry(dc, user, root, {folders: ['my_folder', 'Work: 2024', folder]})])
    await backup(config)
    const r = await mailkeep(home, ['local', 'list', user.user, folder])
    expect(r.stdout.split('\n')[2]).toMatch(new RegExp(`  ${'x'.repeat(57)}\\.\\.\\.$`))
  })

  it('--json: imap-backup\'s uid, date and subject, and from and size', async () => {
    const r = await mailkeep(home, ['local', 'list', user.user, 'my_folder', '--json'])
    const list = JSON.parse(r.stdout)
    expect(list[0]).toEqual({uid: messages[0]!.uid, date: '', subject: 'Ciao', from: 'sender@example.com', size: messages[0]!.raw.length})
    expect(list[1]).toMatchObject({date: '2024-04-04T08:00:00+02:00', from: 'Jürgen Müller <juergen@example.de>', size: messages[1]!.raw.length})
  })

  it("an unknown folder: Folder '<f>' not found", async () => {
    const r = await mailkeep(home, ['local', 'list', user.user, 'nope'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("Folder 'nope' not found")
  })
})

describe('local search', () => {
  it('finds by sender across folders, matching the decoded name case-insensitively', async () => {
    const r = await mailkeep(home, ['local', 'search', user.user, '--from', 'jürgen müller'])
    expect(r.code, show(r)).toBe(0)
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^Folder +UID {2}Date +From +Size {2}Subject$/)
    expect(lines.slice(2, -1)).toHaveLength(1)
    expect(lines[2]).toMatch(new RegExp(`^my_folder +${messages[1]!.uid}  2024-04-04 08:00  Jürgen Müller .* Grüße aus München`))
    expect(lines.at(-1)).toBe(`1 message; \`mailkeep local show ${user.user} my_folder ${messages[1]!.uid}\` prints one`)
  })

  it('--subject across every folder, with the imap-backup folder too; --folder restricts', async () => {
    const all = await mailkeep(home, ['local', 'search', user.user, '--subject', 'CIAO', '--json'])
    expect(all.code, show(all)).toBe(0)
    const found = (JSON.parse(all.stdout) as Array<{folder: string; uid: number}>).map((m) => `${m.folder}/${m.uid}`).sort()
    expect(found).toEqual([`Work: 2024/1`, `legacy/99`, `my_folder/${messages[0]!.uid}`].sort())
    const one = await mailkeep(home, ['local', 'search', user.user, '--subject', 'ciao', '--folder', 'Work: 2024', '--folder', 'legacy', '--json'])
    expect((JSON.parse(one.stdout) as Array<{folder: string}>).map((m) => m.folder).sort()).toEqual(['Work: 2024', 'legacy'])
  })

  it('--to matches To and Cc; --since and --before compare the Date day in its own zone', async () => {
    const to = await mailkeep(home, ['local', 'search', user.user, '--to', 'zoë', '--json'])
    expect(JSON.parse(to.stdout)).toEqual([
      {folder: 'my_folder', uid: messages[1]!.uid, date: '2024-04-04T08:00:00+02:00', from: 'Jürgen Müller <juergen@example.de>', to: 'Zoë Beispiel <zoe@example.de>, Alice Example <alice@example.test>', subject: 'Grüße aus München ✈ und 日本語', size: messages[1]!.raw.length},
    ])
    const since = await mailkeep(home, ['local', 'search', user.user, '--since', '2024-04-03', '--before', '2025-01-01', '--json'])
    expect((JSON.parse(since.stdout) as Array<{uid: number}>).map((m) => m.uid)).toEqual([messages[1]!.uid])
    const between = await mailkeep(home, ['local', 'search', user.user, '--since', '2024-04-02', '--before', '2024-04-04', '--json'])
    expect((JSON.parse(between.stdout) as Array<{subject: string}>).map((m) => m.subject)).toEqual(['Résumé de la réunion'])
    // A message without a Date is dated by the server's INTERNALDATE (the day of the test run).
    const today = new Date().toISOString().slice(0, 10)
    const undated = await mailkeep(home, ['local', 'search', user.user, '--since', today, '--subject', 'Neither', '--json'])
    expect(JSON.parse(undated.stdout)).toHaveLength(1)
  })

  it('nothing found: says so, exit 0; a bad date or unknown folder: exit 2', async () => {
    const none = await mailkeep(home, ['local', 'search', user.user, '--from', 'nobody-at-all'])
    expect(none).toMatchObject({code: 0, stdout: 'no message matches\n'})
    const bad = await mailkeep(home, ['local', 'search', user.user, '--since', '2024-13-01'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("mailkeep: error: --since '2024-13-01' is not a date")
    const folder = await mailkeep(home, ['local', 'search', user.user, '--folder', 'nope'])
    expect(folder.code).toBe(2)
    expect(folder.stderr).toContain("Folder 'nope' not found")
  })
})

describe('local show (85–87)', () => {
  it('prints the original bytes exactly', async () => {
    for (const m of messages) {
      const r = await mailkeepBytes(home, ['local', 'show', user.user, 'my_folder', String(m.uid)])
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout.equals(m.raw), `UID ${m.uid}`).toBe(true)
    }
  })

  it('several UIDs: each in a box', async () => {
    const [a, b] = messages
    const r = await mailkeepBytes(home, ['local', 'show', user.user, 'my_folder', `${a!.uid},${b!.uid}`])
    const box = (uid: number): string => `${'-'.repeat(80)}\n| UID: ${String(uid).padEnd(71)} |\n${'-'.repeat(80)}\n`
    const end = (raw: Buffer): Buffer => (raw[raw.length - 1] === 0x0a ? Buffer.alloc(0) : Buffer.from('\n'))
    expect(r.stdout.equals(Buffer.concat([Buffer.from(box(a!.uid)), a!.raw, end(a!.raw), Buffer.from(box(b!.uid)), b!.raw, end(b!.raw)]))).toBe(true)
  })

  it('--json: body, flags, and body_base64 for bytes that are not UTF-8', async () => {
    const latin = messages[2]!
    const r = await mailkeep(home, ['local', 'show', user.user, 'my_folder', `${messages[0]!.uid},${latin.uid}`, '--json'])
    const [first, second] = JSON.parse(r.stdout)
    expect(first).toMatchObject({uid: messages[0]!.uid, flags: ['Seen'], body: ciao.toString(), exact: true})
    expect(first.body_base64).toBeUndefined()
    expect(second.flags.sort()).toEqual(['$Work', 'Flagged'])
    expect(Buffer.from(second.body_base64, 'base64').equals(latin.raw)).toBe(true)
  })

  it("imap-backup's entries: its stored text, with the added trailing newline (86)", async () => {
    const r = await mailkeep(home, ['local', 'show', user.user, 'legacy', '99', '--json'])
    expect(JSON.parse(r.stdout)[0]).toMatchObject({uid: 99, body: 'From: sender@example.com\nSubject: Ciao\n\nbody\n\n', exact: false})
  })

  it('an unknown UID, and an invalid UID list', async () => {
    const missing = await mailkeep(home, ['local', 'show', user.user, 'my_folder', '12345'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('UID 12345 not found')
    const invalid = await mailkeep(home, ['local', 'show', user.user, 'my_folder', '1,x'])
    expect(invalid.code).toBe(2)
  })

  it('a folder name that climbs out of the account cannot read outside it', async () => {
    // A folder pair outside the backup directory, where `../outside` would lead.
    await writeFile(join(home, 'outside.mbox'), imapBackupEntry(ciao))
    await writeFile(join(home, 'outside.imap'), JSON.stringify({version: 3, uid_validity: 1, messages: [{uid: 1, offset: 0, length: imapBackupEntry(ciao).length, flags: []}]}))
    for (const name of ['../outside', '../../etc/passwd', '/etc/passwd']) {
      const r = await mailkeep(home, ['local', 'show', user.user, name, '1'])
      expect(r.code, show(r)).toBe(2)
      expect(r.stderr).toContain(`Folder '${name}' not found`)
      expect(r.stdout).toBe('')
    }
  })
})

describe('local check (66–75)', () => {
  it('66–67: OK in text and JSON', async () => {
    const r = await mailkeep(home, ['local', 'check'])
    expect(r.code, show(r)).toBe(0)
    expect(r.stdout).toContain(`Account: ${user.user}\n`)
    expect(r.stdout).toContain('\tmy_folder: OK\n')
    const json = await mailkeep(home, ['local', 'check', '--json', '-a', user.user])
    const [account] = JSON.parse(json.stdout)
    expect(account.account).toBe(user.user)
    expect(account.folders).toContainEqual({name: 'my_folder', result: 'OK', findings: []})
  })

  it('a damaged folder: every finding with its repair command, exit 6, and no byte changed', async () => {
    const dir = await makeTempDir('mailkeep-local-check-')
    try {
      const damagedRoot = join(dir, 'backup')
      await mkdir(damagedRoot, {recursive: true})
      const entry = imapBackupEntry(ciao)
      await writeFile(join(damagedRoot, 'my_folder.mbox'), Buffer.concat([entry, entry, Buffer.from('From x\n\nextra\n\n')]))
      await writeFile(
        join(damagedRoot, 'my_folder.imap'),
        JSON.stringify({version: 3, uid_validity: 1, messages: [{uid: 1, offset: 0, length: entry.length, flags: []}, {uid: 2, offset: entry.length + 3, length: entry.length - 3, flags: []}]}),
      )
      await writeFile(join(damagedRoot, 'other.imap'), 'not json')
      await writeFile(join(damagedRoot, 'other.mbox'), entry)
      await writeConfig(dir, [accountEntry(dc, user, damagedRoot)])
      const before = await hashTree(damagedRoot)
      const r = await mailkeep(dir, ['local', 'check'])
      expect(await hashTree(damagedRoot)).toEqual(before)
      expect(r.code, show(r)).toBe(6)
      // The first error on imap-backup's line (its check order: compat §4.5), the others below.
      expect(r.stdout).toMatch(/\tmy_folder: \.mbox file '.*my_folder\.mbox' is longer than indicated by \.imap file '.*my_folder\.imap'/)
      expect(r.stdout).toContain(`\t\terror: Message 2 not found at expected offset ${entry.length + 3} in file '${join(damagedRoot, 'my_folder.mbox')}'`)
      expect(r.stdout).toContain(`\t\trepair: mailkeep local repair ${user.user} my_folder`)
      expect(r.stdout).toContain("other.imap' is corrupt")
      const json = JSON.parse((await mailkeep(dir, ['local', 'check', '--json'])).stdout)
      const folder = json[0].folders.find((f: {name: string}) => f.name === 'my_folder')
      expect(folder.result).toContain('is longer than indicated by .imap file')
      expect(folder.findings.map((f: {code: string}) => f.code).sort()).toEqual(['mbox-longer', 'message-not-at-offset', 'not-byte-exact'])
      // Reading a damaged folder reports it the same way and changes nothing either.
      const list = await mailkeep(dir, ['local', 'list', user.user, 'other'])
      expect(list.code).toBe(6)
      expect(list.stderr).toContain('mailkeep local repair')
      expect(await hashTree(damagedRoot)).toEqual(before)

      // 74–75: --delete-corrupt is refused; nothing is deleted.
      const del = await mailkeep(dir, ['local', 'check', '--delete-corrupt'])
      expect(del.code).toBe(2)
      expect(del.stderr).toContain('never deletes backup data')
      expect(del.stderr).toContain('mailkeep local repair')
      expect(await hashTree(damagedRoot)).toEqual(before)
      // A read-only command creates nothing, not even the lock file (no writer ever ran here).
      expect(await readdir(damagedRoot)).not.toContain('.mailkeep.lock')
    } finally {
      await removeTempDir(dir)
    }
  })

  it('a symlinked mbox is reported and never followed', async () => {
    const dir = await makeTempDir('mailkeep-local-link-')
    try {
      const linkedRoot = join(dir, 'backup')
      await mkdir(linkedRoot, {recursive: true})
      const entry = imapBackupEntry(ciao)
      await writeFile(join(dir, 'elsewhere.mbox'), entry)
      await symlink(join(dir, 'elsewhere.mbox'), join(linkedRoot, 'INBOX.mbox'))
      await writeFile(join(linkedRoot, 'INBOX.imap'), JSON.stringify({version: 3, uid_validity: 1, messages: [{uid: 1, offset: 0, length: entry.length, flags: []}]}))
      await writeConfig(dir, [accountEntry(dc, user, linkedRoot)])
      const r = await mailkeep(dir, ['local', 'check'])
      expect(r.code).toBe(6)
      expect(r.stdout).toContain('is a symlink')
      const showIt = await mailkeep(dir, ['local', 'show', user.user, 'INBOX', '1'])
      expect(showIt.code).toBe(6)
      expect(showIt.stdout).toBe('')
      const repair = await mailkeep(dir, ['local', 'repair', user.user])
      expect(repair.stdout).toContain('not repaired')
      expect(await readFile(join(dir, 'elsewhere.mbox'))).toEqual(entry)
    } finally {
      await removeTempDir(dir)
    }
  })
})

describe('local repair', () => {
  it('text and JSON, --dry-run first, then the repair; check is OK afterwards', async () => {
    const dir = await makeTempDir('mailkeep-local-repair-')
    try {
      const repairRoot = join(dir, 'backup')
      const config = await writeConfig(dir, [accountEntry(dc, user, repairRoot, {folders: ['my_folder']})])
      await backup(config)
      const imap = join(repairRoot, 'my_folder.imap')
      await truncate(imap, 50)
      const before = await hashTree(repairRoot)
      const dry = await mailkeep(dir, ['local', 'repair', user.user, 'my_folder', '--dry-run'])
      expect(dry.code, show(dry)).toBe(0)
      expect(dry.stdout).toContain('dry run: nothing was written')
      expect(dry.stdout).toContain(`\tmy_folder: would rebuild the metadata from the mbox: ${messages.length} messages, ${messages.length} matched to the server`)
      expect(await hashTree(repairRoot)).toEqual(before)

      const r = await mailkeep(dir, ['local', 'repair', user.user, '--json'])
      expect(r.code, show(r)).toBe(0)
      const report = JSON.parse(r.stdout)
      expect(report.folders[0]).toMatchObject({name: 'my_folder', action: 'rebuilt', uids: 'verified', matched: messages.length, after: []})
      expect(report.folders[0].savedAside[0]).toMatch(/my_folder\.imap\.damaged-\d{8}T\d{6}Z$/)
      const check = await mailkeep(dir, ['local', 'check'])
      expect(check.code, show(check)).toBe(0)
      for (const m of messages) {
        const shown = await mailkeepBytes(dir, ['local', 'show', user.user, 'my_folder', String(m.uid)])
        expect(shown.stdout.equals(m.raw)).toBe(true)
      }
      // Nothing left to do.
      const again = await mailkeep(dir, ['local', 'repair', user.user])
      expect(again.stdout).toContain('my_folder: OK, nothing to repair')
    } finally {
      await removeTempDir(dir)
    }
  })

  it('an unknown folder', async () => {
    const r = await mailkeep(home, ['local', 'repair', user.user, 'nope'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("Folder 'nope' not found")
  })

  it('the mbox is gone: the .imap is set aside, not deleted', async () => {
    const dir = await makeTempDir('mailkeep-local-gone-')
    try {
      const goneRoot = join(dir, 'backup')
      const config = await writeConfig(dir, [accountEntry(dc, user, goneRoot, {folders: ['my_folder']})])
      await backup(config)
      const imap = join(goneRoot, 'my_folder.imap')
      const content = await readFile(imap)
      await rename(join(goneRoot, 'my_folder.mbox'), join(dir, 'lost.mbox'))
      const r = await mailkeep(dir, ['local', 'repair', user.user, '--json'])
      const report = JSON.parse(r.stdout)
      expect(report.folders[0]).toMatchObject({action: 'set-aside'})
      expect(await readFile(report.folders[0].savedAside[0])).toEqual(content)
      expect((await mailkeep(dir, ['local', 'check'])).code).toBe(0)
    } finally {
      await removeTempDir(dir)
    }
  })
})
