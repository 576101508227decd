/**
 * Drives the real CLI through a pseudo-terminal, as a person at a keyboard would: keystrokes in
 * (arrows, Enter, Space, typed text), the terminal's output back. The pseudo-terminal comes
 * from Python's standard `pty` module (pty-bridge.py), so no native Node addon is needed.
 *
 * Reading the screen: the output is kept raw (every byte the program wrote to the terminal,
 * for leak checks) and as text with the terminal control sequences removed. Each keystroke
 * sets a mark; waitFor() looks only at what was drawn after the last mark, so it never matches
 * an earlier screen.
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {stripVTControlCharacters} from 'node:util'
import {CLI_PATH, REPO_ROOT} from '../support/cli.js'

const BRIDGE = fileURLToPath(new URL('./pty-bridge.py', import.meta.url))

export const KEYS = {
  enter: '\r',
  up: '\u001B[A',
  down: '\u001B[B',
  space: ' ',
  tab: '\t',
  backspace: '\u007F',
  /** readline: delete from the cursor to the start of the line. */
  clearLine: '\u0015',
  ctrlC: '\u0003',
} as const

export type Key = keyof typeof KEYS

export interface TerminalOptions {
  /** Added to the environment; `undefined` removes a variable. Set HOME to a temp dir. */
  env?: Record<string, string | undefined>
  columns?: number
  rows?: number
}

export interface TerminalExit {
  code: number | null
}

export class Terminal {
  readonly exited: Promise<TerminalExit>
  private readonly child: ChildProcess
  private readonly chunks: Buffer[] = []
  private mark = 0
  private readonly waiters = new Set<() => void>()
  private done = false

  private constructor(args: readonly string[], options: TerminalOptions) {
    const env: NodeJS.ProcessEnv = {...process.env, TERM: 'xterm-256color', NO_COLOR: '1', LANG: 'C.UTF-8'}
    delete env['FORCE_COLOR']
    for (const [key, value] of Object.entries(options.env ?? {})) {
      if (value === undefined) delete env[key]
      else env[key] = value
    }
    const size = [String(options.columns ?? 120), String(options.rows ?? 60)]
    this.child = spawn('python3', [BRIDGE, ...size, process.execPath, CLI_PATH, ...args], {cwd: REPO_ROOT, env, stdio: ['pipe', 'pipe', 'inherit']})
    this.child.stdout!.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk)
      this.notify()
    })
    this.exited = new Promise((resolve, reject) => {
      this.child.once('error', reject)
      this.child.once('close', (code) => {
        this.done = true
        this.notify()
        resolve({code})
      })
    })
  }

  /** Starts `mailkeep ARGS` on a new terminal. */
  static start(args: readonly string[], options: TerminalOptions = {}): Terminal {
    return new Terminal(args, options)
  }

  /** Every byte written to the terminal so far. */
  raw(): string {
    return Buffer.concat(this.chunks).toString('utf8')
  }

  /** The output as text, control sequences removed, lines ending with LF. */
  text(): string {
    return screenText(this.raw())
  }

  /** Text drawn since the last keystroke. */
  recent(): string {
    return screenText(Buffer.concat(this.chunks).subarray(this.mark).toString('utf8'))
  }

  /** Waits until the text drawn since the last keystroke matches; returns that text. */
  waitFor(pattern: RegExp | string, timeoutMs = 20_000): Promise<string> {
    const matches = (text: string): boolean => (typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text))
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const text = this.recent()
        if (matches(text)) return finish(() => resolve(text))
        if (this.done) finish(() => reject(new Error(`the CLI exited before showing ${String(pattern)}\n--- screen since the last key ---\n${text}`)))
      }
      const timer = setTimeout(() => finish(() => reject(new Error(`${String(pattern)} not shown within ${timeoutMs} ms\n--- screen since the last key ---\n${this.recent()}`))), timeoutMs)
      const finish = (settle: () => void): void => {
        clearTimeout(timer)
        this.waiters.delete(check)
        settle()
      }
      this.waiters.add(check)
      check()
    })
  }

  /** Sends raw bytes (typed text, escape sequences); sets the mark. */
  send(data: string): void {
    this.mark = Buffer.concat(this.chunks).length
    this.child.stdin!.write(data)
  }

  press(...keys: Key[]): void {
    this.send(keys.map((k) => KEYS[k]).join(''))
  }

  /** Types `text` and presses Enter. */
  answer(text: string): void {
    this.send(`${text}${KEYS.enter}`)
  }

  /**
   * Picks the entry `label` of the numbered menu on the screen: waits for the line `N. label`
   * (an account may carry ` *`), types N and presses Enter (digits select in inquirer's list).
   */
  async choose(label: string): Promise<void> {
    const line = new RegExp(`^[^\\n\\d]*?(\\d+)\\. ${escapeRegExp(label)}(?: \\*)? *$`, 'm')
    const screen = await this.waitFor(line)
    const number = line.exec(screen)![1]!
    this.send(`${number}${KEYS.enter}`)
  }

  /** Stops the CLI if it is still running (SIGTERM to the bridge, which SIGKILLs the CLI it started). */
  async close(): Promise<void> {
    if (!this.done) this.child.kill('SIGTERM')
    await this.exited.catch(() => undefined)
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter()
  }
}

/** The terminal turns each LF into CR LF (ONLCR); the text uses LF, like the program wrote it. */
function screenText(raw: string): string {
  return stripVTControlCharacters(raw).replace(/\r\n/g, '\n')
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
