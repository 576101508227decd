/**
 * An account's `oauth2` object (docs/config.md, "OAuth2"): which authorization server, which
 * client, which scopes, and where the refresh token is kept. It is one of the password sources
 * (exactly one per account), and a mailkeep extension key: imap-backup cannot load the file.
 *
 * Endpoints must use https, except on a loopback address (a local authorization server): the
 * client id, the code and the tokens travel in these requests.
 */
import {registerSecret} from '../shared/secrets.js'
import {accountKey, describeType, invalidConfig, quoteList} from './config-error.js'
import type {AccountContext} from './connection.js'
import {OAUTH2_KEYS} from './keys.js'
import {OAUTH_PROVIDER_NAMES, OAUTH_PROVIDERS, type OAuthProviderName} from './oauth-providers.js'
import {resolveConfigPath} from './paths.js'
import type {OAuth2File, OAuth2Settings} from './types.js'

/** The token file of an account that names none, relative to the config's directory. */
export function defaultTokenFile(username: string): string {
  // Only characters that are safe in a file name on every system; the rest become `_`.
  return `oauth2/${username.replace(/[^A-Za-z0-9@._+-]/g, '_')}.json`
}

export function parseOAuth2(value: unknown, ctx: AccountContext): {settings: OAuth2Settings; file: OAuth2File} {
  const where = (key?: string): string => accountKey(ctx.index, key === undefined ? 'oauth2' : `oauth2.${key}`, ctx.username)
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidConfig(ctx.file, where(), `must be an object, not ${describeType(value)}`, 'write e.g. "oauth2": {"provider": "google", "client_id": "..."} (`mailkeep help auth.md`)')
  }
  const raw = value as Record<string, unknown>
  const unknown = Object.keys(raw).filter((k) => !(OAUTH2_KEYS as readonly string[]).includes(k))
  if (unknown.length > 0) throw invalidConfig(ctx.file, where(), `Unknown options: ${unknown.join(', ')}`, `use only ${quoteList(OAUTH2_KEYS)}`)

  const text = (key: string, fix: string): string | undefined => {
    const v = raw[key]
    if (v === undefined || v === null || v === '') return undefined
    // Described by type only: client_secret is a secret.
    if (typeof v !== 'string') throw invalidConfig(ctx.file, where(key), `must be a string, not ${describeType(v)}`, fix)
    return v
  }
  const provider = raw['provider']
  if (typeof provider !== 'string' || !(OAUTH_PROVIDER_NAMES as readonly string[]).includes(provider)) {
    const shown = typeof provider === 'string' ? JSON.stringify(provider) : describeType(provider)
    throw invalidConfig(ctx.file, where('provider'), `must be one of ${quoteList(OAUTH_PROVIDER_NAMES)}, not ${shown}`, 'use "generic" with "issuer" for another provider')
  }
  const name = provider as OAuthProviderName
  const clientId = text('client_id', 'write the client id of your OAuth2 client as a string')
  if (clientId === undefined) throw invalidConfig(ctx.file, where('client_id'), 'is missing', 'register a client with the provider and write its id here (`mailkeep help auth.md`)')
  const clientSecret = text('client_secret', 'write it as a JSON string')
  registerSecret(clientSecret)
  const scope = text('scope', 'write the scopes separated by spaces')
  const tokenFileSetting = text('token_file', 'write the path of the token file as a string')
  const endpoint = (key: string): string | undefined => {
    const url = text(key, 'write the URL as a string')
    if (url !== undefined) checkUrl(url, ctx, where(key))
    return url
  }
  const issuer = endpoint('issuer')
  const authorizationEndpoint = endpoint('authorization_endpoint')
  const tokenEndpoint = endpoint('token_endpoint')
  const deviceAuthorizationEndpoint = endpoint('device_authorization_endpoint')

  let settings: OAuth2Settings
  const tokenFile = resolveConfigPath(tokenFileSetting ?? defaultTokenFile(ctx.username ?? 'account'), ctx.configDir)
  if (name === 'generic') {
    if (issuer === undefined && tokenEndpoint === undefined) {
      throw invalidConfig(ctx.file, where(), 'a "generic" provider needs "issuer" (for discovery) or "token_endpoint"', 'add the issuer URL of your authorization server')
    }
    if (scope === undefined) throw invalidConfig(ctx.file, where('scope'), 'is missing (a "generic" provider has no default scope)', 'write the scopes your IMAP server needs, e.g. "openid offline_access"')
    settings = {provider: name, clientId, clientSecret, issuer, authorizationEndpoint, tokenEndpoint, deviceAuthorizationEndpoint, scope, authorizationParams: {}, tokenFile}
  } else {
    const present = ['issuer', 'authorization_endpoint', 'token_endpoint', 'device_authorization_endpoint'].filter((k) => raw[k] !== undefined && raw[k] !== null)
    if (present.length > 0) throw invalidConfig(ctx.file, where(), `"${name}" has its own endpoints; ${present.join(', ')} is for "generic" only`, `remove ${present.join(', ')}, or use "provider": "generic"`)
    const preset = OAUTH_PROVIDERS[name]
    settings = {
      provider: name,
      clientId,
      clientSecret,
      issuer: undefined,
      authorizationEndpoint: preset.authorizationEndpoint,
      tokenEndpoint: preset.tokenEndpoint,
      deviceAuthorizationEndpoint: preset.deviceAuthorizationEndpoint,
      scope: scope ?? preset.scope,
      authorizationParams: preset.authorizationParams,
      tokenFile,
    }
  }
  const file: OAuth2File = {provider: name, client_id: clientId}
  if (clientSecret !== undefined) file.client_secret = clientSecret
  if (issuer !== undefined) file.issuer = issuer
  if (authorizationEndpoint !== undefined) file.authorization_endpoint = authorizationEndpoint
  if (tokenEndpoint !== undefined) file.token_endpoint = tokenEndpoint
  if (deviceAuthorizationEndpoint !== undefined) file.device_authorization_endpoint = deviceAuthorizationEndpoint
  if (scope !== undefined) file.scope = scope
  if (tokenFileSetting !== undefined) file.token_file = tokenFileSetting
  return {settings, file}
}

/** https, or http to a loopback address (RFC 6749 §3.1 and §3.2 require TLS for these endpoints). */
export function isAllowedEndpoint(url: string): boolean {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return false
  }
  if (parsed.protocol === 'https:') return true
  return parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname)
}

export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname)
}

function checkUrl(url: string, ctx: AccountContext, where: string): void {
  if (!isAllowedEndpoint(url)) {
    throw invalidConfig(ctx.file, where, `must be an https URL (http only for 127.0.0.1 or localhost), not ${JSON.stringify(url.slice(0, 60))}`, 'write the full https:// URL')
  }
}
