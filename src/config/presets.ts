/**
 * Provider presets: the IMAP server of well-known mail providers and how they let a program log
 * in, for `mailkeep setup` (docs/commands/setup.md, "Adding an account"). Choosing one fills in
 * the account's `server` and, when they differ from the defaults (port 993, TLS), its
 * `connection_options`; nothing else about an account depends on it (the provider-specific
 * behaviour the engine has is keyed by provider.ts, from the address's domain, as imap-backup
 * does it).
 *
 * `login` says what the provider accepts over IMAP:
 *   - `password`: the account's password;
 *   - `app-password`: only a password made for the program in the provider's account settings
 *     (the normal one is refused once two-step verification is on, or always);
 *   - `oauth2`: no password at all: an OAuth2 access token (SASL XOAUTH2 or OAUTHBEARER,
 *     `docs/auth.md`).
 * A preset with `oauth2` is the one setup cannot finish with a password. `oauth2Provider` names
 * the provider's entry in oauth-providers.ts (endpoints, scope) for mailkeep's own OAuth2 login
 * (`mailkeep auth login`, setup's "log in with OAuth2"), where the provider has one.
 */
import {DEFAULT_STARTTLS_PORT, DEFAULT_TLS_PORT} from './defaults.js'
import type {OAuthProviderId} from './oauth-providers.js'
import type {Security} from './types.js'

export type PresetId = 'gmail' | 'outlook' | 'fastmail' | 'icloud' | 'yahoo' | 'generic'

export interface ProviderPreset {
  readonly id: PresetId
  /** As shown in the list: `Gmail`, `Outlook / Microsoft 365`. */
  readonly label: string
  /** Address domains that choose it (lower case); a custom domain is chosen from the list. */
  readonly domains: readonly string[]
  /** The IMAP host; undefined for the generic entry (asked). */
  readonly host: string | undefined
  readonly port: number
  readonly security: Security
  readonly login: 'password' | 'app-password' | 'oauth2'
  /** Shown when the preset is chosen: what to do before the first login. */
  readonly advice?: string
  /** Where the provider's own page on IMAP access is. */
  readonly help?: string
  /** The provider's entry of OAUTH_PROVIDERS, when mailkeep's own OAuth2 login can log in there. */
  readonly oauth2Provider?: OAuthProviderId
}

export const PROVIDER_PRESETS: readonly ProviderPreset[] = [
  {
    id: 'gmail',
    label: 'Gmail',
    domains: ['gmail.com', 'googlemail.com'],
    host: 'imap.gmail.com',
    port: 993,
    security: 'tls',
    login: 'app-password',
    advice: 'Gmail takes an app password, not your Google password: turn on 2-Step Verification, then create one under Google Account → Security → App passwords, and enter it here (or, instead, "change password source" → "log in with OAuth2").',
    help: 'https://support.google.com/mail/answer/185833',
    oauth2Provider: 'google',
  },
  {
    id: 'outlook',
    label: 'Outlook / Microsoft 365',
    domains: ['outlook.com', 'hotmail.com', 'live.com', 'msn.com', 'outlook.de', 'hotmail.de', 'hotmail.co.uk', 'live.de'],
    host: 'outlook.office365.com',
    port: 993,
    security: 'tls',
    login: 'oauth2',
    advice: 'Microsoft accepts no password over IMAP, only OAuth2: choose "change password source" → "log in with OAuth2" (or run `mailkeep auth login` for this account; `mailkeep help auth.md` says how).',
    help: 'https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth',
    oauth2Provider: 'microsoft',
  },
  {
    id: 'fastmail',
    label: 'Fastmail',
    domains: ['fastmail.com', 'fastmail.fm'],
    host: 'imap.fastmail.com',
    port: 993,
    security: 'tls',
    login: 'app-password',
    advice: 'Fastmail takes an app password: create one under Settings → Privacy & Security → Manage app passwords (access: IMAP), and enter it here.',
    help: 'https://www.fastmail.help/hc/en-us/articles/360058752854',
  },
  {
    id: 'icloud',
    label: 'iCloud Mail',
    domains: ['icloud.com', 'me.com', 'mac.com'],
    host: 'imap.mail.me.com',
    port: 993,
    security: 'tls',
    login: 'app-password',
    advice: 'iCloud takes an app-specific password: create one at account.apple.com → Sign-In and Security → App-Specific Passwords. The login is your iCloud address.',
    help: 'https://support.apple.com/en-us/102654',
  },
  {
    id: 'yahoo',
    label: 'Yahoo Mail',
    domains: ['yahoo.com', 'ymail.com', 'rocketmail.com', 'yahoo.co.uk', 'yahoo.de', 'yahoo.fr'],
    host: 'imap.mail.yahoo.com',
    port: 993,
    security: 'tls',
    login: 'app-password',
    advice: 'Yahoo takes an app password: create one under Account Security → Generate app password, and enter it here.',
    help: 'https://help.yahoo.com/kb/SLN4075.html',
  },
  {
    id: 'generic',
    label: 'another provider or my own server',
    domains: [],
    host: undefined,
    port: 993,
    security: 'tls',
    login: 'password',
  },
]

/** The preset for an address's domain (case-insensitive, RFC 5321 §2.4), or undefined. */
export function presetForAddress(login: string): ProviderPreset | undefined {
  const at = login.lastIndexOf('@')
  if (at < 0) return undefined
  const domain = login.slice(at + 1).toLowerCase()
  return PROVIDER_PRESETS.find((p) => p.domains.includes(domain))
}

/** The preset whose server this is (for the account header), or undefined. */
export function presetForHost(host: string | undefined): ProviderPreset | undefined {
  if (host === undefined) return undefined
  const wanted = host.toLowerCase()
  return PROVIDER_PRESETS.find((p) => p.host === wanted)
}

/**
 * The port the loader uses when `connection_options` give none (connection.ts): 143 for
 * STARTTLS, else 993, also for plain IMAP (`ssl: false` keeps 993, as imap-backup does).
 */
export function defaultPort(security: Security): number {
  return security === 'starttls' ? DEFAULT_STARTTLS_PORT : DEFAULT_TLS_PORT
}

/** The port a server usually listens on for this kind of connection (RFC 8314 §7, RFC 3501). */
export function usualPort(security: Security): number {
  return security === 'tls' ? DEFAULT_TLS_PORT : DEFAULT_STARTTLS_PORT
}
