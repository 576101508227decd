// The CLI runner: exit status, output, environment, stdin, signals and timeouts. Only
// `--version` runs the real CLI (it answers before loading dist/); the rest uses tiny scripts.
import {readFileSync} from 'node:fs'
import {readdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {CLI_PATH, REPO_ROOT, runCli, spawnCli, TRANSCRIPTS_ENV} from './cli.js'
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

describe('cli runner: transcripts for the secret scan (MAILKEEP_TEST_TRANSCRIPTS)', () => {
  /** Runs `fn` with the variable set to `value` (or unset), restoring what CI may have set. */
  async function withTranscripts<T>(value: string | undefined, fn: () => Promise<T>): Promise<T> {
    const saved = process.env[TRANSCRIPTS_ENV]
    if (value === undefined) delete process.env[TRANSCRIPTS_ENV]
    else process.env[TRANSCRIPTS_ENV] = value
    try {
      return await fn()
    } finally {
      if (saved === undefined) delete process.env[TRANSCRIPTS_ENV]
      else process.env[TRANSCRIPTS_ENV] = saved
    }
  }

  const printer = `process.stdout.write('out: ' + process.argv.slice(2).join(' ') + '\\n'); process.stderr.write('err line\\n'); process.exit(4)`

  it("appends every run's stdout and stderr, naming the run by its command words only", async () => {
    const dir = join(await testTempDir(), 'transcripts') // created on first use
    const entry = await script(printer)
    await withTranscripts(dir, async () => {
      const first = await runCli(['local', 'check'], {entry})
      expect(first.code).toBe(4)
      const spawned = spawnCli(['single', 'backup', '--password', 'pw-in-argv-only', '-e', 'me@example.test'], {entry})
      await spawned.exited
    })
    expect(await readdir(dir)).toEqual([`cli-${process.pid}.log`])
    const text = await readFile(join(dir, `cli-${process.pid}.log`), 'utf8')
    expect(text).toMatch(new RegExp(`^=== run \\d+ of test process ${process.pid}: script\\.mjs local check \\(exit 4\\)\n--- stdout ---\nout: local check\n\n--- stderr ---\nerr line\n\n`))
    // What the CLI printed is all there (the password too, since this script prints its argv) ...
    expect(text).toContain('out: single backup --password pw-in-argv-only -e me@example.test\n')
    // ... but the header never copies arguments past the command words.
    expect(text).toMatch(/: script\.mjs single backup … \(exit 4\)\n/)
    expect(text.split('\n').filter((line) => line.startsWith('=== ')).join('\n')).not.toContain('pw-in-argv-only')
  })

  it('writes nothing when the variable is not set or empty', async () => {
    const dir = await testTempDir()
    const entry = await script(printer)
    for (const value of [undefined, '']) {
      await withTranscripts(value, async () => {
        expect((await runCli(['version'], {entry, cwd: dir})).code).toBe(4)
      })
    }
    expect(await readdir(dir)).toEqual([]) // not even under the working directory
  })
})
