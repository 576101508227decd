/**
 * The closed key lists of the config file, in the order saveConfig() writes them (compat §3.2,
 * "On save"). imap-backup rejects any account key it does not know, so a file that uses one of
 * mailkeep's extension keys can no longer be loaded by imap-backup (docs/config.md).
 */

/** imap-backup's top-level keys. */
export const TOP_LEVEL_KEYS = ['version', 'accounts', 'download_strategy'] as const

/** mailkeep's top-level extension keys. */
export const TOP_LEVEL_EXTENSION_KEYS = [
  'savepoint_messages',
  'savepoint_bytes',
  'savepoint_seconds',
  'delay_all_max_bytes',
  'large_message_bytes',
  'log_format',
  'freeze_flags',
  'max_duration_seconds',
] as const

/** imap-backup's account keys, in its save order (`download_strategy` is read, never written). */
export const ACCOUNT_KEYS = [
  'username',
  'password',
  'status',
  'local_path',
  'folders',
  'folder_blacklist',
  'mirror_mode',
  'server',
  'connection_options',
  'multi_fetch_size',
  'reset_seen_flags_after_fetch',
  'download_strategy',
] as const

/** mailkeep's account extension keys. */
export const ACCOUNT_EXTENSION_KEYS = ['password_command', 'password_env', 'password_file', 'oauth2_token_command', 'oauth2', 'auth_mechanism'] as const

/** Exactly one of these gives an account its secret. */
export const PASSWORD_SOURCE_KEYS = ['password', 'password_command', 'password_env', 'password_file', 'oauth2_token_command', 'oauth2'] as const
export type PasswordSourceKey = (typeof PASSWORD_SOURCE_KEYS)[number]

export const DOWNLOAD_STRATEGIES = ['delay_metadata', 'direct', 'delay_all'] as const
export const ACCOUNT_STATUSES = ['active', 'archived', 'offline'] as const
export const AUTH_MECHANISMS = ['login', 'xoauth2', 'oauthbearer'] as const
export const LOG_FORMATS = ['text', 'json'] as const

/** The keys of an account's `oauth2` object, in save order. */
export const OAUTH2_KEYS = [
  'provider',
  'client_id',
  'client_secret',
  'issuer',
  'authorization_endpoint',
  'token_endpoint',
  'device_authorization_endpoint',
  'scope',
  'token_file',
] as const
