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
}

/** More than this on stdout is not a password or a token. */
const MAX_OUTPUT_BYTES = 1024 * 1024
const KILL_GRACE_MS = 2000

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
      // Access tokens of mailkeep's own OAuth2 login come from src/oauth (engine/credentials.ts).
      throw new Error('resolveSecret: an oauth2 account has no secret to resolve here')
    case 'command':
    case 'oauth2-command': {
      const key = source.kind === 'command' ? 'password_command' : 'oauth2_token_command'
      return runCommand(source.command, `${key}${of}`, options)
    }
  }
}

function runCommand(command: string, what: string, options: ResolveSecretOptions): Promise<string> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_SECRET_COMMAND_TIMEOUT_MS
  return new Promise<string>((resolvePromise, reject) => {
    const child = spawn('/bin/sh', ['-c', command], {stdio: ['inherit', 'pipe', 'inherit'], env: options.env ?? process.env})
    const chunks: Buffer[] = []
    let size = 0
    let settled = false
    let killTimer: NodeJS.Timeout | undefined

    const stop = (): void => {
      child.kill('SIGTERM')
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS)
      killTimer.unref()
    }
    const finish = (error: unknown, value?: string): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      options.signal.removeEventListener('abort', onAbort)
      if (error === undefined) resolvePromise(value ?? '')
      else reject(error)
    }
    const onAbort = (): void => {
      stop()
      finish(options.signal.reason)
    }
    const timer = setTimeout(() => {
      stop()
      finish(new ConfigError(`The ${what} did not finish within ${formatDuration(timeoutMs)} and was stopped; check that it runs without waiting for input`))
    }, timeoutMs)
    options.signal.addEventListener('abort', onAbort, {once: true})

    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_OUTPUT_BYTES) {
        stop()
        finish(new ConfigError(`The ${what} printed more than ${MAX_OUTPUT_BYTES} bytes; it must print only the secret`))
        return
      }
      chunks.push(chunk)
    })
    child.on('error', (error) => {
      finish(new ConfigError(`Could not run the ${what} with /bin/sh: ${error.message}`, {cause: error}))
    })
    child.on('close', (code, signal) => {
      if (killTimer !== undefined) clearTimeout(killTimer)
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
