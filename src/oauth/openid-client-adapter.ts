/**
 * The only importer of `openid-client` (a certified OAuth 2.0 / OpenID Connect client, on top of
 * oauth4webapi): every request to an authorization server goes through it, so mailkeep builds no
 * token request by hand. This module absorbs its quirks:
 *
 * - http is refused by default; we allow it only for loopback endpoints (a local authorization
 *   server; config/oauth2-settings.ts accepts nothing else), RFC 8252 §8.3 style;
 * - explicit endpoints need an issuer in the server metadata; it is checked against an `iss`
 *   authorization response parameter (RFC 9207), so a preset names its real issuer and a generic
 *   server without discovery uses its token endpoint's origin, which is what such servers send;
 * - its errors (ResponseBodyError, AuthorizationResponseError, ClientError, fetch's TypeError)
 *   become our one-line errors (oauth-errors.ts).
 *
 * Flows: authorization code with PKCE S256 (RFC 6749 §4.1, RFC 7636), the device authorization
 * grant (RFC 8628), refresh (RFC 6749 §6).
 */
import * as client from 'openid-client'
import {MailkeepError} from '../shared/errors.js'
import {registerSecret} from '../shared/secrets.js'
import {networkProblem, refused, unreachable} from './oauth-errors.js'
import type {DeviceCodePrompt, OAuthClientSettings, TokenSet} from './types.js'

/** Seconds any one request to the authorization server may take. */
const REQUEST_TIMEOUT_S = 30

export interface PendingAuthorization {
  /** The URL for the browser. */
  readonly url: string
  /** Completes the flow with the URL the browser was redirected to (code or error). */
  finish(callbackUrl: URL): Promise<TokenSet>
}

export interface PendingDeviceAuthorization {
  readonly prompt: DeviceCodePrompt
  /** Polls the token endpoint (at the interval the server asks for) until approved or refused. */
  finish(signal: AbortSignal): Promise<TokenSet>
}

/** A client of one authorization server. Create with openOAuthClient(). */
export class OAuthClient {
  private constructor(
    private readonly config: client.Configuration,
    private readonly settings: OAuthClientSettings,
    /** For messages: the server's origin. */
    readonly server: string,
  ) {}

  /** Discovers the server (when the settings give an issuer) and returns a client for it. */
  static async open(settings: OAuthClientSettings): Promise<OAuthClient> {
    registerSecret(settings.clientSecret)
    const auth = settings.clientSecret === undefined ? client.None() : client.ClientSecretPost(settings.clientSecret)
    const insecure = [settings.issuer, settings.authorizationEndpoint, settings.tokenEndpoint, settings.deviceAuthorizationEndpoint].some((u) => u?.startsWith('http:'))
    const metadata: Partial<client.ClientMetadata> = {client_id: settings.clientId}
    if (settings.issuer !== undefined) {
      const server = new URL(settings.issuer).origin
      try {
        const config = await client.discovery(new URL(settings.issuer), settings.clientId, metadata, auth, {
          ...(insecure ? {execute: [client.allowInsecureRequests]} : {}),
          timeout: REQUEST_TIMEOUT_S,
        })
        const merged = withExplicitEndpoints(config, settings, auth, insecure)
        return new OAuthClient(merged, settings, server)
      } catch (error) {
        throw translate(error, server, 'discovery', settings.clientId)
      }
    }
    if (settings.tokenEndpoint === undefined) throw new MailkeepError('OAuth2 settings without issuer nor token endpoint')
    const server = new URL(settings.tokenEndpoint).origin
    const config = new client.Configuration(serverMetadata(settings, server), settings.clientId, metadata, auth)
    if (insecure) client.allowInsecureRequests(config)
    config.timeout = REQUEST_TIMEOUT_S
    return new OAuthClient(config, settings, server)
  }

  /** Whether the server offers the device authorization grant (RFC 8628). */
  get supportsDeviceFlow(): boolean {
    return this.config.serverMetadata().device_authorization_endpoint !== undefined
  }

  /**
   * Starts the authorization code flow with PKCE for `redirectUri` (the loopback listener,
   * RFC 8252 §7.3). The state and the PKCE verifier stay in this closure.
   */
  async authorize(redirectUri: string, loginHint: string | undefined): Promise<PendingAuthorization> {
    const verifier = client.randomPKCECodeVerifier()
    const challenge = await client.calculatePKCECodeChallenge(verifier)
    const state = client.randomState()
    const params: Record<string, string> = {
      redirect_uri: redirectUri,
      scope: this.settings.scope,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state,
      ...this.settings.authorizationParams,
    }
    if (loginHint !== undefined) params['login_hint'] = loginHint
    let url: URL
    try {
      url = client.buildAuthorizationUrl(this.config, params)
    } catch (error) {
      throw translate(error, this.server, 'the authorization request', this.settings.clientId)
    }
    return {
      url: url.href,
      finish: async (callbackUrl) => {
        try {
          return tokenSet(await client.authorizationCodeGrant(this.config, callbackUrl, {pkceCodeVerifier: verifier, expectedState: state}))
        } catch (error) {
          throw translate(error, this.server, 'the login', this.settings.clientId)
        }
      },
    }
  }

  /** Starts the device authorization grant (RFC 8628 §3.1). */
  async authorizeDevice(): Promise<PendingDeviceAuthorization> {
    let response: client.DeviceAuthorizationResponse
    try {
      response = await client.initiateDeviceAuthorization(this.config, {scope: this.settings.scope, ...this.settings.authorizationParams})
    } catch (error) {
      throw translate(error, this.server, 'the device authorization request', this.settings.clientId)
    }
    return {
      prompt: {
        verificationUri: response.verification_uri,
        verificationUriComplete: response.verification_uri_complete,
        userCode: response.user_code,
        expiresIn: response.expires_in,
      },
      finish: async (signal) => {
        try {
          return tokenSet(await client.pollDeviceAuthorizationGrant(this.config, response, undefined, {signal}))
        } catch (error) {
          if (signal.aborted) throw signal.reason
          throw translate(error, this.server, 'the device login', this.settings.clientId)
        }
      },
    }
  }

  /** RFC 6749 §6. The result may carry a new refresh token (rotation), which replaces the old one. */
  async refresh(refreshToken: string): Promise<TokenSet> {
    registerSecret(refreshToken)
    try {
      return tokenSet(await client.refreshTokenGrant(this.config, refreshToken))
    } catch (error) {
      throw translate(error, this.server, 'the stored refresh token', this.settings.clientId)
    }
  }
}

function serverMetadata(settings: OAuthClientSettings, origin: string): client.ServerMetadata {
  return {
    issuer: issuerFor(settings.tokenEndpoint!) ?? origin,
    token_endpoint: settings.tokenEndpoint,
    ...(settings.authorizationEndpoint === undefined ? {} : {authorization_endpoint: settings.authorizationEndpoint}),
    ...(settings.deviceAuthorizationEndpoint === undefined ? {} : {device_authorization_endpoint: settings.deviceAuthorizationEndpoint}),
  }
}

/** The documented issuers of the presets' token endpoints (what their `iss` parameters say). */
function issuerFor(tokenEndpoint: string): string | undefined {
  if (tokenEndpoint.startsWith('https://oauth2.googleapis.com/')) return 'https://accounts.google.com'
  if (tokenEndpoint.startsWith('https://login.microsoftonline.com/common/')) return 'https://login.microsoftonline.com/common/v2.0'
  return undefined
}

/** Discovery found the endpoints; endpoints the account gives explicitly still win. */
function withExplicitEndpoints(config: client.Configuration, settings: OAuthClientSettings, auth: client.ClientAuth, insecure: boolean): client.Configuration {
  if (settings.authorizationEndpoint === undefined && settings.tokenEndpoint === undefined && settings.deviceAuthorizationEndpoint === undefined) return config
  const metadata = {...config.serverMetadata()}
  if (settings.authorizationEndpoint !== undefined) metadata.authorization_endpoint = settings.authorizationEndpoint
  if (settings.tokenEndpoint !== undefined) metadata.token_endpoint = settings.tokenEndpoint
  if (settings.deviceAuthorizationEndpoint !== undefined) metadata.device_authorization_endpoint = settings.deviceAuthorizationEndpoint
  const merged = new client.Configuration(metadata, settings.clientId, {client_id: settings.clientId}, auth)
  if (insecure) client.allowInsecureRequests(merged)
  merged.timeout = REQUEST_TIMEOUT_S
  return merged
}

function tokenSet(response: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers): TokenSet {
  registerSecret(response.access_token)
  registerSecret(response.refresh_token)
  const expiresIn = response.expiresIn()
  return {
    accessToken: response.access_token,
    refreshToken: response.refresh_token,
    expiresAt: expiresIn === undefined ? undefined : Date.now() + expiresIn * 1000,
    scope: response.scope,
  }
}

/** openid-client's errors as ours (oauth-errors.ts). */
function translate(error: unknown, server: string, what: string, clientId: string): Error {
  if (error instanceof MailkeepError) return error
  if (error instanceof client.ResponseBodyError || error instanceof client.AuthorizationResponseError) {
    return refused(server, what, {error: error.error, error_description: error.error_description}, clientId, error)
  }
  if (error instanceof client.WWWAuthenticateChallengeError) {
    const challenge = error.cause[0]
    const code = challenge?.parameters.error ?? `HTTP ${error.status}`
    return refused(server, what, {error: code, error_description: challenge?.parameters.error_description}, clientId, error)
  }
  const problem = networkProblem(error)
  if (problem !== undefined) return unreachable(server, problem, error)
  const message = error instanceof Error ? error.message : String(error)
  return refused(server, what, {error: 'invalid_response', error_description: message}, clientId, error)
}
