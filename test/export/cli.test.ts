/**
 * The export commands end to end: the real CLI (bin/run.js → dist/, so `npm run build` first)
 * with HOME pointed at a temporary directory holding the config, the backup and a fake
 * Thunderbird. Includes imap-backup's acceptance examples (compat §9.2 items 113–115).
 */
import {readFile, readdir} from 'node:fs/promises'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import type {ExportReport, ThunderbirdExportReport} from '../../src/engine/export/types.js'
import {runCli, type CliResult} from '../support/cli.js'
import {testTempDir} from '../support/temp-dir.js'
import {EMAIL, fakeThunderbird, readMaildirWithPython, seedBackup, writeConfigFile} from './helpers.js'

const BODY = 'body 1\r\nHi\r\nFrom here on it is still the body\r\n'
const MESSAGE = Buffer.from(`From: address@example.org\r\nSubject: Test 1\r\n\r\n${BODY}`)

async function home(options: {thunderbird?: 'one' | 'two' | 'none'; configAt?: string} = {}): Promise<{home: string; config: string; profile: string}> {
  const dir = await testTempDir('mailkeep-export-cli-')
  const root = join(dir, 'backup')
  await seedBackup(root, [
    {name: 'Foo', messages: [{uid: 1, raw: MESSAGE, flags: ['\\Seen'], internalDate: Date.UTC(2024, 0, 2, 3, 4, 5)}]},
    {name: 'Bar, with comma', messages: [{uid: 2, raw: MESSAGE, flags: [], internalDate: null}]},
  ])
  const config = await writeConfigFile(options.configAt === undefined ? join(dir, '.mailkeep', 'config.json') : join(dir, options.configAt), root)
  const which = options.thunderbird ?? 'one'
  const profiles = [
    {name: 'default-release', dir: 'p1.default-release'},
    {name: 'other', dir: 'p2.other'},
  ]
  if (which !== 'none') await fakeThunderbird(join(dir, '.thunderbird'), profiles, which === 'two' ? ['p1.default-release', 'p2.other'] : ['p1.default-release'])
  return {home: dir, config, profile: join(dir, '.thunderbird', 'p1.default-release')}
}

async function mailkeep(homeDir: string, args: string[]): Promise<CliResult> {
  return runCli(args, {env: {HOME: homeDir, MAILKEEP_CONFIG: undefined}, timeoutMs: 120_000})
}

describe('mailkeep utils export-to-thunderbird', () => {
  it('writes <profile>/Mail/Local Folders/imap-backup.sbd/<email>.sbd/Foo containing the body (compat §9.2 113)', async () => {
    const h = await home()
    const result = await mailkeep(h.home, ['utils', 'export-to-thunderbird', EMAIL])
    expect(result.code, result.stderr).toBe(0)
    const mailbox = await readFile(join(h.profile, 'Mail', 'Local Folders', 'imap-backup.sbd', `${EMAIL}.sbd`, 'Foo'), 'latin1')
    expect(mailbox).toBe(`From - Tue Jan  2 03:04:05 2024\nFrom: address@example.org\r\nSubject: Test 1\r\n\r\nbody 1\r\nHi\r\n>From here on it is still the body\r\n\n`)
    expect(result.stdout).toContain(`${EMAIL}: exported to Thunderbird profile 'default-release'`)
    expect(result.stdout).toContain('total: 2 messages')
  })

  it('fails with a message when Thunderbird is not installed (compat §9.2 114)', async () => {
    const h = await home({thunderbird: 'none'})
    const result = await mailkeep(h.home, ['utils', 'export-to-thunderbird', EMAIL])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('mailkeep: error: Default Thunderbird profile not found')
    expect(result.stderr).toContain(`there is no '${join(h.home, '.thunderbird', 'profiles.ini')}'`)
  })

  it('takes the config from -c (compat §9.2 115), and prints the report with --json', async () => {
    const h = await home({configAt: 'elsewhere/my-config.json'})
    const result = await mailkeep(h.home, ['utils', 'export-to-thunderbird', EMAIL, '-c', h.config, '--json'])
    expect(result.code, result.stderr).toBe(0)
    const report = JSON.parse(result.stdout) as ThunderbirdExportReport
    expect(report.folders.map((f) => [f.folder, f.status, f.messages])).toEqual([
      ['Bar, with comma', 'exported', 1],
      ['Foo', 'exported', 1],
    ])
    expect(report.profile.name).toBe('default-release')
  })

  it('skips an existing mailbox with exit 4 unless --force; several installs need --profile', async () => {
    const h = await home({thunderbird: 'two'})
    const guess = await mailkeep(h.home, ['utils', 'export-to-thunderbird', EMAIL])
    expect(guess.code).toBe(1)
    expect(guess.stderr).toContain('Thunderbird has multiple installs, so no default profile exists')

    expect((await mailkeep(h.home, ['utils', 'export-to-thunderbird', EMAIL, '-p', 'other'])).code).toBe(0)
    const again = await mailkeep(h.home, ['utils', 'export-to-thunderbird', EMAIL, '--profile', 'other'])
    expect(again.code).toBe(4)
    expect(again.stderr).toContain("Skipping export of 'Foo' as")
    expect(again.stdout).toMatch(/Foo\s+skipped: '.*\/Foo' exists/)
    expect(again.stdout).toContain('exit 4 (INCOMPLETE): not everything was exported')
    const forced = await mailkeep(h.home, ['utils', 'export-to-thunderbird', EMAIL, '-p', 'other', '-f'])
    expect(forced.code, forced.stderr).toBe(0)
  })
})

describe('mailkeep utils export', () => {
  it('exports Maildir with --json, selects folders with --folders (\\, for a comma), and refuses to overwrite', async () => {
    const h = await home()
    const to = join(h.home, 'maildir')
    const result = await mailkeep(h.home, ['utils', 'export', EMAIL, '--format', 'maildir', '--to', to, '--folders', 'Bar\\, with comma', '--json'])
    expect(result.code, result.stderr).toBe(0)
    const report = JSON.parse(result.stdout) as ExportReport
    expect(report).toMatchObject({account: EMAIL, format: 'maildir', to, messages: 1, bytes: MESSAGE.length, exitCode: 0})
    expect(report.folders).toEqual([
      {folder: 'Bar, with comma', status: 'exported', path: join(to, 'Bar, with comma'), messages: 1, bytes: MESSAGE.length, legacyMessages: 0, failedMessages: []},
    ])
    const read = await readMaildirWithPython(join(to, 'Bar, with comma'))
    expect(read.map((m) => m.bytes.equals(MESSAGE))).toEqual([true])

    const refused = await mailkeep(h.home, ['utils', 'export', EMAIL, '--format', 'maildir', '--to', to])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('already holds messages; nothing was exported')
    expect(await readdir(to)).toEqual(['Bar, with comma'])

    const unknown = await mailkeep(h.home, ['utils', 'export', EMAIL, '--format', 'eml', '--to', to, '--folders', 'Nope'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain("Folder 'Nope' not found")
  })

  it('exports .eml files byte for byte and prints a summary', async () => {
    const h = await home()
    const to = join(h.home, 'eml')
    const result = await mailkeep(h.home, ['utils', 'export', EMAIL, '--format', 'eml', '--to', to])
    expect(result.code, result.stderr).toBe(0)
    expect((await readFile(join(to, 'Foo', '1.eml'))).equals(MESSAGE)).toBe(true)
    expect((await readFile(join(to, 'Bar, with comma', '2.eml'))).equals(MESSAGE)).toBe(true)
    expect(result.stdout).toContain(`${EMAIL}: exported as .eml files to ${to}`)
    const bad = await mailkeep(h.home, ['utils', 'export', EMAIL, '--format', 'mbox', '--to', to])
    expect(bad.code).toBe(2)
  })
})
