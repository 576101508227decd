/**
 * The text at the top of the account menu, as imap-backup's setup draws it: one row per setting,
 * labels aligned; the connection in words (port, TLS, certificate) instead of its JSON. The password is never shown: a stored password is a fixed mask (not
 * one character per letter, which would give its length away).
 */
import {DEFAULT_MULTI_FETCH_SIZE, presetForHost, providerFor, type AccountFile} from '../../config/index.js'
import {describeForm, readForm} from './connection-form.js'
import {printable} from '../render/text.js'

export const TITLE_PREFIX = 'mailkeep -'
export const PASSWORD_MASK = '********'

/** The account keys that only mailkeep understands (docs/config.md, "mailkeep's extension keys"). */
const EXTENSION_KEYS = ['password_command', 'password_env', 'password_file', 'oauth2_token_command', 'oauth2', 'auth_mechanism'] as const

export function accountHeader(account: AccountFile, modified: boolean): string {
  const rows: Array<[string, string]> = [
    ['login', account.username],
    ['password', describePassword(account)],
    ['server', describeServer(account)],
    ['connection', describeForm(readForm(account))],
  ]
  rows.push(['mode', account.mirror_mode === true ? 'mirror emails' : 'keep all emails'])
  rows.push(['path', account.local_path ?? '(unset)'])
  rows.push(describeFolders(account))
  rows.push(['multi-fetch', String(account.multi_fetch_size ?? DEFAULT_MULTI_FETCH_SIZE)])
  if (account.reset_seen_flags_after_fetch === true) rows.push(['unread flags', 'changes to unread flags will be reset after download'])
  if (account.status !== undefined && account.status !== 'active') rows.push(['status', describeStatus(account.status)])
  const extensions = extensionKeys(account)
  if (extensions.length > 0) rows.push(['note', `uses mailkeep extensions (${extensions.join(', ')}): imap-backup cannot read this config`])
  return `${TITLE_PREFIX} Account${modified ? '*' : ''}\n\n${formatRows(rows)}\n`
}

/** How the account gets its password, without the password. */
export function describePassword(account: AccountFile): string {
  if (account.password_command !== undefined) return `from the command: ${account.password_command}`
  if (account.password_env !== undefined) return `from the environment variable ${account.password_env}`
  if (account.password_file !== undefined) return `from the file ${account.password_file}`
  if (account.oauth2 !== undefined) return `OAuth2 login (${account.oauth2.provider}, client ${account.oauth2.client_id}); mailkeep auth login ${account.username}`
  if (account.oauth2_token_command !== undefined) {
    return `OAuth2 token (${account.auth_mechanism ?? 'xoauth2'}) from the command: ${account.oauth2_token_command}`
  }
  return account.password === undefined || account.password === '' ? '(unset)' : PASSWORD_MASK
}

export function describeServer(account: AccountFile): string {
  if (account.server !== undefined && account.server !== '') {
    const preset = presetForHost(account.server)
    return preset === undefined ? account.server : `${account.server} (${preset.label})`
  }
  const host = providerFor(account.username).host
  return host === undefined ? '(unset)' : `${host} (the provider's server)`
}

export function describeStatus(status: string): string {
  switch (status) {
    case 'archived':
      return 'archived (not backed up; still usable as a copy source)'
    case 'offline':
      return 'offline (not used at all)'
    default:
      return 'active'
  }
}

export function folderNames(account: AccountFile): string[] {
  return (account.folders ?? []).map((f) => (typeof f === 'string' ? f : f.name))
}

function describeFolders(account: AccountFile): [string, string] {
  const names = folderNames(account)
  if (account.folder_blacklist === true) return ['exclude', names.length > 0 ? names.join(', ') : '(none: all folders are backed up)']
  return ['include', names.length > 0 ? names.join(', ') : '(all folders)']
}

export function extensionKeys(account: AccountFile): string[] {
  return EXTENSION_KEYS.filter((key) => account[key] !== undefined)
}

/** `label   value` rows, the values in one column; control characters shown as `?`. */
export function formatRows(rows: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...rows.map(([label]) => label.length)) + 2
  return rows.map(([label, value]) => `${label.padEnd(width)}${printable(value)}`).join('\n')
}
