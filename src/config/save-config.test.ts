import {afterEach, describe, expect, it} from 'vitest'
import {chmod, readdir, readFile, stat, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {testTempDir} from '../../test/support/temp-dir.js'
import {ConfigError} from '../shared/errors.js'
import {clearSecrets} from '../shared/secrets.js'
import {loadConfig} from './load-config.js'
import {saveConfig} from './save-config.js'
import type {ConfigFile} from './types.js'

/** The file of compat §3.2, exactly as imap-backup writes it (format snippet). */
const COMPAT_EXAMPLE = `{
  "version": "2.2",
  "accounts": [
    {
      "username": "me@example.com",
      "password": "secret",
      "status": "active",
      "local_path": "/home/me/.imap-backup/me_example.com",
      "folders": ["INBOX", "Sent"],
      "server": "imap.example.com",
      "connection_options": {"port": 993, "ssl": {"verify_mode": 0}},
      "multi_fetch_size": 1
    }
  ],
  "download_strategy": "delay_metadata"
}`

/** A config using every key, in a scrambled order and in legacy forms. */
const RICH = {
  log_format: 'json',
  download_strategy: 'delay_all',
  accounts: [
    {
      multi_fetch_size: 50,
      connection_options: '{"port": 1993, "ssl": {"verify_mode": 0, "ca_file": "ca.pem", "min_version": "TLS1_3", "verify_hostname": false}, "open_timeout": 10, "read_timeout": 3}',
      folders: [{name: 'INBOX'}, 'Sent'],
      username: 'me@example.com',
      password: 'Sup3r-S3cret-pw',
      local_path: 'backups/me',
      folder_blacklist: true,
      mirror_mode: true,
      server: 'imap.example.com',
      reset_seen_flags_after_fetch: true,
      status: 'archived',
      download_strategy: 'direct',
    },
    {username: 'me@gmail.com', password_command: 'pass show gmail', local_path: '~/mail/gmail', folder_blacklist: false, mirror_mode: false},
    {username: 'me@icloud.com', oauth2_token_command: 'oauth2 token', auth_mechanism: 'oauthbearer', local_path: '/abs/icloud', connection_options: {starttls: true}},
    {username: 'me@fastmail.com', password_env: 'FASTMAIL_PW', status: 'offline'},
    {username: 'me@purelymail.com', password_file: 'pw/purelymail', local_path: '../purely'},
  ],
  savepoint_seconds: 2.5,
  version: '2.2',
  savepoint_messages: 10,
  savepoint_bytes: 1 << 20,
  delay_all_max_bytes: 1 << 22,
  large_message_bytes: 1 << 18,
}

async function writeConfig(dir: string, content: unknown, name = 'config.json'): Promise<string> {
  const path = join(dir, name)
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2))
  await chmod(path, 0o600)
  return path
}

/** Every object's keys in order, with their JSON paths. */
function keyOrder(value: unknown, path = '$'): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => keyOrder(v, `${path}[${i}]`))
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => [`${path}.${k}`, ...keyOrder(v, `${path}.${k}`)])
  }
  return []
}

async function mode(path: string): Promise<number> {
  return (await stat(path)).mode & 0o7777
}

afterEach(() => clearSecrets())

describe('saveConfig', () => {
  it('round-trips the file imap-backup writes (compat §3.2) with the same keys in the same order', async () => {
    const path = await writeConfig(await testTempDir(), COMPAT_EXAMPLE)
    await saveConfig(await loadConfig(path), path)
    const saved = await readFile(path, 'utf8')
    expect(keyOrder(JSON.parse(saved))).toEqual(keyOrder(JSON.parse(COMPAT_EXAMPLE)))
    expect(saved).toBe(`${JSON.stringify(JSON.parse(COMPAT_EXAMPLE), null, 2)}\n`)
    expect(await mode(path)).toBe(0o600)
  })

  it('load(save(load(x))) equals load(x) for a config using every key', async () => {
    const path = await writeConfig(await testTempDir(), RICH)
    const first = await loadConfig(path)
    const returned = await saveConfig(first, path)
    const second = await loadConfig(path)
    // The only difference: the per-account download_strategy is never written (compat §3.2), so
    // its "ignored" warning is gone.
    const expected = {...first, warnings: first.warnings.filter((w) => !w.includes('.download_strategy'))}
    expect(expected.warnings).toHaveLength(first.warnings.length - 1)
    expect(second).toEqual(expected)
    expect(returned).toEqual(expected)
    expect(await loadConfig(path)).toEqual(second)
  })

  it("writes the keys in imap-backup's order, the password source in the password's place", async () => {
    const path = await writeConfig(await testTempDir(), RICH)
    await saveConfig(await loadConfig(path), path)
    const saved = JSON.parse(await readFile(path, 'utf8')) as {accounts: object[]}
    expect(Object.keys(saved)).toEqual([
      'version',
      'accounts',
      'download_strategy',
      'savepoint_messages',
      'savepoint_bytes',
      'savepoint_seconds',
      'delay_all_max_bytes',
      'large_message_bytes',
      'log_format',
    ])
    expect(saved.accounts.map((a) => Object.keys(a))).toEqual([
      [
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
      ],
      ['username', 'password_command', 'status', 'local_path', 'multi_fetch_size'],
      ['username', 'oauth2_token_command', 'auth_mechanism', 'status', 'local_path', 'connection_options', 'multi_fetch_size'],
      ['username', 'password_env', 'status', 'multi_fetch_size'],
      ['username', 'password_file', 'status', 'local_path', 'multi_fetch_size'],
    ])
    // Legacy folders as names, a JSON-string connection_options as an object, unknown options kept.
    expect(saved.accounts[0]).toMatchObject({
      folders: ['INBOX', 'Sent'],
      connection_options: {port: 1993, ssl: {verify_mode: 0, ca_file: 'ca.pem', min_version: 'TLS1_3', verify_hostname: false}, open_timeout: 10, read_timeout: 3},
    })
  })

  it('saves a plain object: version 2.2, status and multi_fetch_size always, false booleans never', async () => {
    const dir = await testTempDir()
    const path = join(dir, 'config.json')
    const file: ConfigFile = {
      version: '2.0',
      accounts: [{username: 'me@example.com', password: '', folder_blacklist: false, mirror_mode: false, reset_seen_flags_after_fetch: false, folders: []}],
    }
    const config = await saveConfig(file, path)
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({
      version: '2.2',
      accounts: [{username: 'me@example.com', password: '', status: 'active', folders: [], multi_fetch_size: 100}],
      download_strategy: 'delay_metadata',
    })
    expect(config.path).toBe(path)
    expect(config.version).toBe('2.2')
  })

  it('refuses to write a config it could not load, and writes nothing', async () => {
    const dir = await testTempDir()
    const path = join(dir, 'config.json')
    const bad = {accounts: [{username: 'me@example.com', password: 'x', password_env: 'X'}]} as ConfigFile
    await expect(saveConfig(bad, path)).rejects.toBeInstanceOf(ConfigError)
    expect(await readdir(dir)).toEqual([])
  })

  it('makes an existing file 0600', async () => {
    const dir = await testTempDir()
    const path = join(dir, 'config.json')
    await writeFile(path, '{}')
    await chmod(path, 0o644)
    await saveConfig({accounts: []}, path)
    expect(await mode(path)).toBe(0o600)
    expect(await readdir(dir)).toEqual(['config.json'])
  })

  it('creates a missing parent directory as 0700', async () => {
    const dir = await testTempDir()
    const path = join(dir, 'a', 'b', 'config.json')
    await saveConfig({accounts: []}, path)
    expect(await mode(join(dir, 'a', 'b'))).toBe(0o700)
    expect(await mode(path)).toBe(0o600)
    await expect(loadConfig(path)).resolves.toMatchObject({accounts: []})
  })

  it('leaves an existing parent directory as it is', async () => {
    const dir = await testTempDir()
    await chmod(dir, 0o755)
    await saveConfig({accounts: []}, join(dir, 'config.json'))
    expect(await mode(dir)).toBe(0o755)
    await chmod(dir, 0o700)
  })

  it('makes config-relative paths absolute when a config is saved to another directory', async () => {
    const dir = await testTempDir()
    const first = await loadConfig(await writeConfig(dir, RICH))
    const elsewhere = join(dir, 'elsewhere', 'config.json')
    await saveConfig(first, elsewhere)
    const moved = await loadConfig(elsewhere)
    expect(moved.accounts.map((a) => [a.localPath, a.passwordSource, a.connection])).toEqual(first.accounts.map((a) => [a.localPath, a.passwordSource, a.connection]))
    const saved = JSON.parse(await readFile(elsewhere, 'utf8')) as ConfigFile
    expect(saved.accounts.map((a) => a.local_path)).toEqual([join(dir, 'backups/me'), '~/mail/gmail', '/abs/icloud', undefined, join(dir, '../purely')])
  })
})
