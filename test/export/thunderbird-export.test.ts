/**
 * `exportToThunderbird` on real temporary directories: a backup built through the store API,
 * a fake Thunderbird data directory, and Python's `mailbox.mbox` reading what was written.
 */
import {lstat, mkdir, readFile, readdir, symlink, writeFile} from 'node:fs/promises'
import {join, relative, sep} from 'node:path'
import {describe, expect, it} from 'vitest'
import {exportToThunderbird} from '../../src/engine/export/thunderbird.js'
import type {ThunderbirdExportReport} from '../../src/engine/export/types.js'
import {asctimeUtc} from '../../src/engine/export/message.js'
import {silentContext} from '../../src/shared/context.js'
import {ExitCode} from '../../src/shared/exit-codes.js'
import {memoryLogger} from '../../src/shared/logger.js'
import {loadCorpus} from '../fixtures/corpus.js'
import {testTempDir} from '../support/temp-dir.js'
import {HOSTILE_FOLDERS, LEGACY_FOLDER, backupRoot, buildBackup, inboxMessages} from './fixture.js'
import {EMAIL, expectedInMbox, fakeThunderbird, makeConfig, mboxrdUnquote, readMboxWithPython, snapshotTree} from './helpers.js'

interface Setup {
  home: string
  dataDir: string
  profile: string
  localFolders: string
  target: string
  config: Awaited<ReturnType<typeof makeConfig>>
  legacy: string[]
}

async function setup(options: {installs?: number} = {}): Promise<Setup> {
  const home = await testTempDir('mailkeep-export-tb-')
  const dataDir = join(home, '.thunderbird')
  const profiles = [
    {name: 'default-release', dir: 'abcd1234.default-release'},
    {name: 'work', dir: 'efgh5678.work'},
  ]
  const installs = options.installs === 2 ? [profiles[0]!.dir, profiles[1]!.dir] : [profiles[0]!.dir]
  await fakeThunderbird(dataDir, profiles, installs)
  const root = backupRoot(home)
  const {legacy} = await buildBackup(root)
  const config = await makeConfig(join(home, '.mailkeep', 'config.json'), root)
  const profile = join(dataDir, profiles[0]!.dir)
  const localFolders = join(profile, 'Mail', 'Local Folders')
  return {home, dataDir, profile, localFolders, target: join(localFolders, 'imap-backup.sbd', `${EMAIL}.sbd`), config, legacy}
}

async function exportTb(s: Setup, extra: {force?: boolean; profile?: string} = {}, ctx = silentContext()): Promise<ThunderbirdExportReport> {
  return exportToThunderbird({config: s.config, email: EMAIL, force: extra.force ?? false, thunderbirdDir: s.dataDir, ...(extra.profile === undefined ? {} : {profile: extra.profile})}, ctx)
}

describe('export-to-thunderbird', () => {
  it('writes every folder as an mbox that Python reads back message for message, From lines not splitting anything', async () => {
    const s = await setup()
    const report = await exportTb(s)
    expect(report.exitCode).toBe(ExitCode.OK)
    expect(report.target).toBe(s.target)
    expect(report.folders.every((f) => f.status === 'exported')).toBe(true)

    const inbox = inboxMessages()
    const read = await readMboxWithPython(join(s.target, 'INBOX'))
    // Same number: no message was split at a body line starting with "From ".
    expect(read.length).toBe(inbox.length)
    for (const [i, m] of inbox.entries()) {
      const got = read[i]!
      // Python's mbox reader does not unquote: it returns the quoted message, ending in LF.
      expect(got.bytes.equals(expectedInMbox(m.raw)), `message ${m.uid} as Python reads it`).toBe(true)
      // Unquoted (mboxrd), it is the original, plus the LF added where the original had none.
      const unquoted = mboxrdUnquote(got.bytes)
      const original = m.raw.length > 0 && m.raw[m.raw.length - 1] === 0x0a ? m.raw : Buffer.concat([m.raw, Buffer.from('\n')])
      expect(unquoted.equals(original), `message ${m.uid} unquoted`).toBe(true)
      expect(got.from).toMatch(/^- [A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}$/)
      if (m.internalDate !== null) expect(got.from).toBe(`- ${asctimeUtc(m.internalDate)}`)
    }
    const inboxReport = report.folders.find((f) => f.folder === 'INBOX')!
    expect(inboxReport.messages).toBe(inbox.length)
    expect(inboxReport.bytes).toBe(inbox.reduce((n, m) => n + m.raw.length, 0))
    expect(inboxReport.legacyMessages).toBe(0)
  })

  it('uses the Date header (in UTC) when there is no INTERNALDATE, and the export time when there is neither', async () => {
    const s = await setup()
    const startedAt = Math.floor(Date.now() / 1000) * 1000
    await exportTb(s)
    const read = await readMboxWithPython(join(s.target, 'INBOX'))
    const inbox = inboxMessages()
    const separator = (name: string): string => {
      const i = loadCorpus().findIndex((m) => m.name === name)
      expect(inbox[i]!.internalDate, `${name} is stored without INTERNALDATE`).toBeNull()
      return read[i]!.from
    }
    expect(separator('03-outlook-html-qp')).toBe('- Mon Mar 11 14:20:03 2024') // Date: … 14:20:03 +0000
    expect(separator('09-raw-utf8-headers')).toBe('- Fri Apr  5 08:30:00 2024') // Date: … 17:30:00 +0900
    const none = separator('18-no-from-no-date')
    const time = Date.parse(`${none.slice(2)} UTC`)
    expect(time).toBeGreaterThanOrEqual(startedAt)
    expect(time).toBeLessThanOrEqual(Date.now())
  })

  it('puts a folder with / under .sbd parents with empty placeholder files, as Thunderbird expects', async () => {
    const s = await setup()
    await exportTb(s)
    const lf = s.localFolders
    for (const placeholder of ['imap-backup', `imap-backup.sbd/${EMAIL}`, `imap-backup.sbd/${EMAIL}.sbd/Archive`, `imap-backup.sbd/${EMAIL}.sbd/Archive.sbd/2023`]) {
      const info = await lstat(join(lf, placeholder))
      expect(info.isFile(), placeholder).toBe(true)
      expect(info.size, placeholder).toBe(0)
    }
    const deep = await readMboxWithPython(join(s.target, 'Archive.sbd', '2023.sbd', 'Q4'))
    expect(deep.map((m) => m.bytes.toString())).toEqual([expect.stringContaining('Deep body')])
    // `Work` is both a folder with mail and the parent of `Work/Projects`.
    expect((await readMboxWithPython(join(s.target, 'Work'))).length).toBe(1)
    const projects = await readMboxWithPython(join(s.target, 'Work.sbd', 'Projects'))
    expect(projects.length).toBe(2)
    expect(mboxrdUnquote(projects[0]!.bytes).toString()).toContain('\r\nFrom the project:\r\nFrom here\r\n>From quoted\r\n')
    // An empty folder is an empty mailbox.
    expect((await readFile(join(s.target, 'Empty'))).length).toBe(0)
  })

  it('keeps hostile folder names inside the export, visible to Thunderbird', async () => {
    const s = await setup()
    const before = await snapshotTree(s.home)
    const report = await exportTb(s)
    expect(report.exitCode).toBe(ExitCode.OK)
    const after = await snapshotTree(s.home)
    const added = [...after.keys()].filter((k) => !before.has(k))
    const inside = relative(s.home, s.localFolders) + sep + 'imap-backup'
    for (const path of added) expect(path.startsWith(inside), path).toBe(true)
    // Nothing changed outside what was added (the backup included).
    for (const [path, value] of before) if (!path.startsWith(inside)) expect(after.get(path), path).toBe(value)

    const names = await readdir(s.target)
    // No entry Thunderbird would hide or take for its own: leading dot or #, trailing ~, .msf/.sbd files.
    for (const name of names) {
      const info = await lstat(join(s.target, name))
      expect(name.startsWith('.') || name.startsWith('#') || name.endsWith('~'), name).toBe(false)
      if (info.isFile()) expect(/\.(msf|sbd)$/i.test(name), name).toBe(false)
    }
    expect(names).toContain('x%2e;msf')
    expect(names).toContain('%2e;hidden')
    expect(names).toContain('%23;hash%7e;')
    expect(names).toContain('C:colon;semi') // shown as the server name: ':' and ';' are fine here
    expect(names).toContain('%25;2e;odd')
    for (const name of HOSTILE_FOLDERS) {
      const folder = report.folders.find((f) => f.folder === name)!
      expect(folder.status, name).toBe('exported')
      expect(folder.path.startsWith(s.target + sep), folder.path).toBe(true)
      const read = await readMboxWithPython(folder.path)
      expect(read.length, name).toBe(1)
      expect(read[0]!.bytes.toString()).toContain(`Body of ${JSON.stringify(name)}`)
    }
  })

  it('exports folders written by imap-backup as it stored them, and counts them', async () => {
    const s = await setup()
    const report = await exportTb(s)
    const legacy = report.folders.find((f) => f.folder === LEGACY_FOLDER)!
    expect(legacy.legacyMessages).toBe(2)
    const read = await readMboxWithPython(join(s.target, LEGACY_FOLDER))
    expect(read.map((m) => mboxrdUnquote(m.bytes).toString())).toEqual(s.legacy)
  })

  it('never changes the backup', async () => {
    const s = await setup()
    const root = backupRoot(s.home)
    // The lock file exists from the backup; everything else must stay byte for byte (and mtime).
    const before = await snapshotTree(root)
    await exportTb(s)
    await exportTb(s, {force: true})
    expect(await snapshotTree(root)).toEqual(before)
  })

  it('skips a folder whose mailbox or .msf exists, with a warning and exit 4; --force replaces it and deletes the .msf', async () => {
    const s = await setup()
    await mkdir(join(s.target, 'Work.sbd'), {recursive: true})
    await writeFile(join(s.target, 'INBOX'), 'From - old\nnot ours\n\n')
    await writeFile(join(s.target, 'Work.sbd', 'Projects.msf'), 'index')
    const log = memoryLogger()
    const report = await exportTb(s, {}, silentContext({logger: log}))
    expect(report.exitCode).toBe(ExitCode.INCOMPLETE)
    const skipped = report.folders.filter((f) => f.status === 'skipped').map((f) => f.folder)
    expect(skipped.sort()).toEqual(['INBOX', 'Work/Projects'])
    expect(await readFile(join(s.target, 'INBOX'), 'utf8')).toBe('From - old\nnot ours\n\n')
    expect(log.records.some((r) => r.level === 'warn' && r.message === `Skipping export of 'INBOX' as '${join(s.target, 'INBOX')}' exists`)).toBe(true)
    expect(report.folders.find((f) => f.folder === 'Work')!.status).toBe('exported')

    const forced = await exportTb(s, {force: true})
    expect(forced.exitCode).toBe(ExitCode.OK)
    expect((await readMboxWithPython(join(s.target, 'INBOX'))).length).toBe(inboxMessages().length)
    await expect(lstat(join(s.target, 'Work.sbd', 'Projects.msf'))).rejects.toMatchObject({code: 'ENOENT'})
    expect((await readMboxWithPython(join(s.target, 'Work.sbd', 'Projects'))).length).toBe(2)
    // No temporary file is left anywhere.
    const tree = await snapshotTree(s.localFolders)
    expect([...tree.keys()].filter((k) => k.includes('.mailkeep-'))).toEqual([])
  })

  it('refuses to write through a symlink in Local Folders', async () => {
    const s = await setup()
    const elsewhere = join(s.home, 'elsewhere')
    await mkdir(elsewhere)
    await mkdir(join(s.target), {recursive: true})
    await symlink(elsewhere, join(s.target, 'Archive.sbd'))
    const report = await exportTb(s)
    const archive = report.folders.find((f) => f.folder === 'Archive/2023/Q4')!
    expect(archive.status).toBe('failed')
    expect(archive.error?.message).toMatch(/symbolic link/)
    expect(report.exitCode).toBe(ExitCode.LOCAL_IO)
    expect(await readdir(elsewhere)).toEqual([])
  })

  it('uses --profile, and refuses to guess between several installs', async () => {
    const s = await setup({installs: 2})
    await expect(exportTb(s)).rejects.toThrow('Thunderbird has multiple installs, so no default profile exists')
    const report = await exportTb(s, {profile: 'work'})
    expect(report.profile.name).toBe('work')
    expect(report.target).toBe(join(s.dataDir, 'efgh5678.work', 'Mail', 'Local Folders', 'imap-backup.sbd', `${EMAIL}.sbd`))
    await expect(exportTb(s, {profile: 'nope'})).rejects.toThrow("Thunderbird profile 'nope' not found")
  })

  it('reports a missing Thunderbird, a profile not set up, and an account with nothing backed up', async () => {
    const s = await setup()
    await expect(exportTb({...s, dataDir: join(s.home, 'no-thunderbird')})).rejects.toThrow('Default Thunderbird profile not found')
    await expect(exportTb({...s, dataDir: join(s.home, 'no-thunderbird')}, {profile: 'x'})).rejects.toThrow("Thunderbird profile 'x' not found")

    const bare = join(s.home, 'bare')
    await fakeThunderbird(bare, [{name: 'fresh', dir: 'fresh', localFolders: false}], ['fresh'])
    await expect(exportTb({...s, dataDir: bare})).rejects.toThrow("The Thunderbird profile 'fresh' has not been set up")

    const empty = await makeConfig(join(s.home, 'other', 'config.json'), join(s.home, 'never-backed-up'))
    await expect(exportTb({...s, config: empty})).rejects.toThrow(`No serialized folders were found for account '${EMAIL}'`)
  })
})

describe('export-to-thunderbird interrupted', () => {
  it('stops after the current message and leaves no partial mailbox or temporary file', async () => {
    const s = await setup()
    const controller = new AbortController()
    const reason = new Error('stop')
    const ctx = silentContext({
      signal: controller.signal,
      // Stops in the middle of INBOX (the third of its messages).
      progress: {
        start: (label) => {
          let n = 0
          return {advance: () => (label === 'export INBOX' && ++n === 3 ? controller.abort(reason) : undefined), setTotal: () => {}, done: () => {}}
        },
      },
    })
    await expect(exportTb(s, {}, ctx)).rejects.toBe(reason)
    const tree = await snapshotTree(s.localFolders)
    const files = [...tree.entries()].filter(([, v]) => v !== 'dir').map(([k]) => k)
    expect(files.filter((f) => f.includes('.mailkeep-'))).toEqual([])
    // The folders before INBOX are complete (one message each); INBOX is not there at all.
    let complete = 0
    for (const f of files) {
      if ((await lstat(join(s.localFolders, f))).size === 0) continue
      complete++
      expect((await readMboxWithPython(join(s.localFolders, f))).length, f).toBe(1)
    }
    expect(complete).toBeGreaterThan(0)
    await expect(lstat(join(s.target, 'INBOX'))).rejects.toMatchObject({code: 'ENOENT'})
  })
})
