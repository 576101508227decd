/**
 * The OAuth layer's own types. It knows nothing of the config file: the engine hands it these
 * plain settings (structurally what src/config's OAuth2Settings holds).
 */

/** Where the authorization server is: an issuer to discover, or explicit endpoints. */
export interface OAuthServerSettings {
  /** Discovery (RFC 8414; OpenID Connect Discovery) when set. */
  readonly issuer: string | undefined
  readonly authorizationEndpoint: string | undefined
  readonly tokenEndpoint: string | undefined
  readonly deviceAuthorizationEndpoint: string | undefined
}

export interface OAuthClientSettings extends OAuthServerSettings {
  readonly clientId: string
  readonly clientSecret: string | undefined
  /** Space-separated scopes (RFC 6749 §3.3). */
  readonly scope: string
  /** Extra authorization-request parameters (Google's access_type=offline). */
  readonly authorizationParams: Readonly<Record<string, string>>
}

/** What a token request returned. Both tokens are secrets: never logged, never printed. */
export interface TokenSet {
  readonly accessToken: string
  /** Absent when the server did not issue (or rotate) one. */
  readonly refreshToken: string | undefined
  /** Epoch milliseconds; undefined when the server gave no `expires_in`. */
  readonly expiresAt: number | undefined
  readonly scope: string | undefined
}

/** RFC 8628 §3.2: what the user must see to approve the login on another device. */
export interface DeviceCodePrompt {
  readonly verificationUri: string
  readonly verificationUriComplete: string | undefined
  readonly userCode: string
  /** Seconds the code stays valid. */
  readonly expiresIn: number
}

/** How a login shows its progress to the user: the CLI prints (and opens the browser). */
export interface LoginInteraction {
  /** The authorization code flow: the URL to open in a browser. */
  openUrl(url: string): void
  /** The device flow: where to go and which code to type. */
  showDeviceCode(prompt: DeviceCodePrompt): void
}
