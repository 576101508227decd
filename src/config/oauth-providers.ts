/**
 * What mailkeep knows about the OAuth 2.0 authorization servers of the big mail providers, so
 * that an account needs only `"oauth2": {"provider": "google", "client_id": ...}`. A provider
 * preset table (setup's) refers to an entry by its id (`OAuthProviderId`).
 *
 * Endpoints are given explicitly rather than discovered: Google's are stable and documented,
 * and Microsoft's discovery document names a per-tenant `{tenantid}` issuer that a strict
 * client cannot match against `common`. The `generic` entry takes an issuer (RFC 8414 /
 * OpenID Connect discovery) or explicit endpoints from the account instead.
 *
 * Scopes: Google's full-mail scope (the only one IMAP accepts), and Microsoft's IMAP scope plus
 * `offline_access`, without which Microsoft issues no refresh token.
 */

export type OAuthProviderId = 'google' | 'microsoft'
/** An account's `oauth2.provider`. */
export type OAuthProviderName = OAuthProviderId | 'generic'

export interface OAuthProviderPreset {
  readonly id: OAuthProviderId
  /** For messages and setup. */
  readonly name: string
  readonly imap: {readonly host: string; readonly port: number}
  readonly authorizationEndpoint: string
  readonly tokenEndpoint: string
  /** RFC 8628 device authorization; undefined where the provider refuses it for IMAP scopes. */
  readonly deviceAuthorizationEndpoint: string | undefined
  readonly scope: string
  /** Extra parameters of the authorization request (Google: how to get a refresh token). */
  readonly authorizationParams: Readonly<Record<string, string>>
  /** Whether the provider's installed-app clients come with a secret that must be sent. */
  readonly clientSecretRequired: boolean
  /** Where the user registers a client (docs/auth.md walks through it). */
  readonly consoleUrl: string
}

export const OAUTH_PROVIDERS: Readonly<Record<OAuthProviderId, OAuthProviderPreset>> = {
  google: {
    id: 'google',
    name: 'Google (Gmail, Google Workspace)',
    imap: {host: 'imap.gmail.com', port: 993},
    authorizationEndpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
    tokenEndpoint: 'https://oauth2.googleapis.com/token',
    // Google's device flow does not allow the https://mail.google.com/ scope.
    deviceAuthorizationEndpoint: undefined,
    scope: 'https://mail.google.com/',
    // A refresh token only with access_type=offline, and again on a later login only with
    // prompt=consent.
    authorizationParams: {access_type: 'offline', prompt: 'consent'},
    // "Desktop app" clients have a secret that Google requires although it cannot be kept secret.
    clientSecretRequired: true,
    consoleUrl: 'https://console.cloud.google.com/apis/credentials',
  },
  microsoft: {
    id: 'microsoft',
    name: 'Microsoft (Outlook.com, Microsoft 365)',
    imap: {host: 'outlook.office365.com', port: 993},
    authorizationEndpoint: 'https://login.microsoftonline.com/common/oauth2/v2.0/authorize',
    tokenEndpoint: 'https://login.microsoftonline.com/common/oauth2/v2.0/token',
    deviceAuthorizationEndpoint: 'https://login.microsoftonline.com/common/oauth2/v2.0/devicecode',
    scope: 'https://outlook.office.com/IMAP.AccessAsUser.All offline_access',
    authorizationParams: {},
    // A public client ("Mobile and desktop applications"): no secret.
    clientSecretRequired: false,
    consoleUrl: 'https://entra.microsoft.com/#view/Microsoft_AAD_RegisteredApps/ApplicationsListBlade',
  },
}

export const OAUTH_PROVIDER_NAMES: readonly OAuthProviderName[] = ['google', 'microsoft', 'generic']

/** The preset a mail domain implies, for `auth login` of an account not yet configured. */
export function oauthProviderForDomain(username: string): OAuthProviderId | undefined {
  const domain = username.slice(username.lastIndexOf('@') + 1).toLowerCase()
  if (domain === 'gmail.com' || domain === 'googlemail.com') return 'google'
  if (['outlook.com', 'hotmail.com', 'live.com', 'msn.com'].includes(domain)) return 'microsoft'
  return undefined
}
