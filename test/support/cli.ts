/**
 * Runs the real CLI (`node bin/run.js ...`) as a child process, for end-to-end, signal and crash
 * tests. bin/run.js loads `dist/`, so these tests need a prior `npm run build` (`npm test` does
 * it); nothing here builds.
 *
 * What a run prints is captured into strings that never reach vitest's console. So that CI can
 * still scan all of it for the test passwords, every run's stdout and stderr are also appended
 * to a transcript file in the directory named by MAILKEEP_TEST_TRANSCRIPTS, when it is set
 * (.ci/run sets it and scans the directory with scripts/scan-secrets.mjs).
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {appendFileSync, existsSync, mkdirSync} from 'node:fs'
import {basename, join} from 'node:path'
import {fileURLToPath} from 'node:url'

/** bin/run.js of this checkout, found relative to this file. */
export const CLI_PATH = fileURLToPath(new URL('../../bin/run.js', import.meta.url))
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))

export interface CliOptions {
  /**
   * Added to the test process's environment; `undefined` removes a variable. Tests should set
   * HOME (and MAILKEEP_CONFIG) to a temp dir so that no run touches a real home directory.
   */
  env?: Record<string, string | undefined>
  cwd?: string
  /** Written to stdin, which is then closed (stdin is always closed, so prompts cannot hang). */
  input?: string | Buffer
  /** Kills the CLI with SIGKILL after this long; `runCli` then rejects. Default 60 s. */
  timeoutMs?: number
  /** A script to run instead of bin/run.js (the tests of this module use small scripts). */
  entry?: string
}

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export type OutputStream = 'stdout' | 'stderr'

/** The environment variable naming the directory of CLI transcripts; nothing is written when unset. */
export const TRANSCRIPTS_ENV = 'MAILKEEP_TEST_TRANSCRIPTS'

let recordedRuns = 0

/**
 * Appends one run's stdout and stderr to `<$MAILKEEP_TEST_TRANSCRIPTS>/cli-<pid>.log` (one file
 * per test worker process, so parallel workers never interleave), synchronously, so the text is
 * on disk before the test sees the result. For spawners that do not go through spawnCli (e.g. a
 * byte-exact `local show`). The header names the run by its leading command words only: the
 * other arguments may hold a password (`single backup --password`), and the scan is about what
 * mailkeep printed, not what the test passed to it.
 */
export function recordTranscript(entry: string, args: readonly string[], result: Pick<CliResult, 'code' | 'signal' | 'stdout' | 'stderr'>): void {
  const dir = process.env[TRANSCRIPTS_ENV]
  if (dir === undefined || dir === '') return
  mkdirSync(dir, {recursive: true, mode: 0o700})
  const words: string[] = []
  for (const arg of args) {
    if (!/^[a-z][a-z0-9-]*$/.test(arg)) break
    words.push(arg)
  }
  const program = entry === CLI_PATH ? 'mailkeep' : basename(entry)
  const status = result.signal === null ? `exit ${result.code}` : `signal ${result.signal}`
  recordedRuns++
  const header = `=== run ${recordedRuns} of test process ${process.pid}: ${[program, ...words].join(' ')}${words.length < args.length ? ' …' : ''} (${status})`
  appendFileSync(join(dir, `cli-${process.pid}.log`), `${header}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}\n`, {mode: 0o600})
}

export interface SpawnedCli {
  readonly child: ChildProcess
  readonly pid: number
  /** Resolves when the process has exited and its output is complete. */
  readonly exited: Promise<CliResult>
  /** Output so far. */
  stdout(): string
  stderr(): string
  /**
   * Resolves with the first complete line (already printed or still to come) that matches;
   * rejects if the process exits first or after `timeoutMs` (default 30 s).
   */
  waitForLine(stream: OutputStream, pattern: RegExp, timeoutMs?: number): Promise<string>
  /** Sends a signal to the CLI process (by its PID). */
  kill(signal?: NodeJS.Signals): void
}

/** Runs the CLI to completion. Rejects only when it cannot be started or times out. */
export async function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const timeoutMs = options.timeoutMs ?? 60_000
  const cli = spawnCli(args, {...options, timeoutMs: undefined})
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    cli.kill('SIGKILL')
  }, timeoutMs)
  try {
    const result = await cli.exited
    if (timedOut) {
      throw new Error(`mailkeep ${args.join(' ')} timed out after ${timeoutMs} ms\n--- stdout ---\n${tail(result.stdout)}\n--- stderr ---\n${tail(result.stderr)}`)
    }
    return result
  } finally {
    clearTimeout(timer)
  }
}

/** Starts the CLI and returns at once, for tests that signal or kill it mid-run. */
export function spawnCli(args: readonly string[], options: CliOptions = {}): SpawnedCli {
  const entry = options.entry ?? CLI_PATH
  if (!existsSync(entry)) throw new Error(`${entry} not found`)
  const env: NodeJS.ProcessEnv = {...process.env, NO_COLOR: '1'}
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key]
    else env[key] = value
  }
  const child = spawn(process.execPath, [entry, ...args], {cwd: options.cwd ?? REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe']})
  const out = {stdout: new OutputBuffer(), stderr: new OutputBuffer()}
  child.stdout!.on('data', (chunk: Buffer) => out.stdout.add(chunk))
  child.stderr!.on('data', (chunk: Buffer) => out.stderr.add(chunk))
  // EPIPE when the CLI exits without reading its input: the exit status says what happened.
  child.stdin!.on('error', () => undefined)
  child.stdin!.end(options.input ?? '')

  const exited = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject)
    // 'close' (not 'exit'): all output has been read by then.
    child.once('close', (code, signal) => {
      out.stdout.finish()
      out.stderr.finish()
      const result = {code, signal, stdout: out.stdout.text(), stderr: out.stderr.text()}
      try {
        recordTranscript(entry, args, result)
      } catch (error) {
        // A transcript that cannot be written must fail the test, not go unscanned.
        reject(error instanceof Error ? error : new Error(String(error)))
        return
      }
      resolve(result)
    })
  })
  let timer: NodeJS.Timeout | undefined
  if (options.timeoutMs !== undefined) timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs)
  void exited.finally(() => clearTimeout(timer)).catch(() => undefined)

  return {
    child,
    pid: child.pid ?? 0,
    exited,
    stdout: () => out.stdout.text(),
    stderr: () => out.stderr.text(),
    waitForLine: (stream, pattern, timeoutMs = 30_000) => out[stream].waitForLine(pattern, timeoutMs, exited, stream),
    kill: (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    },
  }
}

/** Output of one stream, with line matching for `waitForLine`. */
class OutputBuffer {
  private chunks: Buffer[] = []
  private lines: string[] = []
  private partial = ''
  private done = false
  private readonly waiters = new Set<() => void>()

  add(chunk: Buffer): void {
    this.chunks.push(chunk)
    const parts = (this.partial + chunk.toString('utf8')).split('\n')
    this.partial = parts.pop() ?? ''
    this.lines.push(...parts.map((l) => l.replace(/\r$/, '')))
    this.notify()
  }

  finish(): void {
    if (this.partial !== '') this.lines.push(this.partial)
    this.partial = ''
    this.done = true
    this.notify()
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8')
  }

  waitForLine(pattern: RegExp, timeoutMs: number, exited: Promise<CliResult>, name: string): Promise<string> {
    return new Promise((resolve, reject) => {
      let checked = 0
      const check = (): void => {
        for (; checked < this.lines.length; checked++) {
          const line = this.lines[checked]!
          if (pattern.test(line)) return finish(() => resolve(line))
        }
        if (this.done) finish(() => reject(new Error(`the CLI exited without a ${name} line matching ${pattern}\n--- ${name} ---\n${tail(this.text())}`)))
      }
      const timer = setTimeout(
        () => finish(() => reject(new Error(`no ${name} line matching ${pattern} within ${timeoutMs} ms\n--- ${name} ---\n${tail(this.text())}`))),
        timeoutMs,
      )
      const finish = (settle: () => void): void => {
        clearTimeout(timer)
        this.waiters.delete(check)
        settle()
      }
      this.waiters.add(check)
      void exited.catch(() => undefined)
      check()
    })
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter()
  }
}

function tail(text: string, lines = 40): string {
  return text.split('\n').slice(-lines).join('\n')
}
