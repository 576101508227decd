/**
 * The file that keeps an account's OAuth2 refresh token (docs/auth.md, "The token file"), named
 * by the account's `oauth2.token_file` (default `oauth2/<username>.json` next to the config).
 * It is a file of its own so that the config holds no token, and it is private as the config is:
 * read only when mode 0600 (private-file.ts), written atomically with mode 0600 in a directory
 * created 0700. Access tokens are never stored: each run gets a fresh one with the refresh token.
 *
 * ```json
 * {"version": 1, "username": "me@gmail.com", "client_id": "…", "flow": "code",
 *  "obtained_at": "2025-01-10T07:00:00.000Z", "refreshed_at": "2025-01-11T07:00:00.000Z",
 *  "refresh_token": "…"}
 * ```
 */
import {chmod} from 'node:fs/promises'
import {dirname} from 'node:path'
import {atomicWrite} from '../shared/atomic-write.js'
import {ConfigError, localIoError} from '../shared/errors.js'
import {registerSecret} from '../shared/secrets.js'
import {PRIVATE_MODE, readPrivateFile} from './private-file.js'
import {ensureDirectory} from './save-config.js'

export const TOKEN_FILE_VERSION = 1

export type LoginFlow = 'code' | 'device'

export interface StoredLogin {
  readonly version: typeof TOKEN_FILE_VERSION
  readonly username: string
  /** The client the token was issued to: a token is useless with another one. */
  readonly client_id: string
  readonly flow: LoginFlow
  /** When `auth login` obtained it (ISO 8601). */
  readonly obtained_at: string
  /** When a run last used it to get an access token (ISO 8601); absent until then. */
  readonly refreshed_at?: string
  readonly refresh_token: string
}

/** The stored login, or undefined when the file does not exist (no `auth login` yet). */
export async function readTokenFile(path: string): Promise<StoredLogin | undefined> {
  let text: string
  try {
    text = await readPrivateFile(path, () => new MissingTokenFile(path))
  } catch (error) {
    if (error instanceof MissingTokenFile) return undefined
    throw error
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw damaged(path, 'it is not JSON')
  }
  const login = parsed as Partial<StoredLogin> | null
  if (login === null || typeof login !== 'object') throw damaged(path, 'it is not a JSON object')
  if (typeof login.version === 'number' && login.version > TOKEN_FILE_VERSION) {
    throw new ConfigError(`The token file '${path}' was written by a newer mailkeep (version ${login.version}); upgrade mailkeep`)
  }
  for (const key of ['username', 'client_id', 'flow', 'obtained_at', 'refresh_token'] as const) {
    if (typeof login[key] !== 'string' || login[key] === '') throw damaged(path, `"${key}" is missing`)
  }
  registerSecret(login.refresh_token)
  return login as StoredLogin
}

/** Writes the login atomically (mode 0600; the directory 0700 if it has to be created). */
export async function writeTokenFile(path: string, login: StoredLogin): Promise<void> {
  registerSecret(login.refresh_token)
  await ensureDirectory(dirname(path))
  await atomicWrite(path, `${JSON.stringify(login, null, 2)}\n`, {mode: PRIVATE_MODE})
  if (process.platform !== 'win32') {
    try {
      await chmod(path, PRIVATE_MODE)
    } catch (error) {
      throw localIoError(error, 'set the permissions of', path)
    }
  }
}

class MissingTokenFile extends ConfigError {
  constructor(path: string) {
    super(`The token file '${path}' does not exist`)
  }
}

function damaged(path: string, why: string): ConfigError {
  return new ConfigError(`The token file '${path}' cannot be read: ${why}; log in again with mailkeep auth login`)
}
