/**
 * `exportFolders` (maildir, eml) on real temporary directories, read back with Python's
 * `mailbox.Maildir` and byte comparisons.
 */
import {lstat, mkdir, readFile, readdir, stat, symlink, writeFile} from 'node:fs/promises'
import {join, relative, sep} from 'node:path'
import {describe, expect, it} from 'vitest'
import {exportFolders} from '../../src/engine/export/folders.js'
import type {ExportOptions, ExportReport} from '../../src/engine/export/types.js'
import {silentContext} from '../../src/shared/context.js'
import {ExitCode} from '../../src/shared/exit-codes.js'
import {testTempDir} from '../support/temp-dir.js'
import {HOSTILE_FOLDERS, LEGACY_FOLDER, LEGACY_MESSAGES, backupRoot, buildBackup, inboxMessages, seedFolders} from './fixture.js'
import {EMAIL, UID_VALIDITY, makeConfig, readMaildirWithPython, snapshotTree, updateFlags} from './helpers.js'

interface Setup {
  home: string
  root: string
  to: string
  config: Awaited<ReturnType<typeof makeConfig>>
  legacy: string[]
}

async function setup(): Promise<Setup> {
  const home = await testTempDir('mailkeep-export-')
  const root = backupRoot(home)
  const {legacy} = await buildBackup(root)
  const config = await makeConfig(join(home, '.mailkeep', 'config.json'), root)
  return {home, root, to: join(home, 'out', 'export'), config, legacy}
}

async function run(s: Setup, options: Partial<ExportOptions> & Pick<ExportOptions, 'format'>): Promise<ExportReport> {
  return exportFolders({config: s.config, email: EMAIL, to: s.to, force: false, ...options}, silentContext())
}

/** Maildir letters expected for IMAP flags (ASCII order). */
function letters(imapFlags: string[]): string {
  const map: Record<string, string> = {'\\Draft': 'D', '\\Flagged': 'F', $Forwarded: 'P', '\\Answered': 'R', '\\Seen': 'S', '\\Deleted': 'T'}
  return imapFlags
    .map((f) => map[f] ?? '')
    .sort()
    .join('')
}

describe('utils export --format maildir', () => {
  it('writes one Maildir per folder that Python reads back byte for byte, flags mapped, all in cur/', async () => {
    const s = await setup()
    const report = await run(s, {format: 'maildir'})
    expect(report.exitCode).toBe(ExitCode.OK)
    const inbox = inboxMessages()
    const read = await readMaildirWithPython(join(s.to, 'INBOX'))
    expect(read.length).toBe(inbox.length)
    const byUid = new Map(read.map((m) => [Number(/\.M(\d+)V/.exec(m.name)![1]), m]))
    for (const m of inbox) {
      const got = byUid.get(m.uid)!
      expect(got, `UID ${m.uid}`).toBeDefined()
      expect(got.bytes.equals(m.raw), `UID ${m.uid} bytes`).toBe(true)
      expect(got.subdir).toBe('cur')
      expect(got.flags, `UID ${m.uid} flags ${m.flags.join(' ')}`).toBe(letters(m.flags))
      expect(got.name).toMatch(new RegExp(`^\\d+\\.M${m.uid}V${UID_VALIDITY}\\.mailkeep:2,[DFPRST]*$`))
      // INTERNALDATE is the file's mtime (Dovecot reads it as the received date) and the name's time.
      if (m.internalDate !== null) {
        expect((await stat(join(s.to, 'INBOX', 'cur', got.name))).mtimeMs).toBe(m.internalDate)
        expect(got.name.startsWith(`${m.internalDate / 1000}.`)).toBe(true)
      }
    }
    expect(await readdir(join(s.to, 'INBOX', 'new'))).toEqual([])
    expect(await readdir(join(s.to, 'INBOX', 'tmp'))).toEqual([])
    const folder = report.folders.find((f) => f.folder === 'INBOX')!
    expect(folder).toMatchObject({status: 'exported', messages: inbox.length, bytes: inbox.reduce((n, m) => n + m.raw.length, 0), legacyMessages: 0, path: join(s.to, 'INBOX')})
    expect(report.messages).toBe(report.folders.reduce((n, f) => n + f.messages, 0))
  })

  it('nests subfolders (Work/Projects beside Work/cur) and keeps hostile names inside the target', async () => {
    const s = await setup()
    const before = await snapshotTree(s.home)
    const report = await run(s, {format: 'maildir'})
    expect((await readMaildirWithPython(join(s.to, 'Work'))).length).toBe(1)
    expect((await readMaildirWithPython(join(s.to, 'Work', 'Projects'))).length).toBe(2)
    expect((await readMaildirWithPython(join(s.to, 'Archive', '2023', 'Q4'))).length).toBe(1)
    // `Sub/cur` would be Sub's own cur/: its first letter is escaped.
    expect((await readdir(join(s.to, 'Sub'))).sort()).toEqual(['%63;ur', '123.eml', 'cur', 'new', 'tmp'])
    expect((await readMaildirWithPython(join(s.to, 'Sub', '%63;ur'))).length).toBe(1)
    expect((await readMaildirWithPython(join(s.to, 'Sub'))).map((m) => m.bytes.toString())).toEqual([expect.stringContaining('Sub body')])
    const after = await snapshotTree(s.home)
    const inside = relative(s.home, s.to) + sep
    for (const path of [...after.keys()].filter((k) => !before.has(k))) {
      if (path === 'out/') continue
      expect(path.startsWith(inside), path).toBe(true)
    }
    for (const name of HOSTILE_FOLDERS) {
      const path = report.folders.find((f) => f.folder === name)!.path
      expect(path.startsWith(s.to + sep), path).toBe(true)
      const read = await readMaildirWithPython(path)
      expect(read.length, name).toBe(1)
      expect(read[0]!.bytes.toString()).toContain(`Body of ${JSON.stringify(name)}`)
    }
    expect(await readdir(s.to)).toEqual(expect.arrayContaining(['%2e;%2e;', 'a', '.hidden', 'x.msf', 'C%3a;colon%3b;semi']))
  })

  it('refuses to mix into folders that already hold messages; --force replaces the same files, also when flags changed', async () => {
    const s = await setup()
    await run(s, {format: 'maildir', folders: ['INBOX', 'Work']})
    const first = await snapshotTree(s.to)
    await expect(run(s, {format: 'maildir', folders: ['Work', 'Empty']})).rejects.toThrow(`'${join(s.to, 'Work', 'cur')}' already holds messages; nothing was exported`)
    expect(await snapshotTree(s.to)).toEqual(first)

    const uid = inboxMessages()[0]!.uid
    await updateFlags(s.root, 'INBOX', {[uid]: ['\\Flagged']})
    const report = await run(s, {format: 'maildir', folders: ['INBOX'], force: true})
    expect(report.exitCode).toBe(ExitCode.OK)
    const read = await readMaildirWithPython(join(s.to, 'INBOX'))
    expect(read.length).toBe(inboxMessages().length) // replaced, not duplicated
    expect(read.find((m) => m.name.includes(`.M${uid}V`))!.flags).toBe('F')
  })

  it('exports imap-backup entries as it stored them and counts them', async () => {
    const s = await setup()
    const report = await run(s, {format: 'maildir', folders: [LEGACY_FOLDER]})
    expect(report.folders[0]).toMatchObject({legacyMessages: 2, messages: 2})
    const read = await readMaildirWithPython(join(s.to, LEGACY_FOLDER))
    expect(read.map((m) => m.bytes.toString()).sort()).toEqual([...s.legacy].sort())
    expect(read.map((m) => m.flags).sort()).toEqual(['', 'S'])
    // No INTERNALDATE: the Date header gives the time (2024-05-02T06:00:00Z); none: 0.
    expect(read.map((m) => m.name.split('.')[0]).sort()).toEqual(['0', String(Date.UTC(2024, 4, 2, 6) / 1000)])
    expect(LEGACY_MESSAGES.length).toBe(2)
  })
})

describe('utils export --format eml', () => {
  it('writes <uid>.eml per message, byte-identical to the original', async () => {
    const s = await setup()
    const report = await run(s, {format: 'eml'})
    expect(report.exitCode).toBe(ExitCode.OK)
    for (const folder of seedFolders()) {
      const directory = report.folders.find((f) => f.folder === folder.name)!.path
      expect(directory.startsWith(s.to + sep)).toBe(true)
      const names = (await readdir(directory)).filter((n) => n.endsWith('.eml') && (folder.messages.length === 0 || /^\d+\.eml$/.test(n)))
      expect(names.sort(), folder.name).toEqual(folder.messages.map((m) => `${m.uid}.eml`).sort())
      for (const m of folder.messages) {
        const file = join(directory, `${m.uid}.eml`)
        expect((await readFile(file)).equals(m.raw), `${folder.name} UID ${m.uid}`).toBe(true)
        expect(((await stat(file)).mode & 0o777).toString(8)).toBe('600')
      }
    }
    // A child folder named like a message file does not collide with the parent's messages.
    expect((await readdir(join(s.to, 'Sub'))).sort()).toEqual(['123%2e;eml', '50.eml', 'cur'])
    const child = 100 + HOSTILE_FOLDERS.indexOf('Sub/123.eml')
    expect((await lstat(join(s.to, 'Sub', '123%2e;eml', `${child}.eml`))).isFile()).toBe(true)
  })

  it('never changes the backup', async () => {
    const s = await setup()
    const before = await snapshotTree(s.root)
    await run(s, {format: 'eml'})
    await run(s, {format: 'maildir', force: true})
    expect(await snapshotTree(s.root)).toEqual(before)
  })

  it('refuses an existing .eml without --force, and overwrites it with --force', async () => {
    const s = await setup()
    await mkdir(join(s.to, 'Work'), {recursive: true})
    await writeFile(join(s.to, 'Work', '10.eml'), 'mine')
    await writeFile(join(s.to, 'Work', 'notes.txt'), 'keep me')
    await expect(run(s, {format: 'eml', folders: ['Work']})).rejects.toThrow('already holds messages')
    expect(await readFile(join(s.to, 'Work', '10.eml'), 'utf8')).toBe('mine')
    await run(s, {format: 'eml', folders: ['Work'], force: true})
    expect((await readFile(join(s.to, 'Work', '10.eml'))).toString()).toContain('Work body')
    expect(await readFile(join(s.to, 'Work', 'notes.txt'), 'utf8')).toBe('keep me')
  })

  it('refuses a symlink inside the target, an unknown folder, and an account with nothing backed up', async () => {
    const s = await setup()
    const elsewhere = join(s.home, 'elsewhere')
    await mkdir(elsewhere)
    await mkdir(s.to, {recursive: true})
    await symlink(elsewhere, join(s.to, 'Work'))
    await expect(run(s, {format: 'eml', folders: ['Work/Projects']})).rejects.toThrow(/symbolic link/)
    const report = await run(s, {format: 'eml', folders: ['Work/Projects'], force: true})
    expect(report.folders[0]!.status).toBe('failed')
    expect(report.exitCode).toBe(ExitCode.LOCAL_IO)
    expect(await readdir(elsewhere)).toEqual([])

    await expect(run(s, {format: 'eml', folders: ['Nope']})).rejects.toThrow("Folder 'Nope' not found")
    const empty = await makeConfig(join(s.home, 'other', 'config.json'), join(s.home, 'never-backed-up'))
    await expect(exportFolders({config: empty, email: EMAIL, to: s.to, force: false, format: 'eml'}, silentContext())).rejects.toThrow(
      `No serialized folders were found for account '${EMAIL}'`,
    )
  })
})

describe('utils export interrupted', () => {
  it('stops after the current message; every file under a final name is complete, tmp/ is empty', async () => {
    const s = await setup()
    const controller = new AbortController()
    const reason = new Error('stop')
    let written = 0
    const ctx = silentContext({
      signal: controller.signal,
      progress: {start: () => ({advance: () => (++written === 3 ? controller.abort(reason) : undefined), setTotal: () => {}, done: () => {}})},
    })
    await expect(exportFolders({config: s.config, email: EMAIL, to: s.to, force: false, format: 'maildir', folders: ['INBOX']}, ctx)).rejects.toBe(reason)
    const read = await readMaildirWithPython(join(s.to, 'INBOX'))
    expect(read.length).toBe(3)
    const inbox = new Map(inboxMessages().map((m) => [m.uid, m.raw]))
    for (const m of read) expect(m.bytes.equals(inbox.get(Number(/\.M(\d+)V/.exec(m.name)![1]))!)).toBe(true)
    expect(await readdir(join(s.to, 'INBOX', 'tmp'))).toEqual([])
  })
})
