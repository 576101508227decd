/**
 * Validates a parsed config file (schema 2.x, compat §3.2/§3.3, plus mailkeep's extension keys)
 * and builds the normalized Config. No file access happens here: loadConfig() reads the file,
 * saveConfig() validates what it is about to write with the same function.
 *
 * mailkeep reads imap-backup's files as they are: where imap-backup silently replaces a value (an
 * unknown `download_strategy`, a `multi_fetch_size` of 0, a boolean written as "true", an
 * unknown top-level key) mailkeep uses what imap-backup uses and adds a warning naming the file,
 * the key, the value and what is used instead (docs/config.md, "Compatibility with imap-backup").
 * Input imap-backup cannot use either (not JSON, wrong types, unknown account keys) and input
 * whose reading would lose data (a boolean written as "false", two accounts in one directory)
 * is refused with a message naming the file, the key and the fix. A missing value gets the
 * default. JSON `null` and (for optional strings) `""` mean "not set", as an absent key does.
 */
import {dirname, resolve} from 'node:path'
import {registerSecret} from '../shared/secrets.js'
import {checkBackupPaths} from './backup-paths.js'
import {accountKey, describeType, invalidConfig, showValue} from './config-error.js'
import {mapConnection, parseConnectionOptions, type AccountContext} from './connection.js'
import {DEFAULT_DOWNLOAD_STRATEGY, DEFAULT_TUNING} from './defaults.js'
import {
  ACCOUNT_EXTENSION_KEYS,
  ACCOUNT_KEYS,
  ACCOUNT_STATUSES,
  AUTH_MECHANISMS,
  DOWNLOAD_STRATEGIES,
  LOG_FORMATS,
  PASSWORD_SOURCE_KEYS,
  TOP_LEVEL_EXTENSION_KEYS,
  TOP_LEVEL_KEYS,
  type PasswordSourceKey,
} from './keys.js'
import {nearestTypo} from '../shared/nearest.js'
import {
  AS_IMAP_BACKUP, isObject, isSet, oneOf, oneOfOr, optionalBoolean, optionalPositiveNumber, optionalString,
  parseMultiFetchSize, positiveInteger, positiveNumber, strictBoolean, type JsonObject,
} from './config-values.js'
import {OAUTH_PROVIDERS} from './oauth-providers.js'
import {parseOAuth2} from './oauth2-settings.js'
import {resolveConfigPath} from './paths.js'
import {providerFor} from './provider.js'
import type {
  Account,
  AccountFile,
  AccountStatus,
  AccountAuthMechanism,
  Config,
  ConfigFile,
  LogFormat,
  PasswordSource,
  Tuning,
} from './types.js'

const KNOWN_TOP_LEVEL = new Set<string>([...TOP_LEVEL_KEYS, ...TOP_LEVEL_EXTENSION_KEYS])
const KNOWN_ACCOUNT = new Set<string>([...ACCOUNT_KEYS, ...ACCOUNT_EXTENSION_KEYS])
const DOCS_FIX = '`mailkeep help config` lists the valid keys'




/**
 * Validates `raw` (the parsed JSON of the file at `path`) and returns the normalized Config with
 * its warnings. Every plain-text password is registered as a secret. Throws ConfigError on the
 * first problem.
 */
export function parseConfig(raw: unknown, path: string): Config {
  const file = resolve(path)
  const configDir = dirname(file)
  if (!isObject(raw)) {
    throw invalidConfig(file, 'top level', `must be a JSON object, not ${describeType(raw)}`, 'the file should look like {"version": "2.2", "accounts": [...]}')
  }
  const warnings: string[] = []
  // imap-backup reads only `accounts` and `download_strategy` (and drops the rest when it saves).
  // mailkeep ignores other keys too, but keeps them on save and says so: a misspelt
  // savepoint_messages has no effect, and the user should learn why.
  // A key one typo away from a known one, or an account key put at the top level, is refused:
  // its setting would be silently unused, and a warning is hidden by --quiet (docs/config.md).
  const unknown = Object.keys(raw).filter((k) => !KNOWN_TOP_LEVEL.has(k))
  for (const key of unknown) refuseMisplacedKey(file, key)
  for (const key of unknown) warnings.push(`Config file '${file}': ${key}: not a key of imap-backup or mailkeep, ignored${AS_IMAP_BACKUP} (${DOCS_FIX})`)

  // imap-backup never reads `version`: a number (2.2) is ignored, and every save writes "2.2".
  const rawVersion = raw['version']
  const version = typeof rawVersion === 'string' ? rawVersion : undefined
  if (rawVersion !== undefined && rawVersion !== null && version === undefined) {
    warnings.push(`Config file '${file}': version: ${showValue(rawVersion)} is not a string, ignored${AS_IMAP_BACKUP}; saving writes "version": "2.2"`)
  }
  const accountsValue = raw['accounts']
  if (accountsValue === undefined || accountsValue === null) {
    throw invalidConfig(file, 'top level', 'Missing required options: accounts', 'add "accounts": [] and then the accounts (mailkeep setup does this)')
  }
  if (!Array.isArray(accountsValue)) {
    throw invalidConfig(file, 'accounts', `must be an array of accounts, not ${describeType(accountsValue)}`, 'write "accounts": [{"username": ..., "password": ...}, ...]')
  }

  const downloadStrategy = oneOfOr(raw['download_strategy'], DOWNLOAD_STRATEGIES, DEFAULT_DOWNLOAD_STRATEGY, file, 'download_strategy', AS_IMAP_BACKUP, warnings)
  const logFormat: LogFormat | undefined = oneOf(raw['log_format'], LOG_FORMATS, file, 'log_format', 'remove it to let the command line decide')
  const freezeFlags = strictBoolean(raw['freeze_flags'], file, 'freeze_flags', 'write true to keep flags as downloaded (unless --refresh), or remove it for false') ?? false
  const tuning: Tuning = {
    savepointMessages: positiveInteger(raw['savepoint_messages'], file, 'savepoint_messages', DEFAULT_TUNING.savepointMessages),
    savepointBytes: positiveInteger(raw['savepoint_bytes'], file, 'savepoint_bytes', DEFAULT_TUNING.savepointBytes),
    savepointSeconds: positiveNumber(raw['savepoint_seconds'], file, 'savepoint_seconds', DEFAULT_TUNING.savepointSeconds),
    delayAllMaxBytes: positiveInteger(raw['delay_all_max_bytes'], file, 'delay_all_max_bytes', DEFAULT_TUNING.delayAllMaxBytes),
    largeMessageBytes: positiveInteger(raw['large_message_bytes'], file, 'large_message_bytes', DEFAULT_TUNING.largeMessageBytes),
  }

  const maxDurationSeconds = optionalPositiveNumber(raw['max_duration_seconds'], file, 'max_duration_seconds', 'e.g. 7200 for two hours, or remove it for no limit')

  const parsed = accountsValue.map((value: unknown, index) => parseAccount(value, {file, configDir, index, username: undefined}, warnings))
  checkUnique(parsed.map((p) => p.account), file)

  const canonical: ConfigFile = {
    ...(version === undefined ? {} : {version}),
    accounts: parsed.map((p) => p.file),
    download_strategy: downloadStrategy,
  }
  const extensions = canonical as unknown as JsonObject
  for (const key of [...TOP_LEVEL_EXTENSION_KEYS, ...unknown]) {
    const value = raw[key]
    if (value !== undefined && value !== null) extensions[key] = value
  }

  return {
    path: file,
    version,
    downloadStrategy,
    tuning,
    logFormat,
    freezeFlags,
    ...(maxDurationSeconds === undefined ? {} : {maxDurationMs: Math.round(maxDurationSeconds * 1000)}),
    accounts: parsed.map((p) => p.account),
    warnings,
    raw: canonical,
  }
}

function refuseMisplacedKey(file: string, key: string): void {
  const near = nearestTypo(key, KNOWN_TOP_LEVEL)
  if (near !== undefined) {
    throw invalidConfig(file, key, `is not a key of mailkeep or imap-backup; did you mean "${near}"?`, `rename it to "${near}" (as it is, the setting would be ignored)`)
  }
  if (KNOWN_ACCOUNT.has(key)) {
    throw invalidConfig(file, key, 'is a key of an account, not of the top level', 'move it into each account that should use it (at the top level it would be ignored)')
  }
}

interface ParsedAccount {
  account: Account
  /** The account as saveConfig() writes it. */
  file: AccountFile
}

function parseAccount(value: unknown, base: AccountContext, warnings: string[]): ParsedAccount {
  const {file, index} = base
  if (!isObject(value)) {
    throw invalidConfig(file, `accounts[${index}]`, `must be an object, not ${describeType(value)}`, 'write each account as {"username": ..., "password": ...}')
  }
  const rawUsername = value['username']
  const label = typeof rawUsername === 'string' && rawUsername !== '' ? rawUsername : undefined
  const ctx: AccountContext = {...base, username: label}
  const where = (key?: string): string => accountKey(index, key, label)

  const unknown = Object.keys(value).filter((k) => !KNOWN_ACCOUNT.has(k))
  if (unknown.length > 0) throw invalidConfig(file, where(), `Unknown options: ${unknown.join(', ')}`, `remove them (${DOCS_FIX})`)

  const sources = PASSWORD_SOURCE_KEYS.filter((k) => isSet(value[k]))
  const missing = [...(isSet(rawUsername) ? [] : ['username']), ...(sources.length === 0 ? ['password'] : [])]
  if (missing.length > 0) {
    const fixes = missing.map((k) =>
      k === 'username'
        ? 'add "username": "<email address>"'
        : 'add "password" (or one of password_command, password_env, password_file, oauth2_token_command, oauth2)',
    )
    throw invalidConfig(file, where(), `Missing required options: ${missing.join(', ')}`, fixes.join(' and '))
  }
  if (typeof rawUsername !== 'string' || rawUsername === '') {
    throw invalidConfig(file, where('username'), `must be a non-empty string, not ${describeType(rawUsername)}`, 'write the email address as a string, e.g. "username": "me@example.com"')
  }
  const username = rawUsername

  if (sources.length > 1) {
    throw invalidConfig(file, where(), `has more than one password source (${sources.join(', ')})`, 'keep exactly one of them and remove the others')
  }
  const sourceKey = sources[0] as PasswordSourceKey
  let sourceValue = value[sourceKey]
  let passwordSource: PasswordSource
  if (sourceKey === 'oauth2') {
    const oauth2 = parseOAuth2(sourceValue, ctx)
    passwordSource = {kind: 'oauth2', oauth2: oauth2.settings}
    sourceValue = oauth2.file
  } else {
    if (typeof sourceValue !== 'string' || (sourceKey !== 'password' && sourceValue === '')) {
      // Only the type is described: the value may be the secret.
      throw invalidConfig(file, where(sourceKey), `must be a ${sourceKey === 'password' ? '' : 'non-empty '}string, not ${describeType(sourceValue)}`, `write it as a JSON string`)
    }
    passwordSource = toPasswordSource(sourceKey, sourceValue, ctx)
  }
  if (passwordSource.kind === 'plain') registerSecret(passwordSource.value)

  const authMechanism = parseAuthMechanism(value['auth_mechanism'], passwordSource, ctx)
  // imap-backup backs up only "active" accounts and copies only "active" and "archived" ones:
  // any other value works as "offline" there.
  const status: AccountStatus = oneOfOr(value['status'], ACCOUNT_STATUSES, 'active', file, where('status'), ': imap-backup neither backs up nor copies such an account', warnings, 'offline')

  const localPathSetting = optionalString(value['local_path'], file, where('local_path'), 'write the backup directory as a string, e.g. "~/mail-backup/me"')
  const localPath = localPathSetting === undefined ? undefined : resolveConfigPath(localPathSetting, base.configDir)

  const folders = parseFolders(value['folders'], ctx)
  const folderBlacklist = optionalBoolean(value['folder_blacklist'], file, where('folder_blacklist'), warnings) ?? false
  const mirrorMode = optionalBoolean(value['mirror_mode'], file, where('mirror_mode'), warnings) ?? false
  const resetSeenFlagsAfterFetch = optionalBoolean(value['reset_seen_flags_after_fetch'], file, where('reset_seen_flags_after_fetch'), warnings) ?? false
  const serverSetting = optionalString(value['server'], file, where('server'), 'write the IMAP server host name as a string, e.g. "imap.example.com"')
  const multiFetchSize = parseMultiFetchSize(value['multi_fetch_size'], file, where('multi_fetch_size'), warnings)

  if (isSet(value['download_strategy'])) {
    warnings.push(`Config file '${file}': ${where('download_strategy')}: ignored, the top-level download_strategy applies to every account (as in imap-backup)`)
  }

  const connectionOptions = parseConnectionOptions(value['connection_options'], ctx)
  const settings = mapConnection(connectionOptions, ctx, warnings)
  const provider = providerFor(username)
  // An OAuth2 preset knows its provider's IMAP host (Microsoft's accounts have many domains).
  const oauthPreset = passwordSource.kind === 'oauth2' && passwordSource.oauth2.provider !== 'generic' ? OAUTH_PROVIDERS[passwordSource.oauth2.provider] : undefined
  const server = serverSetting ?? provider.host ?? oauthPreset?.imap.host

  const account: Account = {
    index,
    username,
    passwordSource,
    authMechanism,
    localPath,
    folders: folders ?? [],
    folderBlacklist,
    mirrorMode,
    server,
    connection: server === undefined ? undefined : {host: server, ...settings},
    multiFetchSize,
    resetSeenFlagsAfterFetch,
    status,
    provider: provider.kind,
  }

  // The save form: compat §3.2 order, the password source in the password's place.
  const out: JsonObject = {username, [sourceKey]: sourceValue}
  if (isSet(value['auth_mechanism'])) out['auth_mechanism'] = authMechanism
  out['status'] = status
  if (localPathSetting !== undefined) out['local_path'] = localPathSetting
  if (folders !== undefined) out['folders'] = [...folders]
  if (folderBlacklist) out['folder_blacklist'] = true
  if (mirrorMode) out['mirror_mode'] = true
  if (serverSetting !== undefined) out['server'] = serverSetting
  if (connectionOptions !== undefined) out['connection_options'] = structuredClone(connectionOptions)
  out['multi_fetch_size'] = multiFetchSize
  if (resetSeenFlagsAfterFetch) out['reset_seen_flags_after_fetch'] = true

  return {account, file: out as unknown as AccountFile}
}

function toPasswordSource(key: Exclude<PasswordSourceKey, 'oauth2'>, value: string, ctx: AccountContext): PasswordSource {
  switch (key) {
    case 'password':
      return {kind: 'plain', value}
    case 'password_command':
      return {kind: 'command', command: value}
    case 'oauth2_token_command':
      return {kind: 'oauth2-command', command: value}
    case 'password_file':
      return {kind: 'file', path: resolveConfigPath(value, ctx.configDir)}
    case 'password_env':
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) {
        throw invalidConfig(ctx.file, accountKey(ctx.index, 'password_env', ctx.username), 'must be the name of an environment variable (letters, digits and _, not starting with a digit)', 'write the variable name without $, e.g. "MAIL_PASSWORD"')
      }
      return {kind: 'env', name: value}
  }
}

function parseAuthMechanism(value: unknown, source: PasswordSource, ctx: AccountContext): AccountAuthMechanism {
  const where = accountKey(ctx.index, 'auth_mechanism', ctx.username)
  const oauth = source.kind === 'oauth2-command' || source.kind === 'oauth2'
  const key = source.kind === 'oauth2' ? 'oauth2' : 'oauth2_token_command'
  const mechanism = oneOf(value, AUTH_MECHANISMS, ctx.file, where, 'remove it to use the default')
  // Without a setting, an OAuth2 account takes what the server offers (src/imap/commands/authenticate.ts).
  if (mechanism === undefined) return oauth ? 'auto' : 'login'
  if (oauth && mechanism === 'login') {
    throw invalidConfig(ctx.file, where, `"login" cannot use the OAuth2 token of ${key}`, 'set "xoauth2" or "oauthbearer", or remove it to take what the server offers')
  }
  if (!oauth && mechanism !== 'login') {
    throw invalidConfig(ctx.file, where, `"${mechanism}" needs an OAuth2 access token, but the account has a password`, 'give the token through "oauth2" or "oauth2_token_command" instead of the password key, or set "login"')
  }
  return mechanism
}

function parseFolders(value: unknown, ctx: AccountContext): string[] | undefined {
  const where = accountKey(ctx.index, 'folders', ctx.username)
  if (value === undefined || value === null) return undefined
  if (!Array.isArray(value)) {
    throw invalidConfig(ctx.file, where, `must be an array of folder names, not ${describeType(value)}`, 'write e.g. "folders": ["INBOX", "Sent"]')
  }
  return value.map((entry: unknown, i) => {
    if (typeof entry === 'string') return entry
    // Config 2.1 and earlier: [{"name": "INBOX"}], converted whatever the file's version (compat §3.3).
    if (isObject(entry) && typeof entry['name'] === 'string') return entry['name']
    throw invalidConfig(
      ctx.file,
      accountKey(ctx.index, `folders[${i}]`, ctx.username),
      `must be a folder name (a string) or {"name": "..."}, not ${describeType(entry)}`,
      'write the folder name as a string, e.g. "INBOX"',
    )
  })
}

/** Duplicate usernames and backup directories would make two accounts write one backup. */
function checkUnique(accounts: readonly Account[], file: string): void {
  const byUsername = new Map<string, Account>()
  for (const account of accounts) {
    const first = byUsername.get(account.username)
    if (first !== undefined) {
      throw invalidConfig(
        file,
        accountKey(account.index, 'username', account.username),
        `is also the username of accounts[${first.index}]`,
        'each account needs its own username: remove or merge one of them',
      )
    }
    byUsername.set(account.username, account)
  }
  checkBackupPaths(accounts, file)
}
