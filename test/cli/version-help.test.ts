/**
 * `mailkeep version` and `mailkeep help` (imap-backup has both, compat §2.2) through the real
 * built CLI: what they print, on which stream, and exit status 0. No config file is needed.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {REPO_ROOT} from '../support/cli.js'
import {mailkeep, makeHome, show} from './helpers.js'

const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {version: string}).version

/** The commands and topics the build registered (oclif.manifest.json, written by `npm run build`). */
function manifest(): {commands: string[]; topics: string[]} {
  const ids = Object.keys((JSON.parse(readFileSync(join(REPO_ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, unknown>}).commands)
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
