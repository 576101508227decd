/**
 * scripts/scan-secrets.mjs itself: it finds each kind of leak (as written, JSON-escaped, inside
 * base64 as in an AUTHENTICATE line), names it without printing it, and exits 1; a clean file
 * exits 0. It takes several files and directories (.ci/run passes vitest's output and the
 * directory of CLI transcripts), and a path it cannot read is an error, never "no hits".
 */
import {spawnSync} from 'node:child_process'
import {mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {DEFAULT_USERS} from '../support/dovecot.js'
import {REPO_ROOT} from '../support/cli.js'
import {testTempDir} from '../support/temp-dir.js'
import {TOKEN_ROTATED} from './test-secrets.js'

const SCRIPT = join(REPO_ROOT, 'scripts', 'scan-secrets.mjs')

async function scan(text: string, ...args: string[]): Promise<{status: number | null; stdout: string; stderr: string}> {
  const dir = await testTempDir('mailkeep-scan-test-')
  const file = join(dir, 'output.txt')
  await writeFile(file, text)
  const result = spawnSync(process.execPath, [SCRIPT, file, ...args], {encoding: 'utf8'})
  return {status: result.status, stdout: result.stdout, stderr: result.stderr}
}

const [alice, , , dave] = DEFAULT_USERS as unknown as [{user: string; password: string}, unknown, unknown, {user: string; password: string}]

describe('scripts/scan-secrets.mjs', () => {
  it('a clean file: exit 0', async () => {
    const result = await scan('mailkeep: error: login refused by 127.0.0.1:143 for alice@example.test\n')
    expect(result.status, result.stdout + result.stderr).toBe(0)
    expect(result.stdout).toMatch(/no hits/)
  })

  it.each([
    ['in a LOGIN line', 'as written', (p: string, u: string) => `C: A1 LOGIN ${u} ${p}`],
    ['JSON-escaped', 'JSON-escaped', (p: string) => `{"msg":"x","pass":${JSON.stringify(p)}}`],
    ['in an AUTHENTICATE PLAIN response', 'base64 (offset', (p: string, u: string) => `C: A1 AUTHENTICATE PLAIN ${Buffer.from(`\0${u}\0${p}`).toString('base64')}`],
    ['in a PLAIN response with an authorization identity', 'base64 (offset', (p: string, u: string) => `AUTHENTICATE PLAIN ${Buffer.from(`${u}\0${u}\0${p}`).toString('base64')}`],
    ['base64-encoded alone', 'base64 (offset', (p: string) => `x ${Buffer.from(p).toString('base64')} y`],
  ])('finds a password %s, names it and the line, never prints it', async (_title, form, make) => {
    for (const user of [alice, dave]) {
      const result = await scan(`line one\nline two ${make(user.password, user.user)}\n`)
      expect(result.status, result.stdout).toBe(1)
      // A password with nothing to escape is the same text JSON-escaped: found "as written".
      const expected = form === 'JSON-escaped' && JSON.stringify(user.password) === `"${user.password}"` ? 'as written' : form
      expect(result.stdout).toContain(`output.txt:2: password of ${user.user} (${expected}`)
      expect(result.stdout).not.toContain(user.password)
      expect(result.stdout).toMatch(/: [1-9] hit\(s\)$/m)
    }
  })

  it('finds a test token inside an XOAUTH2 / OAUTHBEARER response', async () => {
    for (const raw of [`user=x@y\x01auth=Bearer ${TOKEN_ROTATED}\x01\x01`, `n,a=x@y,\x01host=127.0.0.1\x01port=1\x01auth=Bearer ${TOKEN_ROTATED}\x01\x01`]) {
      const result = await scan(`AUTHENTICATE XOAUTH2 ${Buffer.from(raw).toString('base64')}\n`)
      expect(result.status, result.stdout).toBe(1)
      expect(result.stdout).toContain('OAuth2 token, valid (rotated)')
      expect(result.stdout).not.toContain(TOKEN_ROTATED)
    }
  })

  it('takes more secrets with --secrets, and - for stdin', async () => {
    const dir = await testTempDir('mailkeep-scan-test-')
    const extra = join(dir, 'more.json')
    await writeFile(extra, JSON.stringify({secrets: [{label: 'extra one', value: 'extra-Secret-77aa'}]}))
    expect((await scan('has extra-Secret-77aa\n', '--secrets', extra)).status).toBe(1)
    const piped = spawnSync(process.execPath, [SCRIPT, '-'], {input: `leak ${alice.password}\n`, encoding: 'utf8'})
    expect(piped.status).toBe(1)
    expect(piped.stdout).toContain('<stdin>:1: password of alice@example.test (as written)')
    expect(spawnSync(process.execPath, [SCRIPT], {encoding: 'utf8'}).status).toBe(2)
  })

  it('--secrets DIR takes every *.json file of the directory: the secrets the tests generated at run time', async () => {
    const dir = await testTempDir('mailkeep-scan-test-')
    const secrets = join(dir, 'runtime')
    await mkdir(secrets)
    // As test/support/runtime-secrets.ts writes them (one file per test process).
    await writeFile(join(secrets, 'secrets-1.json'), JSON.stringify({secrets: [{label: 'OAuth2 access token #1', value: 'rt-Access-4f1c9a0b77'}]}))
    await writeFile(join(secrets, 'secrets-2.json'), JSON.stringify({secrets: [{label: 'OAuth2 refresh token #1', value: 'rt-Refresh-8e2d61c3aa'}]}))
    await writeFile(join(secrets, 'notes.txt'), 'not a secrets file')
    const xoauth2 = Buffer.from('user=a@b\x01auth=Bearer rt-Access-4f1c9a0b77\x01\x01').toString('base64')
    const hit = await scan(`AUTHENTICATE XOAUTH2 ${xoauth2}\nlater rt-Refresh-8e2d61c3aa\n`, '--secrets', secrets)
    expect(hit.status, hit.stdout + hit.stderr).toBe(1)
    expect(hit.stdout).toContain('output.txt:1: OAuth2 access token #1 (base64')
    expect(hit.stdout).toContain('output.txt:2: OAuth2 refresh token #1 (as written)')
    expect(hit.stdout).not.toContain('rt-Access-4f1c9a0b77')
    // An empty directory (no test generated any secret) is fine; a missing one is an error.
    const empty = join(dir, 'empty')
    await mkdir(empty)
    expect((await scan('clean\n', '--secrets', empty)).status).toBe(0)
    expect((await scan('clean\n', '--secrets', join(dir, 'missing'))).status).toBe(2)
  })

  describe('several paths, and directories', () => {
    const run = (...args: string[]): {status: number | null; stdout: string; stderr: string} => {
      const result = spawnSync(process.execPath, [SCRIPT, ...args], {encoding: 'utf8'})
      return {status: result.status, stdout: result.stdout, stderr: result.stderr}
    }

    it('scans every file given, and every file under a directory (nested too)', async () => {
      const dir = await testTempDir('mailkeep-scan-test-')
      const output = join(dir, 'vitest-output.txt')
      await writeFile(output, 'all tests passed\n')
      const transcripts = join(dir, 'transcripts')
      await mkdir(join(transcripts, 'worker-2'), {recursive: true})
      await writeFile(join(transcripts, 'cli-100.log'), '=== run 1\n--- stdout ---\nclean\n')
      await writeFile(join(transcripts, 'worker-2', 'cli-200.log'), `=== run 1\n--- stderr ---\nlogin ${dave.password}\n`)

      const clean = run(output, join(transcripts, 'cli-100.log'))
      expect(clean.status, clean.stdout + clean.stderr).toBe(0)
      expect(clean.stdout).toMatch(/ in 2 file\(s\), \d+ secrets: no hits$/m)

      const leak = run(output, transcripts)
      expect(leak.status, leak.stdout + leak.stderr).toBe(1)
      expect(leak.stdout).toContain(`${join(transcripts, 'worker-2', 'cli-200.log')}:3: password of ${dave.user} (as written)`)
      expect(leak.stdout).toMatch(/ in 3 file\(s\), \d+ secrets: 1 hit\(s\)$/m)
      expect(leak.stdout).not.toContain(dave.password)
    })

    it('an empty directory has nothing to find', async () => {
      const empty = await testTempDir('mailkeep-scan-test-')
      const result = run(empty)
      expect(result.status, result.stdout + result.stderr).toBe(0)
      expect(result.stdout).toMatch(/ in 0 file\(s\)/)
    })

    it('a path that is not there is a usage error (exit 2), not "no hits"', async () => {
      const dir = await testTempDir('mailkeep-scan-test-')
      const file = join(dir, 'output.txt')
      await writeFile(file, 'clean\n')
      const result = run(file, join(dir, 'no-such-transcripts'))
      expect(result.status).toBe(2)
      expect(result.stderr).toContain('no-such-transcripts')
      expect(result.stdout).not.toMatch(/no hits/)
    })
  })
})
