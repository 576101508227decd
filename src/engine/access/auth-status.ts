/**
 * `auth status [EMAIL]`: how each account logs in and, for mailkeep's own OAuth2 login, whether a
 * login is stored and when it was obtained and last refreshed. Reads the config and the token
 * files only (no request to any server) and never returns a secret: not the password, not a
 * token, not the client secret.
 */
import {readTokenFile, selectAccounts, type Account, type Config, type LoginFlow} from '../../config/index.js'
import type {RunContext} from '../../shared/context.js'
import {MailkeepError} from '../../shared/errors.js'

export type AuthMethod = 'password' | 'password_command' | 'password_env' | 'password_file' | 'oauth2_token_command' | 'oauth2'

export interface AuthStatusEntry {
  account: string
  method: AuthMethod
  /** `login`, `xoauth2`, `oauthbearer`, or `auto` (what the server offers). */
  mechanism: string
  /** oauth2 only from here on. */
  provider?: string
  clientId?: string
  tokenFile?: string
  /** Whether a refresh token is stored. */
  loggedIn?: boolean
  flow?: LoginFlow
  /** When `auth login` obtained the stored token (ISO 8601). */
  obtainedAt?: string
  /** When a run last refreshed with it (ISO 8601); undefined if never. */
  lastRefreshed?: string
  /** Why the token file could not be read (permissions, damage), without its content. */
  problem?: string
}

const METHOD: Record<Account['passwordSource']['kind'], AuthMethod> = {
  plain: 'password',
  command: 'password_command',
  env: 'password_env',
  file: 'password_file',
  'oauth2-command': 'oauth2_token_command',
  oauth2: 'oauth2',
}

export async function authStatus(request: {config: Config; email?: string}, _ctx: RunContext): Promise<AuthStatusEntry[]> {
  const accounts = selectAccounts(request.config, request.email === undefined ? undefined : [request.email])
  const entries: AuthStatusEntry[] = []
  for (const account of accounts) {
    const source = account.passwordSource
    const entry: AuthStatusEntry = {account: account.username, method: METHOD[source.kind], mechanism: account.authMechanism}
    if (source.kind === 'oauth2') {
      const settings = source.oauth2
      Object.assign(entry, {provider: settings.provider, clientId: settings.clientId, tokenFile: settings.tokenFile, loggedIn: false})
      try {
        const stored = await readTokenFile(settings.tokenFile)
        if (stored !== undefined) {
          entry.loggedIn = true
          entry.flow = stored.flow
          entry.obtainedAt = stored.obtained_at
          if (stored.refreshed_at !== undefined) entry.lastRefreshed = stored.refreshed_at
          if (stored.client_id !== settings.clientId) entry.problem = 'the stored login belongs to another client id; log in again'
        }
      } catch (error) {
        if (!(error instanceof MailkeepError)) throw error
        entry.problem = error.message
      }
    }
    entries.push(entry)
  }
  return entries
}
