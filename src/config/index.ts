/**
 * The config layer: load, validate and save imap-backup's config file (schema 2.x) plus
 * mailkeep's extension keys (docs/config.md). Imports only src/shared and Node built-ins.
 */
export type {
  Account,
  AccountAuthMechanism,
  AccountFile,
  AccountStatus,
  AuthMechanism,
  Config,
  ConfigFile,
  Connection,
  ConnectionOptionsFile,
  DownloadStrategy,
  LogFormat,
  OAuth2File,
  OAuth2Settings,
  PasswordSource,
  ProviderKind,
  Security,
  SslOptionsFile,
  TlsVersion,
  Tuning,
} from './types.js'
export {loadConfig, parseConfigJson} from './load-config.js'
export {parseConfig} from './parse-config.js'
export {saveConfig} from './save-config.js'
export {resolveSecret, type ResolveSecretOptions} from './resolve-secret.js'
export {requireConnection, requireLocalPath, selectAccounts, selectFolders} from './select.js'
export {providerFor, type Provider} from './provider.js'
export {PROVIDER_PRESETS, defaultPort, presetForAddress, presetForHost, usualPort, type PresetId, type ProviderPreset} from './presets.js'
export {CONFIG_VERSION, DEFAULT_DOWNLOAD_STRATEGY, DEFAULT_MULTI_FETCH_SIZE, DEFAULT_TUNING} from './defaults.js'
export {OAUTH_PROVIDERS, OAUTH_PROVIDER_NAMES, oauthProviderForDomain, type OAuthProviderId, type OAuthProviderName, type OAuthProviderPreset} from './oauth-providers.js'
export {defaultTokenFile, isAllowedEndpoint} from './oauth2-settings.js'
export {readTokenFile, writeTokenFile, type LoginFlow, type StoredLogin} from './token-file.js'
export {PASSWORD_SOURCE_KEYS} from './keys.js'
