/**
 * A real OAuth 2.0 authorization server for the tests: `oidc-provider` (an OpenID-certified
 * implementation) on 127.0.0.1, configured for what mailkeep uses:
 *
 * - authorization code with PKCE (RFC 7636) and a loopback redirect for native apps (RFC 8252
 *   §7.3: a `native` client registered with `http://127.0.0.1/` accepts any port);
 * - the device authorization grant (RFC 8628);
 * - refresh tokens (rotated at every use, as oidc-provider does for public clients);
 * - token introspection (RFC 7662) for Dovecot's `oauth2` passdb, and revocation (RFC 7009).
 *
 * Every token and client secret it creates is registered for CI's secrets scan
 * (test/support/runtime-secrets.ts) and listed in `issuedSecrets` for the test's own scan.
 *
 * The "browser" is played by the tests (browser.ts) against the provider's development
 * interaction pages: any login name is accepted (the account id is the mail user), consent is one
 * button. Keys are generated here, so nothing is fetched from anywhere; the server listens on
 * loopback only and talks to nobody.
 */
import {generateKeyPairSync, randomBytes} from 'node:crypto'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import Provider, {type Configuration} from 'oidc-provider'
import {freePort} from '../support/ports.js'
import {registerRuntimeSecrets} from '../support/runtime-secrets.js'

/** The public client (no secret) mailkeep logs in with, as with Microsoft's public clients. */
export const PUBLIC_CLIENT_ID = 'mailkeep-test-public'
/** A confidential client (client_secret_post), as Google's "Desktop app" clients are. */
export const CONFIDENTIAL_CLIENT_ID = 'mailkeep-test-confidential'
/** The scope standing for IMAP access (Google's `https://mail.google.com/`, say). */
export const IMAP_SCOPE = 'imap'

export interface AuthorizationServerOptions {
  /** Lifetime of an access token in seconds (default 3600). */
  accessTokenTtl?: number
  /** Port to listen on (default: a free one); a restart keeps the port. */
  port?: number
}

export interface AuthorizationServer {
  readonly issuer: string
  readonly port: number
  /** The secret of CONFIDENTIAL_CLIENT_ID (random per server: the secrets scan gets it). */
  readonly clientSecret: string
  /** What Dovecot's oauth2 passdb authenticates with at the introspection endpoint. */
  readonly introspection: {url: string; clientId: string; clientSecret: string}
  /** Every secret this server handed out or holds: access and refresh tokens, client secrets. */
  readonly issuedSecrets: ReadonlySet<string>
  /** How many token requests of each grant type succeeded. */
  grants(type: 'authorization_code' | 'refresh_token' | 'urn:ietf:params:oauth:grant-type:device_code'): number
  /** Revokes an access or refresh token as RFC 7009 does (a refresh token takes its grant along). */
  revoke(token: string, clientId?: string): Promise<void>
  /** Ends every access token issued so far (their introspection says inactive from now on). */
  revokeAccessTokens(): Promise<void>
  /** Stops listening (clients then get ECONNREFUSED); start() serves again on the same port. */
  stop(): Promise<void>
  start(): Promise<void>
}

export async function startAuthorizationServer(options: AuthorizationServerOptions = {}): Promise<AuthorizationServer> {
  const port = options.port ?? (await freePort())
  const issuer = `http://127.0.0.1:${port}`
  const clientSecret = `mk-client-secret-${randomBytes(12).toString('hex')}`
  const dovecotSecret = `mk-introspect-${randomBytes(12).toString('hex')}`
  const issuedSecrets = new Set<string>()
  // Every secret goes to CI's scan of all output the moment it exists (runtime-secrets.ts).
  const issue = (label: string, value: string): void => {
    issuedSecrets.add(value)
    registerRuntimeSecrets(label, [value])
  }
  issue('OAuth2 client secret', clientSecret)
  issue('introspection client secret', dovecotSecret)
  const accessTokens = new Set<string>()
  const counts = new Map<string, number>()
  const {privateKey} = generateKeyPairSync('rsa', {modulusLength: 2048})
  const jwk = {...privateKey.export({format: 'jwk'}), use: 'sig', alg: 'RS256', kid: 'test'}
  const nativeClient = {
    application_type: 'native' as const,
    grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
    response_types: ['code' as const],
    // RFC 8252 §7.3: any port of this loopback URI is accepted for a native client.
    redirect_uris: ['http://127.0.0.1/'],
  }
  const configuration: Configuration = {
    clients: [
      {...nativeClient, client_id: PUBLIC_CLIENT_ID, token_endpoint_auth_method: 'none'},
      {...nativeClient, client_id: CONFIDENTIAL_CLIENT_ID, client_secret: clientSecret, token_endpoint_auth_method: 'client_secret_post'},
      // Dovecot's oauth2 passdb: it only introspects (HTTP Basic, from the URL's user info).
      {client_id: 'dovecot', client_secret: dovecotSecret, grant_types: [], response_types: [], redirect_uris: [], token_endpoint_auth_method: 'client_secret_basic'},
    ],
    jwks: {keys: [jwk as unknown as NonNullable<Configuration['jwks']>['keys'][number]]},
    cookies: {keys: [randomBytes(16).toString('hex')]},
    scopes: ['openid', 'offline_access', IMAP_SCOPE],
    features: {
      devInteractions: {enabled: true},
      deviceFlow: {enabled: true},
      introspection: {enabled: true},
      revocation: {enabled: true},
    },
    pkce: {required: () => true},
    ttl: {
      AccessToken: options.accessTokenTtl ?? 3600,
      RefreshToken: 24 * 3600,
      DeviceCode: 600,
      Grant: 24 * 3600,
      Interaction: 600,
      Session: 3600,
      IdToken: 3600,
      AuthorizationCode: 60,
    },
    // Every grant of a client allowed to refresh gets a refresh token (the providers give one
    // for `offline_access` or `access_type=offline`; the test need not imitate either).
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    findAccount: (_ctx, id) => ({accountId: id, claims: () => ({sub: id})}),
  }
  const provider = new Provider(issuer, configuration)
  provider.on('grant.success', (ctx) => {
    const type = String(ctx.oidc.params?.['grant_type'] ?? '')
    counts.set(type, (counts.get(type) ?? 0) + 1)
    const body = ctx.body as {access_token?: string; refresh_token?: string} | undefined
    if (body?.access_token) {
      issue('OAuth2 access token', body.access_token)
      accessTokens.add(body.access_token)
    }
    if (body?.refresh_token) issue('OAuth2 refresh token', body.refresh_token)
  })
  // The provider's own errors (a wrong client id is one) are part of the tests, not noise.
  provider.on('server_error', () => undefined)

  let server: Server | undefined
  const start = async (): Promise<void> => {
    const s = createServer(provider.callback())
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject)
      s.listen(port, '127.0.0.1', () => resolve())
    })
    if ((s.address() as AddressInfo).port !== port) throw new Error('authorization server: wrong port')
    server = s
  }
  const stop = async (): Promise<void> => {
    const s = server
    server = undefined
    if (s === undefined) return
    s.closeAllConnections()
    await new Promise<void>((resolve) => s.close(() => resolve()))
  }
  await start()

  const revoke = async (token: string, clientId = PUBLIC_CLIENT_ID): Promise<void> => {
    const body = new URLSearchParams({token, client_id: clientId})
    const response = await fetch(`${issuer}/token/revocation`, {method: 'POST', body})
    if (response.status !== 200) throw new Error(`revocation: HTTP ${response.status} ${await response.text()}`)
  }

  return {
    issuer,
    port,
    clientSecret,
    introspection: {url: `${issuer}/token/introspection`, clientId: 'dovecot', clientSecret: dovecotSecret},
    issuedSecrets,
    grants: (type) => counts.get(type) ?? 0,
    revoke,
    async revokeAccessTokens() {
      for (const token of accessTokens) {
        const found = await provider.AccessToken.find(token)
        if (found !== undefined) await found.destroy()
      }
    },
    stop,
    start,
  }
}
