/**
 * `mailkeep version` and `mailkeep help` (imap-backup has both, compat §2.2) through the real
 * built CLI: what they print, on which stream, and exit status 0. No config file is needed.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {REPO_ROOT} from '../support/cli.js'
import {Terminal} from '../setup/terminal.js'
import {mailkeep, makeHome, show} from './helpers.js'

const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {version: string}).version

/** The commands and topics the build registered (oclif.manifest.json, written by `npm run build`). */
function manifest(): {commands: string[]; topics: string[]} {
  const all = (JSON.parse(readFileSync(join(REPO_ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, {hidden?: boolean}>}).commands
  // Hidden commands (autocomplete's helpers) are not listed, nor do they make a topic.
  const ids = Object.keys(all).filter((id) => all[id]!.hidden !== true)
  return {
    commands: ids.filter((id) => !id.includes(':')),
    topics: [...new Set(ids.filter((id) => id.includes(':')).map((id) => id.split(':')[0]!))],
  }
}

describe('mailkeep version', () => {
  it('prints "mailkeep <version>" and exits 0', async () => {
    const home = await makeHome()
    const result = await mailkeep(home, ['version'])
    expect(result, show(result)).toMatchObject({code: 0, signal: null, stdout: `mailkeep ${VERSION}\n`, stderr: ''})
  })

  it('--json prints the typed result', async () => {
    const home = await makeHome()
    const result = await mailkeep(home, ['version', '--json'])
    expect(result.code, show(result)).toBe(0)
    expect(JSON.parse(result.stdout)).toEqual({name: 'mailkeep', version: VERSION})
    expect(result.stderr).toBe('')
  })
})

describe('mailkeep help', () => {
  it('lists every command and topic and exits 0', async () => {
    const home = await makeHome()
    const result = await mailkeep(home, ['help'])
    expect(result.code, show(result)).toBe(0)
    expect(result.stderr).toBe('')
    expect(result.stdout).toContain(`mailkeep/${VERSION}`)
    expect(result.stdout).toMatch(/^USAGE\n {2}\$ mailkeep \[COMMAND\]$/m)
    const {commands, topics} = manifest()
    expect(commands).toEqual(expect.arrayContaining(['backup', 'restore', 'setup', 'version', 'help']))
    expect(topics).toEqual(expect.arrayContaining(['local', 'remote', 'single', 'utils']))
    const section = (title: string): string => result.stdout.split(`\n${title}\n`)[1]?.split('\n\n')[0] ?? ''
    for (const command of commands) expect(section('COMMANDS'), command).toMatch(new RegExp(`^ {2}${command} +\\S`, 'm'))
    for (const topic of topics) expect(section('TOPICS'), topic).toMatch(new RegExp(`^ {2}${topic} +\\S`, 'm'))
  })

  it('help PAGE prints a page of the documentation the package carries; help lists the pages', async () => {
    const home = await makeHome()
    const page = await mailkeep(home, ['help', 'config'])
    expect(page.code, show(page)).toBe(0)
    expect(page.stdout).toBe(`${readFileSync(join(REPO_ROOT, 'docs', 'config.md'), 'utf8').trimEnd()}\n`)
    const command = await mailkeep(home, ['help', 'commands/local'])
    expect(command.stdout).toMatch(/^# `mailkeep local …`/)
    // A command of the same name wins; the page is there as backup.md.
    expect((await mailkeep(home, ['help', 'backup'])).stdout).toMatch(/^back up the configured accounts/)
    expect((await mailkeep(home, ['help', 'backup.md'])).stdout).toMatch(/^# The backup engine/)
    const root = await mailkeep(home, ['help'])
    expect(root.stdout).toMatch(/^DOCUMENTATION \(mailkeep help PAGE\)\n {2}auth +Logging in: passwords and OAuth2$/m)
    expect(root.stdout).toMatch(/^ {2}commands\/local +mailkeep local …: the local backup$/m)
    const unknown = await mailkeep(home, ['help', 'no-such-page'])
    expect(unknown.code).toBe(2)
  })

  it('a mistyped command is answered with the nearest one, its arguments kept (exit 2 without a terminal)', async () => {
    const home = await makeHome()
    const result = await mailkeep(home, ['local', 'lsit', 'me@example.com', 'INBOX'])
    expect(result.code, show(result)).toBe(2)
    expect(result.stderr).toBe('mailkeep: error: `local lsit me@example.com INBOX` is not a mailkeep command; did you mean `local list me@example.com INBOX`?\nhint: `mailkeep help local` lists its commands\n')
  })

  it('on a terminal, oclif\'s plugin-not-found asks "Did you mean …?" and runs the answer', async () => {
    const home = await makeHome()
    const t = Terminal.start(['lcal', 'accounts'], {env: {HOME: home, MAILKEEP_CONFIG: undefined}})
    try {
      await t.waitFor('Did you mean local accounts? (Y/n)')
      t.answer('y')
      const {code} = await t.exited
      // It ran `local accounts`, which finds no config in this HOME.
      expect(code).toBe(3)
      expect(t.text()).toContain('lcal accounts is not a mailkeep command')
      expect(t.text()).toMatch(/mailkeep: error: .*config\.json/)
    } finally {
      await t.close()
    }
  })

  it('help backup describes the command, its flags and the global flags, as backup --help does', async () => {
    const home = await makeHome()
    const result = await mailkeep(home, ['help', 'backup'])
    expect(result.code, show(result)).toBe(0)
    expect(result.stderr).toBe('')
    expect(result.stdout).toMatch(/^back up the configured accounts/)
    expect(result.stdout).toMatch(/^USAGE\n {2}\$ mailkeep backup /m)
    for (const flag of ['-a, --accounts=<value>', '-r, --refresh', '-c, --config=<value>', '-q, --quiet', '-v, --verbose', '--json', '--log-format=<option>']) {
      expect(result.stdout).toContain(flag)
    }
    expect(result.stdout).toContain('Exit status: 0 done;')
    expect(result.stdout).toContain('$ mailkeep backup --accounts me@example.com,work@example.com')

    const flagForm = await mailkeep(home, ['backup', '--help'])
    expect(flagForm.code, show(flagForm)).toBe(0)
    expect(flagForm.stdout).toBe(result.stdout)
  })
})
