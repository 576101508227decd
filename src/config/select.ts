/**
 * Choosing accounts (`--accounts`, an EMAIL argument) and the folders of an account to back up
 * (compat §6.2). Both compare names exactly: case-sensitive, no normalisation.
 */
import {ConfigError} from '../shared/errors.js'
import {invalidConfig, accountKey} from './config-error.js'
import type {Account, Config, Connection} from './types.js'

/**
 * The accounts named by `names` (all when `names` is undefined or empty), in config order.
 * Status is not looked at: which commands skip archived/offline accounts is theirs to decide.
 */
export function selectAccounts(config: Pick<Config, 'accounts' | 'path'>, names?: readonly string[]): Account[] {
  if (names === undefined || names.length === 0) return [...config.accounts]
  const known = new Set(config.accounts.map((a) => a.username))
  const unknown = names.find((n) => !known.has(n))
  if (unknown !== undefined) {
    const list = config.accounts.length === 0 ? 'none' : config.accounts.map((a) => a.username).join(', ')
    throw new ConfigError(`${unknown} is not a configured account`, {hint: `accounts in '${config.path}': ${list}`})
  }
  const wanted = new Set(names)
  return config.accounts.filter((a) => wanted.has(a.username))
}

/**
 * The folders to back up, in server order (compat §6.2):
 *
 * | folder_blacklist | folders       | result                                      |
 * | false            | unset or []   | all                                         |
 * | false            | non-empty     | server ∩ folders (missing ones are ignored) |
 * | true             | unset or []   | all                                         |
 * | true             | non-empty     | server − folders                            |
 */
export function selectFolders(serverFolders: readonly string[], account: Pick<Account, 'folders' | 'folderBlacklist'>): string[] {
  if (account.folders.length === 0) return [...serverFolders]
  const configured = new Set(account.folders)
  return serverFolders.filter((name) => configured.has(name) !== account.folderBlacklist)
}

/** The account's connection, or the error imap-backup gives only when a backup starts. */
export function requireConnection(config: Pick<Config, 'path'>, account: Account): Connection {
  if (account.connection !== undefined) return account.connection
  throw invalidConfig(
    config.path,
    accountKey(account.index, 'server', account.username),
    'no IMAP server is set and none is known for this email domain',
    'add "server": "<imap host name>" to the account',
  )
}

/** The account's backup directory, or `The backup path for <u> is not set` (imap-backup's error). */
export function requireLocalPath(config: Pick<Config, 'path'>, account: Account): string {
  if (account.localPath !== undefined) return account.localPath
  throw new ConfigError(`The backup path for ${account.username} is not set`, {
    hint: `add "local_path" to accounts[${account.index}] in '${config.path}' (mailkeep setup proposes one)`,
  })
}
