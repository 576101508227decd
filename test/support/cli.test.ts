// The CLI runner: exit status, output, environment, stdin, signals and timeouts. Only
// `--version` runs the real CLI (it answers before loading dist/); the rest uses tiny scripts.
import {readFileSync} from 'node:fs'
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {CLI_PATH, REPO_ROOT, runCli, spawnCli} from './cli.js'
import {testTempDir} from './temp-dir.js'

async function script(source: string): Promise<string> {
  const path = join(await testTempDir(), 'script.mjs')
  await writeFile(path, source)
  return path
}

describe('cli runner', () => {
  it('runs bin/run.js of this checkout', async () => {
    expect(CLI_PATH).toBe(join(REPO_ROOT, 'bin', 'run.js'))
    const version = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version as string
    const result = await runCli(['--version'])
    expect(result).toEqual({code: 0, signal: null, stdout: `mailkeep ${version}\n`, stderr: ''})
  })

  it('passes environment, working directory and stdin, and reports the exit code', async () => {
    const cwd = await testTempDir()
    const entry = await script(`
      let input = ''
      process.stdin.on('data', (d) => (input += d))
      process.stdin.on('end', () => {
        process.stdout.write(JSON.stringify({cwd: process.cwd(), a: process.env.MK_A, b: process.env.MK_B ?? null, input}) + '\\n')
        process.stderr.write('to stderr\\n')
        process.exit(3)
      })`)
    process.env.MK_B = 'inherited'
    try {
      const result = await runCli(['x'], {entry, cwd, env: {MK_A: 'set', MK_B: undefined}, input: 'typed\n'})
      expect(result.code).toBe(3)
      expect(JSON.parse(result.stdout)).toEqual({cwd, a: 'set', b: null, input: 'typed\n'})
      expect(result.stderr).toBe('to stderr\n')
    } finally {
      delete process.env.MK_B
    }
  })

  it('waits for a line, then delivers a signal', async () => {
    const entry = await script(`
      process.on('SIGINT', () => { console.error('interrupted'); process.exit(130) })
      console.log('starting')
      setTimeout(() => console.log('ready for a signal'), 50)
      setInterval(() => {}, 1000)`)
    const cli = spawnCli([], {entry})
    expect(await cli.waitForLine('stdout', /^ready/)).toBe('ready for a signal')
    expect(await cli.waitForLine('stdout', /^start/)).toBe('starting') // earlier lines count too
    cli.kill('SIGINT')
    const result = await cli.exited
    expect(result).toMatchObject({code: 130, signal: null, stderr: 'interrupted\n'})
    await expect(cli.waitForLine('stderr', /never/)).rejects.toThrow(/exited without/)
  })

  it('reports SIGKILL, and rejects on timeout with the output so far', async () => {
    const entry = await script(`console.log('hanging'); setInterval(() => {}, 1000)`)
    const cli = spawnCli([], {entry})
    await cli.waitForLine('stdout', /hanging/)
    cli.kill('SIGKILL')
    expect(await cli.exited).toMatchObject({code: null, signal: 'SIGKILL', stdout: 'hanging\n'})
    // Long enough for a loaded 2-core machine to start node and print the line before the timeout.
    await expect(runCli([], {entry, timeoutMs: 8000})).rejects.toThrow(/timed out after 8000 ms[\s\S]*hanging/)
  })
})
