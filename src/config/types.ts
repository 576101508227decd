/**
 * The two shapes of the configuration:
 *
 * - `ConfigFile` / `AccountFile`: the JSON file as written (snake_case keys, imap-backup's
 *   schema 2.x plus mailkeep's extension keys). This is the editable form: `setup` builds or
 *   changes one and hands it to saveConfig().
 * - `Config` / `Account`: the validated, normalized, read-only view the engine works with
 *   (camelCase, defaults applied, paths absolute, connection options mapped to `Connection`).
 *
 * docs/config.md documents every key.
 */

import type {OAuthProviderName} from './oauth-providers.js'

export type DownloadStrategy = 'delay_metadata' | 'direct' | 'delay_all'
export type AccountStatus = 'active' | 'archived' | 'offline'
export type AuthMechanism = 'login' | 'xoauth2' | 'oauthbearer'
/** An account's mechanism: `auto` (an OAuth2 account without `auth_mechanism`) lets the server's capabilities decide. */
export type AccountAuthMechanism = AuthMechanism | 'auto'
export type LogFormat = 'text' | 'json'
/** The mail provider recognised from the username's domain (compat §6.10); `other` has no defaults. */
export type ProviderKind = 'gmail' | 'fastmail' | 'apple' | 'purelymail' | 'other'
export type Security = 'tls' | 'starttls' | 'plain'
export type TlsVersion = 'TLSv1.2' | 'TLSv1.3'

/** Net::IMAP `ssl` settings as imap-backup passes them to OpenSSL. Unknown keys are kept. */
export interface SslOptionsFile {
  /** OpenSSL verify mode: 0 = no verification, 1 = verify the peer. */
  verify_mode?: number
  ca_file?: string
  /** e.g. "TLS1_2", "TLS1_3" (Ruby's constant names), "TLSv1.2", or the numbers 771 / 772. */
  min_version?: string | number
  [key: string]: unknown
}

/** imap-backup's Net::IMAP options plus mailkeep's `starttls`. Unknown keys are kept on save. */
export interface ConnectionOptionsFile {
  port?: number | string
  ssl?: boolean | SslOptionsFile
  open_timeout?: number
  idle_response_timeout?: number
  /** mailkeep extension: socket inactivity timeout in seconds. */
  timeout?: number
  /** mailkeep extension. */
  starttls?: boolean
  [key: string]: unknown
}

export interface AccountFile {
  username: string
  password?: string
  /** mailkeep extension: a shell command printing the password. */
  password_command?: string
  /** mailkeep extension: the name of an environment variable holding the password. */
  password_env?: string
  /** mailkeep extension: a file (mode 0600) holding the password. */
  password_file?: string
  /** mailkeep extension: a shell command printing an OAuth2 access token. */
  oauth2_token_command?: string
  /** mailkeep extension: mailkeep's own OAuth2 login (docs/auth.md). */
  oauth2?: OAuth2File
  /** mailkeep extension. */
  auth_mechanism?: AuthMechanism
  status?: AccountStatus
  local_path?: string
  /** Folder names; the legacy form `{"name": "..."}` (config 2.1 and earlier) is accepted on input. */
  folders?: Array<string | {name: string}>
  folder_blacklist?: boolean
  mirror_mode?: boolean
  server?: string
  /** An object, or a JSON string holding one (as `single backup -o` and old setups wrote it). */
  connection_options?: ConnectionOptionsFile | string
  multi_fetch_size?: number
  reset_seen_flags_after_fetch?: boolean
  /** Accepted and ignored (imap-backup does the same): the top-level value wins. Never written. */
  download_strategy?: unknown
}

/** An account's `oauth2` object: the client and authorization server of mailkeep's own OAuth2 login. */
export interface OAuth2File {
  /** A preset of src/config/oauth-providers.ts, or `generic` (then `issuer` or the endpoints). */
  provider: OAuthProviderName
  client_id: string
  /** Where the provider requires one (Google's "Desktop app" clients). */
  client_secret?: string
  /** generic: the issuer URL, for discovery (RFC 8414, OpenID Connect Discovery). */
  issuer?: string
  /** generic, instead of `issuer`. */
  authorization_endpoint?: string
  token_endpoint?: string
  device_authorization_endpoint?: string
  /** The scopes to ask for; the preset's by default, required for `generic`. */
  scope?: string
  /** The file holding the refresh token; default `oauth2/<username>.json` next to the config. */
  token_file?: string
}

export interface ConfigFile {
  version?: string
  accounts: AccountFile[]
  download_strategy?: DownloadStrategy
  /** mailkeep extensions (see Tuning). */
  savepoint_messages?: number
  savepoint_bytes?: number
  savepoint_seconds?: number
  delay_all_max_bytes?: number
  large_message_bytes?: number
  log_format?: LogFormat
  /** mailkeep extension: keep stored flags as downloaded (imap-backup's behaviour) unless --refresh. */
  freeze_flags?: boolean
  /** mailkeep extension: a backup stops at a savepoint after this long (exit 4); `--max-duration` overrides it. */
  max_duration_seconds?: number
}

/** Where an account's secret comes from. Only `plain` holds the secret itself. */
export type PasswordSource =
  | {readonly kind: 'plain'; readonly value: string}
  | {readonly kind: 'command'; readonly command: string}
  | {readonly kind: 'env'; readonly name: string}
  | {readonly kind: 'file'; readonly path: string}
  | {readonly kind: 'oauth2-command'; readonly command: string}
  | {readonly kind: 'oauth2'; readonly oauth2: OAuth2Settings}

/**
 * The normalized `oauth2` object: endpoints filled in from the preset (or left to discovery from
 * `issuer`), paths absolute. Holds no token: the refresh token is in `tokenFile`.
 */
export interface OAuth2Settings {
  readonly provider: OAuthProviderName
  readonly clientId: string
  readonly clientSecret: string | undefined
  /** Set when the endpoints are to be discovered (generic with `issuer`). */
  readonly issuer: string | undefined
  readonly authorizationEndpoint: string | undefined
  readonly tokenEndpoint: string | undefined
  readonly deviceAuthorizationEndpoint: string | undefined
  readonly scope: string
  readonly authorizationParams: Readonly<Record<string, string>>
  /** Absolute path of the refresh-token file. */
  readonly tokenFile: string
}

export interface Connection {
  readonly host: string
  readonly port: number
  /** `tls`: TLS from the first byte; `starttls`: RFC 3501 §6.2.1 upgrade; `plain`: no TLS at all. */
  readonly security: Security
  /** Verify the server certificate and host name (`false` for `plain`: nothing to verify). */
  readonly verifyCertificate: boolean
  /** Absolute path of a PEM file of trusted CAs, replacing the system store. */
  readonly caFile?: string
  /** Set for `tls` and `starttls`; undefined for `plain`. */
  readonly minTlsVersion?: TlsVersion
  readonly connectTimeoutMs: number
  /** How long the server may stay silent while a command is pending before the link counts as broken (`timeout`). */
  readonly idleTimeoutMs: number
}

export interface Account {
  /** Position in the config's `accounts` array (for messages such as `accounts[1].server`). */
  readonly index: number
  readonly username: string
  readonly passwordSource: PasswordSource
  /**
   * `login` for password sources; `xoauth2` or `oauthbearer` when `auth_mechanism` says so for
   * an OAuth2 account, else `auto` (XOAUTH2 if the server offers it, else OAUTHBEARER).
   */
  readonly authMechanism: AccountAuthMechanism
  /** Absolute; undefined when the config sets none (a backup then fails: requireLocalPath()). */
  readonly localPath: string | undefined
  /** Empty when the config sets none. */
  readonly folders: readonly string[]
  readonly folderBlacklist: boolean
  readonly mirrorMode: boolean
  /** `server`, or else the provider's host; undefined when neither (a backup then fails). */
  readonly server: string | undefined
  /** Undefined exactly when `server` is; see requireConnection(). */
  readonly connection: Connection | undefined
  readonly multiFetchSize: number
  readonly resetSeenFlagsAfterFetch: boolean
  readonly status: AccountStatus
  readonly provider: ProviderKind
}

/** How often a transaction commits and how much it may buffer (docs/design.md, "Savepoints"). */
export interface Tuning {
  readonly savepointMessages: number
  readonly savepointBytes: number
  readonly savepointSeconds: number
  readonly delayAllMaxBytes: number
  /** Messages larger than this are streamed to disk instead of being held in memory. */
  readonly largeMessageBytes: number
}

export interface Config {
  /** Absolute path of the file the config was loaded from (or is to be saved to). */
  readonly path: string
  /** The file's `version` as written; not checked beyond its type (as imap-backup). */
  readonly version: string | undefined
  readonly downloadStrategy: DownloadStrategy
  readonly tuning: Tuning
  /** `log_format` from the file; undefined when not set (the command line decides). */
  readonly logFormat: LogFormat | undefined
  /**
   * `freeze_flags`: stored flags stay as downloaded in keep-all mode unless --refresh is given
   * (imap-backup's behaviour). When false (the default) they follow the server's wherever the
   * server makes that cheap (CONDSTORE, RFC 7162; docs/backup.md, "Flags").
   */
  readonly freezeFlags: boolean
  /** `max_duration_seconds` in milliseconds; undefined: no limit (`--max-duration` may set one). */
  readonly maxDurationMs?: number
  readonly accounts: readonly Account[]
  /**
   * One line each: what was accepted but ignored (unknown top-level keys and connection
   * options, …) and what was replaced as imap-backup replaces it (a `multi_fetch_size` of 0, an
   * unknown `download_strategy`, …), naming the file, the key, the value and what is used.
   */
  readonly warnings: readonly string[]
  /**
   * The file in canonical form: validated, key order as saveConfig() writes it, legacy folder
   * objects converted, a string `connection_options` parsed, nulls and empty optional strings
   * dropped, always-written keys (`status`, `multi_fetch_size`, `download_strategy`) filled in,
   * values imap-backup replaces stored as replaced, unknown-but-allowed data (extra connection
   * options, unknown top-level keys) kept. A fresh object: edit it and pass it
   * to saveConfig(); the normalized fields above are not recomputed.
   */
  readonly raw: ConfigFile
}
