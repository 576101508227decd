/**
 * `npm run demo` ends with commands to try on one's own. They must work after the demo has ended
 * and stopped its Dovecot (they used to name a backup, which then failed to connect). The demo
 * runs here as it is (scripts/demo.mjs, the built CLI), into a temporary directory, and each
 * suggested line is then run as printed.
 */
import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {recordTranscript, REPO_ROOT} from '../support/cli.js'
import {makeTempDir, removeTempDir} from '../support/temp-dir.js'

let dir: string

beforeAll(async () => {
  dir = await makeTempDir('mailkeep-demo-')
})

afterAll(async () => {
  if (dir !== undefined) await removeTempDir(dir)
})

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<{code: number | null; stdout: string; stderr: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.once('error', reject)
    child.once('close', (code) => resolve({code, stdout, stderr}))
  })
}

describe('the demo', () => {
  it('ends with commands that work once it has stopped its server', async () => {
    const env: NodeJS.ProcessEnv = {...process.env, HOME: dir, MAILKEEP_DEMO_DIR: join(dir, 'demo')}
    delete env['MAILKEEP_CONFIG']
    const demo = await run(process.execPath, [join(REPO_ROOT, 'scripts', 'demo.mjs')], env)
    recordTranscript(join(REPO_ROOT, 'scripts', 'demo.mjs'), [], {...demo, signal: null})
    expect(demo.code, `${demo.stdout}\n${demo.stderr}`).toBe(0)
    // It searched the backup itself, and stopped its Dovecot.
    expect(demo.stdout).toMatch(/^== 7\. Reading the backup: no server needed$/m)
    const pid = /stopping Dovecot \(pid (\d+)\)/.exec(demo.stdout)?.[1]
    expect(pid).toBeDefined()
    expect(existsSync(`/proc/${pid}`)).toBe(false)

    const after = demo.stdout.slice(demo.stdout.indexOf('These read the backup and work without the server:'))
    const lines = after
      .split('\n')
      .filter((l) => l.startsWith('  node bin/run.js '))
      .map((l) => l.trim())
    expect(lines.length).toBeGreaterThanOrEqual(3)
    for (const line of lines) {
      const args = line.split(' ').slice(1)
      const result = await run(process.execPath, args, env)
      recordTranscript(join(REPO_ROOT, 'bin', 'run.js'), args.slice(1), {...result, signal: null})
      expect(result.code, `${line}\n${result.stdout}\n${result.stderr}`).toBe(0)
      expect(result.stdout).not.toBe('')
    }
  }, 300_000)
})
