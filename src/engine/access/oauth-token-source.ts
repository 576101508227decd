/**
 * Access tokens for an account with mailkeep's own OAuth2 login (`oauth2` in the config), from
 * the refresh token in its token file (RFC 6749 §6). One source per account and run, shared by
 * all its connections:
 *
 * - getToken(false), at every connect and reconnect, returns the current access token while it
 *   has more than a small margin of its lifetime left (min(60 s, a tenth of it)), else refreshes
 *   first: a backup that outlives a token's lifetime reconnects with a fresh one;
 * - getToken(true), when the IMAP server refused the token (revoked or expired early), refreshes
 *   whatever the clock says;
 * - concurrent callers share one refresh, so a rotating server (one that issues a new refresh
 *   token with each refresh and revokes the whole grant when an old one is reused, as OAuth 2.0
 *   Security BCP §4.14 suggests) sees each refresh token used once.
 *
 * The rotated refresh token, if any, is written to the token file (atomically, 0600) before the
 * access token is used, with the time of the refresh (`auth status` shows it). A token refused
 * with `invalid_grant` is tried once more if the file meanwhile holds another one (a second
 * mailkeep, say `remote folders` during a backup, rotated it); otherwise the login is gone and the
 * error names the command that makes a new one.
 */
import {readTokenFile, writeTokenFile, type OAuth2Settings, type StoredLogin} from '../../config/index.js'
import {OAuthGrantError} from '../../oauth/oauth-errors.js'
import type {OAuthClient} from '../../oauth/openid-client-adapter.js'
import {ConfigError} from '../../shared/errors.js'

const MAX_MARGIN_MS = 60_000

interface Current {
  token: string
  obtainedAt: number
  expiresAt: number | undefined
}

export class OAuthTokenSource {
  private current: Current | undefined
  private pending: Promise<string> | undefined
  private client: OAuthClient | undefined

  constructor(
    private readonly username: string,
    private readonly settings: OAuth2Settings,
    private readonly now: () => number = Date.now,
  ) {}

  getToken(refresh: boolean): Promise<string> {
    if (!refresh && this.current !== undefined && this.usable(this.current)) return Promise.resolve(this.current.token)
    this.pending ??= this.refresh().finally(() => {
      this.pending = undefined
    })
    return this.pending
  }

  private usable(current: Current): boolean {
    if (current.expiresAt === undefined) return true
    const margin = Math.min(MAX_MARGIN_MS, (current.expiresAt - current.obtainedAt) / 10)
    return this.now() < current.expiresAt - margin
  }

  private async refresh(): Promise<string> {
    const path = this.settings.tokenFile
    const stored = await this.read()
    // Loaded on first use: a run without OAuth2 accounts never loads the OAuth2 client library
    // (docs/performance.md: start-up cost on a Raspberry Pi).
    this.client ??= await (await import('../../oauth/openid-client-adapter.js')).OAuthClient.open(this.settings)
    let login = stored
    let tokens
    try {
      tokens = await this.client.refresh(login.refresh_token)
    } catch (error) {
      if (!(error instanceof OAuthGrantError) || error.code !== 'invalid_grant') throw error
      const again = await readTokenFile(path)
      if (again === undefined || again.refresh_token === login.refresh_token) throw this.loginGone(error)
      login = again
      try {
        tokens = await this.client.refresh(login.refresh_token)
      } catch (second) {
        throw second instanceof OAuthGrantError && second.code === 'invalid_grant' ? this.loginGone(second) : second
      }
    }
    const obtainedAt = this.now()
    await writeTokenFile(path, {...login, refresh_token: tokens.refreshToken ?? login.refresh_token, refreshed_at: new Date(obtainedAt).toISOString()})
    this.current = {token: tokens.accessToken, obtainedAt, expiresAt: tokens.expiresAt}
    return tokens.accessToken
  }

  private async read(): Promise<StoredLogin> {
    const path = this.settings.tokenFile
    const stored = await readTokenFile(path)
    if (stored === undefined) {
      throw new ConfigError(`account '${this.username}' has no OAuth2 login yet (no token file '${path}'); run: mailkeep auth login ${this.username}`)
    }
    if (stored.client_id !== this.settings.clientId) {
      throw new ConfigError(
        `the token file '${path}' holds a login for another client id than the account's oauth2.client_id; run: mailkeep auth login ${this.username}`,
      )
    }
    return stored
  }

  /** One line, exit 111: the stored login was revoked or expired. */
  private loginGone(error: OAuthGrantError): OAuthGrantError {
    return new OAuthGrantError(`${error.message}: the stored OAuth2 login of '${this.username}' was revoked or has expired; run: mailkeep auth login ${this.username}`, error.code, {cause: error})
  }
}
