/**
 * An account's password source (config) → the IMAP layer's Credentials.
 *
 * The secret is resolved once, before anything else of the account happens, so that a failing
 * password command (or a revoked OAuth2 login) fails the account at once instead of after the
 * lock and a connection. For OAuth2 the IMAP layer asks for a token at every connect and for a
 * fresh one when the server refused it:
 * - `oauth2_token_command`: the command runs again for a fresh token (it refreshes, mailkeep
 *   does not: docs/auth.md);
 * - `oauth2`: mailkeep refreshes the access token itself (oauth-token-source.ts).
 */
import {resolveSecret, type Account, type AccountAuthMechanism} from '../../config/index.js'
import type {Credentials} from '../../imap/types.js'
import {OAuthTokenSource} from './oauth-token-source.js'

export async function accountCredentials(account: Account, signal: AbortSignal): Promise<Credentials> {
  const source = account.passwordSource
  if (source.kind === 'oauth2') {
    const tokens = new OAuthTokenSource(account.username, source.oauth2)
    await tokens.getToken(false)
    if (signal.aborted) throw signal.reason
    return {kind: 'oauth2', user: account.username, mechanism: saslMechanism(account.authMechanism), getToken: (refresh) => tokens.getToken(refresh)}
  }
  const secret = await resolveSecret(source, {signal, account: account.username})
  if (source.kind !== 'oauth2-command') return {kind: 'password', user: account.username, password: secret}
  let token = secret
  return {
    kind: 'oauth2',
    user: account.username,
    mechanism: saslMechanism(account.authMechanism),
    getToken: async (refresh: boolean): Promise<string> => {
      if (refresh) token = await resolveSecret(source, {signal, account: account.username})
      return token
    },
  }
}

function saslMechanism(mechanism: AccountAuthMechanism): 'XOAUTH2' | 'OAUTHBEARER' | 'auto' {
  return mechanism === 'oauthbearer' ? 'OAUTHBEARER' : mechanism === 'xoauth2' ? 'XOAUTH2' : 'auto'
}
