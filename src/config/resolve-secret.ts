/**
 * Turns an account's PasswordSource into the secret (a password or an OAuth2 access token).
 *
 * - `command` / `oauth2-command`: run with `/bin/sh -c`; the secret is stdout without its
 *   trailing line breaks. stdin and stderr are the user's (so a pinentry or an error of the tool
 *   reaches them); stdout is never shown, also not when the command fails.
 * - `env`: the variable's value; an unset or empty variable is an error naming it.
 * - `file`: the file's content without trailing line breaks; the file must be mode 0600, as the
 *   config is.
 *
 * Every value returned is registered with registerSecret(), so it is scrubbed from all output.
 */
import {spawn} from 'node:child_process'
import {ConfigError} from '../shared/errors.js'
import {registerSecret} from '../shared/secrets.js'
import {DEFAULT_SECRET_COMMAND_TIMEOUT_MS} from './defaults.js'
import {readPrivateFile} from './private-file.js'
import type {PasswordSource} from './types.js'

export interface ResolveSecretOptions {
  signal: AbortSignal
  /** The account's username, named in error messages. */
  account?: string
  /** Limit for a command; default 120 s. */
  timeoutMs?: number
  /** Environment for `env` sources and commands; default process.env. */
  env?: NodeJS.ProcessEnv
  /**
   * Run a command in a process group of its own, so that everything it started can be ended
   * (see runCommand). Default: when stdin is not a terminal.
   */
  ownProcessGroup?: boolean
}

/** More than this on stdout is not a password or a token. */
const MAX_OUTPUT_BYTES = 1024 * 1024
const KILL_GRACE_MS = 2000
/** How long stdout may stay open after the shell exited (a background process holding it). */
const EXIT_GRACE_MS = 1000

export async function resolveSecret(source: PasswordSource, options: ResolveSecretOptions): Promise<string> {
  if (options.signal.aborted) throw options.signal.reason
  const secret = await read(source, options)
  registerSecret(secret)
  return secret
}

async function read(source: PasswordSource, options: ResolveSecretOptions): Promise<string> {
  const of = options.account === undefined ? '' : ` of account '${options.account}'`
  switch (source.kind) {
    case 'plain':
      return source.value
    case 'env': {
      const value = (options.env ?? process.env)[source.name]
      if (value === undefined || value === '') {
        throw new ConfigError(
          `The environment variable ${source.name} (password_env${of}) is ${value === undefined ? 'not set' : 'empty'}; export it before running mailkeep, or change password_env`,
        )
      }
      return value
    }
    case 'file': {
      const text = await readPrivateFile(
        source.path,
        () => new ConfigError(`The password file '${source.path}' (password_file${of}) was not found; create it (mode 0600) or change password_file`),
      )
      const value = stripTrailingNewlines(text)
      if (value === '') throw new ConfigError(`The password file '${source.path}' (password_file${of}) is empty; write the password into it`)
      return value
    }
    case 'oauth2':
      // Access tokens of mailkeep's own OAuth2 login come from src/oauth (engine/access/credentials.ts).
      throw new Error('resolveSecret: an oauth2 account has no secret to resolve here')
    case 'command':
    case 'oauth2-command': {
      const key = source.kind === 'command' ? 'password_command' : 'oauth2_token_command'
      return runCommand(source.command, `${key}${of}`, options)
    }
  }
}

/**
 * Runs the command and resolves with its stdout once the shell has exited and stdout is closed.
 *
 * A command may leave a process in the background that still holds our stdout pipe (`pw-tool &`,
 * an agent that did not close its descriptors): the pipe then never closes, and waiting for it
 * kept mailkeep alive until that process ended, long after the timeout had been reported. So:
 * - when the shell has exited, stdout gets EXIT_GRACE_MS more to close; then whatever still holds
 *   it is ended and the output so far is the answer (everything the shell's own commands wrote
 *   before it exited is in the pipe by then);
 * - on the timeout or an interruption, it is ended at once (SIGTERM, SIGKILL after
 *   KILL_GRACE_MS) and the promise settles at once;
 * - in both cases our end of the pipe is closed and the child unreferenced, so nothing left
 *   behind can keep mailkeep's process alive.
 * "Ended" means the whole process group: without a terminal (cron, systemd: where nobody would
 * notice) the command runs in a session and process group of its own (`detached`), so the
 * background processes it started are reached too. With a terminal on stdin it stays in ours,
 * so that a prompt (pinentry, `read`) keeps working; then only the shell can be ended, and a
 * background process that holds the pipe is left running (but no longer waited for).
 */
function runCommand(command: string, what: string, options: ResolveSecretOptions): Promise<string> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_SECRET_COMMAND_TIMEOUT_MS
  const ownGroup = options.ownProcessGroup ?? !process.stdin.isTTY
  return new Promise<string>((resolvePromise, reject) => {
    const child = spawn('/bin/sh', ['-c', command], {stdio: ['inherit', 'pipe', 'inherit'], env: options.env ?? process.env, detached: ownGroup})
    const chunks: Buffer[] = []
    let size = 0
    let settled = false
    let exit: {code: number | null; signal: NodeJS.Signals | null} | undefined
    let outputClosed = false
    let graceTimer: NodeJS.Timeout | undefined

    const signalAll = (signal: NodeJS.Signals): void => {
      try {
        // A negative pid is the process group (kill(2)); it is gone once all its processes are.
        if (ownGroup && child.pid !== undefined) process.kill(-child.pid, signal)
        else if (exit === undefined) child.kill(signal)
      } catch {
        // Already gone.
      }
    }
    const stop = (): void => {
      signalAll('SIGTERM')
      setTimeout(() => signalAll('SIGKILL'), KILL_GRACE_MS).unref()
    }
    const letGo = (): void => {
      child.stdout.destroy()
      child.unref()
    }
    const finish = (error: unknown, value?: string): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      clearTimeout(graceTimer)
      options.signal.removeEventListener('abort', onAbort)
      if (error === undefined) resolvePromise(value ?? '')
      else reject(error)
    }
    const conclude = (): void => {
      if (exit === undefined) return
      const {code, signal} = exit
      if (code !== 0) {
        // The output is never shown: on failure it may still be (part of) the secret.
        const status = code === null ? `was killed by ${signal ?? 'a signal'}` : `failed with exit status ${code}`
        finish(new ConfigError(`The ${what} ${status}; run it in a shell to see why`))
        return
      }
      const value = stripTrailingNewlines(Buffer.concat(chunks).toString('utf8'))
      if (value === '') {
        finish(new ConfigError(`The ${what} printed nothing on stdout; it must print the secret`))
        return
      }
      finish(undefined, value)
    }
    const onAbort = (): void => {
      stop()
      letGo()
      finish(options.signal.reason)
    }
    const timer = setTimeout(() => {
      stop()
      letGo()
      finish(new ConfigError(`The ${what} did not finish within ${formatDuration(timeoutMs)} and was stopped; check that it runs without waiting for input`))
    }, timeoutMs)
    options.signal.addEventListener('abort', onAbort, {once: true})

    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_OUTPUT_BYTES) {
        stop()
        letGo()
        finish(new ConfigError(`The ${what} printed more than ${MAX_OUTPUT_BYTES} bytes; it must print only the secret`))
        return
      }
      chunks.push(chunk)
    })
    child.stdout.on('close', () => {
      outputClosed = true
      conclude()
    })
    child.on('error', (error) => {
      finish(new ConfigError(`Could not run the ${what} with /bin/sh: ${error.message}`, {cause: error}))
    })
    child.on('exit', (code, signal) => {
      exit = {code, signal}
      if (outputClosed) {
        conclude()
        return
      }
      // The shell is done, but something it started in the background still holds stdout.
      graceTimer = setTimeout(() => {
        stop()
        letGo()
        conclude()
      }, EXIT_GRACE_MS)
      graceTimer.unref()
    })
  })
}

function formatDuration(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`
}

/** Removes trailing LF and CRLF line breaks (not other whitespace, which may be part of it). */
export function stripTrailingNewlines(text: string): string {
  return text.replace(/(?:\r?\n)+$/, '')
}
