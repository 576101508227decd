/**
 * The account's `oauth2` key (docs/config.md, "OAuth2"): presets fill in endpoints, scope and the
 * IMAP host; `generic` takes an issuer or endpoints; the token file defaults next to the config;
 * the client secret is never quoted in an error and is registered as a secret; saving keeps the
 * object as written.
 */
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {clearSecrets, scrubOutput} from '../shared/secrets.js'
import {ConfigError} from '../shared/errors.js'
import {OAUTH_PROVIDERS} from './oauth-providers.js'
import {isAllowedEndpoint} from './oauth2-settings.js'
import {parseConfig} from './parse-config.js'

const FILE = '/home/me/.mailkeep/config.json'
const SECRET = 'GOCSPX-not-really-7f3a'

function load(username: string, oauth2: unknown, extra: Record<string, unknown> = {}) {
  return parseConfig({version: '2.2', accounts: [{username, oauth2, ...extra}]}, FILE)
}

function problem(username: string, oauth2: unknown, extra: Record<string, unknown> = {}): string {
  try {
    load(username, oauth2, extra)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    const message = (error as Error).message
    expect(message).not.toContain(SECRET)
    expect(message).not.toContain('\n')
    return message
  }
  throw new Error('accepted')
}

afterEach(() => clearSecrets())

describe('the oauth2 account key', () => {
  it('google: the preset endpoints, scope, IMAP host; the token file next to the config; the secret registered', () => {
    const config = load('me@example.org', {provider: 'google', client_id: 'id.apps.googleusercontent.com', client_secret: SECRET})
    const account = config.accounts[0]!
    expect(account.passwordSource).toEqual({
      kind: 'oauth2',
      oauth2: {
        provider: 'google',
        clientId: 'id.apps.googleusercontent.com',
        clientSecret: SECRET,
        issuer: undefined,
        authorizationEndpoint: OAUTH_PROVIDERS.google.authorizationEndpoint,
        tokenEndpoint: OAUTH_PROVIDERS.google.tokenEndpoint,
        deviceAuthorizationEndpoint: undefined,
        scope: 'https://mail.google.com/',
        authorizationParams: {access_type: 'offline', prompt: 'consent'},
        tokenFile: '/home/me/.mailkeep/oauth2/me@example.org.json',
      },
    })
    // A Workspace domain is not recognised as Gmail, but the preset knows the IMAP host.
    expect(account.server).toBe('imap.gmail.com')
    expect(account.authMechanism).toBe('auto')
    expect(scrubOutput(`x ${SECRET} y`)).toBe('x [REDACTED] y')
    // Saved as written (no defaults added), in the password's place.
    expect(Object.keys(config.raw.accounts[0]!)).toEqual(['username', 'oauth2', 'status', 'multi_fetch_size'])
    expect(config.raw.accounts[0]!.oauth2).toEqual({provider: 'google', client_id: 'id.apps.googleusercontent.com', client_secret: SECRET})
  })

  it('microsoft: the IMAP scope with offline_access, the device endpoint, outlook.office365.com', () => {
    const account = load('me@contoso.com', {provider: 'microsoft', client_id: 'abc'}).accounts[0]!
    expect(account.server).toBe('outlook.office365.com')
    expect(account.passwordSource).toMatchObject({
      oauth2: {scope: 'https://outlook.office.com/IMAP.AccessAsUser.All offline_access', deviceAuthorizationEndpoint: OAUTH_PROVIDERS.microsoft.deviceAuthorizationEndpoint, clientSecret: undefined},
    })
  })

  it('generic: an issuer (discovery) or explicit endpoints, a scope; a relative token_file; server from the account', () => {
    const byIssuer = load('me@example.com', {provider: 'generic', issuer: 'https://id.example.com/realms/mail', client_id: 'mk', scope: 'openid offline_access', token_file: 'tokens/me.json'}, {server: 'imap.example.com'})
    expect(byIssuer.accounts[0]!.passwordSource).toMatchObject({oauth2: {issuer: 'https://id.example.com/realms/mail', tokenEndpoint: undefined, tokenFile: '/home/me/.mailkeep/tokens/me.json'}})
    const explicit = load('me@example.com', {provider: 'generic', token_endpoint: 'http://127.0.0.1:9000/token', authorization_endpoint: 'http://127.0.0.1:9000/auth', client_id: 'mk', scope: 'imap'})
    expect(explicit.accounts[0]!.passwordSource).toMatchObject({oauth2: {issuer: undefined, tokenEndpoint: 'http://127.0.0.1:9000/token'}})
    expect(explicit.accounts[0]!.server).toBeUndefined()
  })

  it('refuses what cannot work, naming the key, never the secret', () => {
    expect(problem('me@x.com', 'google')).toContain('accounts[0].oauth2 (me@x.com): must be an object, not a string')
    expect(problem('me@x.com', {provider: 'yahoo', client_id: 'a'})).toContain('oauth2.provider (me@x.com): must be one of "google", "microsoft", "generic", not "yahoo"')
    expect(problem('me@x.com', {provider: 'google', client_secret: SECRET})).toContain('oauth2.client_id (me@x.com): is missing')
    expect(problem('me@x.com', {provider: 'google', client_id: 'a', client_secret: 42})).toContain('oauth2.client_secret (me@x.com): must be a string, not a number')
    expect(problem('me@x.com', {provider: 'generic', client_id: 'a', scope: 'imap'})).toContain('needs "issuer"')
    expect(problem('me@x.com', {provider: 'generic', client_id: 'a', issuer: 'https://id.x.com'})).toContain('oauth2.scope (me@x.com): is missing')
    expect(problem('me@x.com', {provider: 'generic', client_id: 'a', scope: 's', issuer: 'http://id.x.com'})).toContain('must be an https URL (http only for 127.0.0.1 or localhost)')
    expect(problem('me@x.com', {provider: 'google', client_id: 'a', issuer: 'https://id.x.com'})).toContain('is for "generic" only')
    expect(problem('me@x.com', {provider: 'google', client_id: 'a', tenant: 'x'})).toContain('Unknown options: tenant')
    expect(problem('me@x.com', {provider: 'google', client_id: 'a'}, {password: SECRET})).toContain('more than one password source (password, oauth2)')
    expect(problem('me@x.com', {provider: 'google', client_id: 'a'}, {auth_mechanism: 'login'})).toContain('"login" cannot use the OAuth2 token of oauth2')
  })

  it('auth_mechanism pins the mechanism', () => {
    expect(load('me@x.com', {provider: 'google', client_id: 'a'}, {auth_mechanism: 'oauthbearer'}).accounts[0]!.authMechanism).toBe('oauthbearer')
  })

  it('endpoints: https anywhere, http only on loopback', () => {
    expect(isAllowedEndpoint('https://login.example.com/token')).toBe(true)
    expect(isAllowedEndpoint('http://127.0.0.1:8080/token')).toBe(true)
    expect(isAllowedEndpoint('http://localhost/token')).toBe(true)
    expect(isAllowedEndpoint('http://[::1]:80/token')).toBe(true)
    expect(isAllowedEndpoint('http://127.0.0.1.evil.com/token')).toBe(false)
    expect(isAllowedEndpoint('http://login.example.com/token')).toBe(false)
    expect(isAllowedEndpoint('ftp://127.0.0.1/')).toBe(false)
    expect(isAllowedEndpoint('not a url')).toBe(false)
  })

  it('the default token file keeps only safe characters of the username', () => {
    const account = load('we/ird name@x.com', {provider: 'google', client_id: 'a'}).accounts[0]!
    expect(account.passwordSource).toMatchObject({oauth2: {tokenFile: join('/home/me/.mailkeep', 'oauth2', 'we_ird_name@x.com.json')}})
  })
})
