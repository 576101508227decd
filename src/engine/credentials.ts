/**
 * An account's password source (config) → the IMAP layer's Credentials.
 *
 * The secret is resolved once, before anything else of the account happens, so that a failing
 * password command fails the account at once instead of after the lock and a connection. For
 * OAuth2 the token command is run again whenever the IMAP layer asks for a fresh token (the
 * server said the token expired, or a reconnect needs one): mailkeep never refreshes tokens
 * itself, the command does (docs/config.md, "Passwords").
 */
import {resolveSecret, type Account} from '../config/index.js'
import type {Credentials} from '../imap/types.js'

export async function accountCredentials(account: Account, signal: AbortSignal): Promise<Credentials> {
  const source = account.passwordSource
  const secret = await resolveSecret(source, {signal, account: account.username})
  if (source.kind !== 'oauth2-command') return {kind: 'password', user: account.username, password: secret}
  let token = secret
  return {
    kind: 'oauth2',
    user: account.username,
    mechanism: account.authMechanism === 'oauthbearer' ? 'OAUTHBEARER' : 'XOAUTH2',
    getToken: async (refresh: boolean): Promise<string> => {
      if (refresh) token = await resolveSecret(source, {signal, account: account.username})
      return token
    },
  }
}
