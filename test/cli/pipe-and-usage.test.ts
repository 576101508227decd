/**
 * Two everyday mistakes, through the real built CLI: a reader that closes the pipe early
 * (`mailkeep local show … | head`) ends the command quietly with its own exit status, and a
 * command line that lacks an argument names what is missing.
 */
import {spawn} from 'node:child_process'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {CLI_PATH, recordTranscript, REPO_ROOT} from '../support/cli.js'
import {startDovecot, type DovecotInstance, type TestUser} from '../support/dovecot.js'
import {appendMessages} from '../support/mail-seed.js'
import {makeTempDir, removeTempDir} from '../support/temp-dir.js'
import {accountEntry, defaultConfigPath, mailkeep, show, writeConfig} from './helpers.js'

let dovecot: DovecotInstance
let alice: TestUser
let home: string

/** A message far larger than a pipe's buffer (64 KiB), so the reader leaves mid-write. */
const BIG = `From: a@example.test\r\nSubject: big\r\n\r\n${'0123456789abcdef'.repeat(256 * 1024 / 16).replace(/(.{76})/g, '$1\r\n')}\r\n`

beforeAll(async () => {
  dovecot = await startDovecot()
  alice = dovecot.users[0]!
  await appendMessages(dovecot, alice, 'INBOX', [{raw: Buffer.from(BIG)}, {raw: Buffer.from(BIG)}, {raw: Buffer.from(BIG)}])
  home = await makeTempDir('mailkeep-pipe-')
  await writeConfig(defaultConfigPath(home), {version: '2.2', accounts: [accountEntry(dovecot, alice, join(home, 'backup'))]})
  const result = await mailkeep(home, ['backup', '--quiet'])
  expect(result.code, show(result)).toBe(0)
}, 120_000)

afterAll(async () => {
  await dovecot?.stop()
  if (home !== undefined) await removeTempDir(home)
})

/**
 * Runs the CLI with stdout on a pipe whose reader closes it after `keep` bytes, as `| head -c`
 * does; resolves with the exit status and stderr.
 */
function runIntoClosingPipe(args: readonly string[], keep: number): Promise<{code: number | null; signal: NodeJS.Signals | null; received: number; stderr: string}> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = {...process.env, HOME: home, NO_COLOR: '1'}
    delete env['MAILKEEP_CONFIG']
    const child = spawn(process.execPath, [CLI_PATH, ...args], {cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe']})
    let received = 0
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => {
      received += chunk.length
      // The reader has what it wanted and goes away: the write end now gets EPIPE.
      if (received >= keep) child.stdout.destroy()
    })
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.once('error', reject)
    child.once('close', (code, signal) => {
      recordTranscript(CLI_PATH, args, {code, signal, stdout: '', stderr})
      resolve({code, signal, received, stderr})
    })
  })
}

describe('a closed pipe', () => {
  it('`local show` into a reader that leaves after 100 bytes ends quietly with exit 0', async () => {
    const result = await runIntoClosingPipe(['local', 'show', alice.user, 'INBOX', '1,2,3'], 100)
    expect(result.received).toBeGreaterThanOrEqual(100)
    // Far less than the three messages: the reader really left before the end.
    expect(result.received).toBeLessThan(3 * BIG.length)
    expect(result.stderr).toBe('')
    expect(result.signal).toBeNull()
    expect(result.code).toBe(0)
  })

  it('`local show --json` (written without waiting, as every result is) into a reader that leaves after the first byte ends quietly with exit 0', async () => {
    const result = await runIntoClosingPipe(['local', 'show', alice.user, 'INBOX', '1,2,3', '--json'], 1)
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
  })

  it('a real shell pipe into head prints the first lines and no error', async () => {
    const result = await new Promise<{code: number | null; stdout: string; stderr: string}>((resolve, reject) => {
      const script = `set -o pipefail; "${process.execPath}" "${CLI_PATH}" local show '${alice.user}' INBOX 1,2,3 | head -n 2`
      const env: NodeJS.ProcessEnv = {...process.env, HOME: home}
      delete env['MAILKEEP_CONFIG']
      const child = spawn('bash', ['-c', script], {cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe']})
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
      child.once('error', reject)
      child.once('close', (code) => resolve({code, stdout, stderr}))
    })
    recordTranscript(CLI_PATH, ['local', 'show'], {...result, signal: null})
    expect(result.stdout).toMatch(/^-{80}\n\| UID: 1 +\|\n$/)
    expect(result.stderr).toBe('')
    // pipefail: the status is mailkeep's own.
    expect(result.code).toBe(0)
  })
})

describe('usage errors name what is missing', () => {
  it('`restore` without EMAIL', async () => {
    const result = await mailkeep(home, ['restore'])
    expect(result.code, show(result)).toBe(2)
    expect(result.stderr).toBe('mailkeep: error: missing the required argument EMAIL (the account whose backup is restored)\nhint: see `mailkeep help restore`\n')
  })

  it('`local show` with only EMAIL lists both missing arguments', async () => {
    const result = await mailkeep(home, ['local', 'show', alice.user])
    expect(result.code, show(result)).toBe(2)
    expect(result.stderr.split('\n')[0]).toBe("mailkeep: error: missing 2 required arguments: FOLDER (the folder's server name), UIDS (UID, or UIDs separated by commas)")
    expect(result.stderr).toContain('hint: see `mailkeep help local show`')
  })

  it('flags that exclude each other say which', async () => {
    const result = await mailkeep(home, ['local', 'accounts', '--quiet', '--verbose'])
    expect(result.code, show(result)).toBe(2)
    expect(result.stderr.split('\n')[0]).toMatch(/^mailkeep: error: --(quiet|verbose)=true cannot also be provided when using --(verbose|quiet)$/)
  })

  it('--json gives the same message in the error object', async () => {
    const result = await mailkeep(home, ['restore', '--json'])
    expect(result.code, show(result)).toBe(2)
    expect(JSON.parse(result.stdout)).toMatchObject({error: {name: 'UsageError', message: 'missing the required argument EMAIL (the account whose backup is restored)', exitCode: 2}})
  })
})
