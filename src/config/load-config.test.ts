import {afterEach, describe, expect, it} from 'vitest'
import {chmod, mkdir, symlink, writeFile} from 'node:fs/promises'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {testTempDir} from '../../test/support/temp-dir.js'
import {ConfigError} from '../shared/errors.js'
import {ExitCode} from '../shared/exit-codes.js'
import {clearSecrets, REDACTED, scrubOutput} from '../shared/secrets.js'
import {loadConfig} from './load-config.js'
import {requireConnection, requireLocalPath} from './select.js'

const PASSWORD = 'Sup3r-S3cret-pw'

/** The file of compat §3.2, exactly. */
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

async function writeConfig(dir: string, content: unknown, mode = 0o600, name = 'config.json'): Promise<string> {
  const path = join(dir, name)
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2))
  await chmod(path, mode)
  return path
}

function account(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {username: 'me@example.com', password: PASSWORD, local_path: '/backups/me', ...extra}
}

/** Loads and expects a one-line ConfigError (exit code 3) containing every part and no password. */
async function loadError(path: string, ...parts: string[]): Promise<ConfigError> {
  const error = await loadConfig(path).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(ConfigError)
  const e = error as ConfigError
  expect(e.exitCode).toBe(ExitCode.CONFIG)
  expect(e.message).not.toContain('\n')
  expect(e.message).not.toContain(PASSWORD)
  expect(e.hint ?? '').not.toContain(PASSWORD)
  for (const part of parts) expect(e.message).toContain(part)
  return e
}

async function loadAccount(extra: Record<string, unknown>): Promise<{path: string; config: Awaited<ReturnType<typeof loadConfig>>}> {
  const dir = await testTempDir()
  const path = await writeConfig(dir, {version: '2.2', accounts: [account(extra)]})
  return {path, config: await loadConfig(path)}
}

async function configWith(content: unknown): Promise<string> {
  return writeConfig(await testTempDir(), content)
}

afterEach(() => clearSecrets())

describe('loadConfig: the file', () => {
  it('loads the example file of compat §3.2', async () => {
    const path = await configWith(COMPAT_EXAMPLE)
    const config = await loadConfig(path)
    expect(config.path).toBe(path)
    expect(config.version).toBe('2.2')
    expect(config.downloadStrategy).toBe('delay_metadata')
    expect(config.tuning).toEqual({savepointMessages: 1000, savepointBytes: 33554432, savepointSeconds: 30, delayAllMaxBytes: 67108864, largeMessageBytes: 8388608})
    expect(config.logFormat).toBeUndefined()
    expect(config.warnings).toEqual([])
    expect(config.accounts).toEqual([
      {
        index: 0,
        username: 'me@example.com',
        passwordSource: {kind: 'plain', value: 'secret'},
        authMechanism: 'login',
        localPath: '/home/me/.imap-backup/me_example.com',
        folders: ['INBOX', 'Sent'],
        folderBlacklist: false,
        mirrorMode: false,
        server: 'imap.example.com',
        connection: {
          host: 'imap.example.com',
          port: 993,
          security: 'tls',
          verifyCertificate: false,
          minTlsVersion: 'TLSv1.2',
          connectTimeoutMs: 10000,
          idleTimeoutMs: 120000,
        },
        multiFetchSize: 1,
        resetSeenFlagsAfterFetch: false,
        status: 'active',
        provider: 'other',
      },
    ])
  })

  it('registers every plain password as a secret', async () => {
    await loadAccount({})
    expect(scrubOutput(`login ${PASSWORD}`)).toBe(`login ${REDACTED}`)
  })

  it('reports a missing file with the compat wording and a hint to run setup', async () => {
    const path = join(await testTempDir(), 'nope', 'config.json')
    const e = await loadError(path, `Configuration file '${path}' not found`)
    expect(e.hint).toContain('mailkeep setup')
  })

  it.each([
    [0o644, '0644'],
    [0o640, '0640'],
    [0o604, '0604'],
    [0o700, '0700'],
    [0o4600, '04600'],
  ])('refuses mode %o with the chmod to run', async (mode, shown) => {
    const path = await writeConfig(await testTempDir(), {accounts: [account()]}, mode)
    const e = await loadError(path, `Permissions on '${path}' should be 0600, not ${shown}`)
    expect(e.hint).toBe(`chmod 600 '${path}'`)
  })

  it('accepts 0400 (only the owner can read it)', async () => {
    const path = await writeConfig(await testTempDir(), {accounts: [account()]}, 0o400)
    await expect(loadConfig(path)).resolves.toMatchObject({accounts: [{username: 'me@example.com'}]})
  })

  it('checks the target of a symlinked config and names it', async () => {
    const dir = await testTempDir()
    const target = await writeConfig(dir, {accounts: [account()]}, 0o644, 'real.json')
    const link = join(dir, 'config.json')
    await symlink(target, link)
    const e = await loadError(link, `Permissions on '${target}' should be 0600, not 0644`)
    expect(e.hint).toBe(`chmod 600 '${target}'`)
    await chmod(target, 0o600)
    await expect(loadConfig(link)).resolves.toMatchObject({path: link})
  })

  it('reports a JSON syntax error by line and column without showing the content', async () => {
    const text = `{\n  "accounts": [\n    {"username": "me@example.com", "password": "${PASSWORD}" "local_path": "/b"}\n  ]\n}\n`
    const path = await configWith(text)
    await loadError(path, `Config file '${path}' is not valid JSON at line 3, column 66`, "expected ',' or '}'", 'fix the file there')
  })

  it('reports an unterminated string where it starts', async () => {
    const path = await configWith(`{"accounts": [{"username": "me@example.com", "password": "${PASSWORD}`)
    const e = await loadError(path, 'line 1, column 58', 'unterminated string')
    expect(e.message).not.toContain(PASSWORD.slice(0, 5))
  })

  it('accepts a UTF-8 byte order mark', async () => {
    const path = await configWith(`\uFEFF${JSON.stringify({accounts: [account()]})}`)
    await expect(loadConfig(path)).resolves.toMatchObject({accounts: [{username: 'me@example.com'}]})
  })
})

describe('loadConfig: top-level keys', () => {
  it('refuses a file that is not an object', async () => {
    await loadError(await configWith('[]'), 'top level: must be a JSON object, not an array', '"accounts"')
  })

  it('ignores unknown top-level keys as imap-backup does, warns about each and keeps them', async () => {
    const path = await configWith({accounts: [], debug: true, colour: 'red'})
    const config = await loadConfig(path)
    expect(config.warnings).toEqual([
      `Config file '${path}': debug: not a key of imap-backup or mailkeep, ignored, as imap-backup does (\`mailkeep help config\` lists the valid keys)`,
      `Config file '${path}': colour: not a key of imap-backup or mailkeep, ignored, as imap-backup does (\`mailkeep help config\` lists the valid keys)`,
    ])
    expect(config.raw).toMatchObject({debug: true, colour: 'red'})
  })

  it('refuses a key one typo away from a known one, naming the right spelling (a warning would leave the setting unused under --quiet)', async () => {
    const path = await configWith({accounts: [], savepoint_mesages: 10})
    await loadError(path, `Config file '${path}': savepoint_mesages: is not a key of mailkeep or imap-backup; did you mean "savepoint_messages"?; rename it to "savepoint_messages"`)
    await loadError(await configWith({accounts: [], download_stratgy: 'direct'}), 'did you mean "download_strategy"?')
    await loadError(await configWith({accounts: [], 'log-format': 'json'}), 'did you mean "log_format"?')
  })

  it('refuses an account key at the top level', async () => {
    await loadError(await configWith({accounts: [account()], mirror_mode: true}), 'mirror_mode: is a key of an account, not of the top level; move it into each account')
  })

  it('refuses a value one typo away from a valid one, where imap-backup would silently use its default', async () => {
    await loadError(await configWith({accounts: [], download_strategy: 'delay_metdata'}), 'download_strategy: "delay_metdata" is not one of "delay_metadata", "direct", "delay_all"; did you mean "delay_metadata"?')
    await loadError(await configWith({accounts: [account({status: 'archive'})]}), 'did you mean "archived"?')
    // Far from every valid value: read as imap-backup reads it, with a warning.
    const config = await loadConfig(await configWith({accounts: [], download_strategy: 'fastest'}))
    expect(config.downloadStrategy).toBe('delay_metadata')
    expect(config.warnings).toHaveLength(1)
  })

  it('requires accounts, as an array', async () => {
    const path = await configWith({version: '2.2'})
    await loadError(path, `Config file '${path}': top level: Missing required options: accounts; add "accounts": []`)
    await loadError(await configWith({accounts: {}}), 'accounts: must be an array of accounts, not an object')
  })

  it('does not check version; one that is not a string is ignored with a warning', async () => {
    await expect(loadConfig(await configWith({version: '1.0', accounts: []}))).resolves.toMatchObject({version: '1.0', warnings: []})
    await expect(loadConfig(await configWith({accounts: []}))).resolves.toMatchObject({version: undefined, warnings: []})
    const path = await configWith({version: 2.2, accounts: []})
    const config = await loadConfig(path)
    expect(config.version).toBeUndefined()
    expect(config.raw).not.toHaveProperty('version')
    expect(config.warnings).toEqual([`Config file '${path}': version: 2.2 is not a string, ignored, as imap-backup does; saving writes "version": "2.2"`])
  })

  it('defaults download_strategy to delay_metadata and accepts the three strategies', async () => {
    await expect(loadConfig(await configWith({accounts: []}))).resolves.toMatchObject({downloadStrategy: 'delay_metadata'})
    for (const s of ['delay_metadata', 'direct', 'delay_all']) {
      await expect(loadConfig(await configWith({accounts: [], download_strategy: s}))).resolves.toMatchObject({downloadStrategy: s})
    }
  })

  it.each([
    ['delay', '"delay"'],
    [true, 'true'],
    [3, '3'],
  ])('reads the unknown download_strategy %j as delay_metadata, as imap-backup does, with a warning', async (value, shown) => {
    const path = await configWith({accounts: [], download_strategy: value})
    const config = await loadConfig(path)
    expect(config.downloadStrategy).toBe('delay_metadata')
    expect(config.raw.download_strategy).toBe('delay_metadata')
    expect(config.warnings).toEqual([
      `Config file '${path}': download_strategy: ${shown} is not one of "delay_metadata", "direct", "delay_all"; using "delay_metadata" instead, as imap-backup does`,
    ])
  })

  it('reads the tuning extension keys and log_format', async () => {
    const config = await loadConfig(
      await configWith({
        accounts: [],
        savepoint_messages: 10,
        savepoint_bytes: 4096,
        savepoint_seconds: 0.5,
        delay_all_max_bytes: 1 << 20,
        large_message_bytes: 1 << 16,
        log_format: 'json',
      }),
    )
    expect(config.tuning).toEqual({savepointMessages: 10, savepointBytes: 4096, savepointSeconds: 0.5, delayAllMaxBytes: 1 << 20, largeMessageBytes: 1 << 16})
    expect(config.logFormat).toBe('json')
  })

  it.each([
    ['savepoint_messages', 0, 'must be a positive whole number, not 0', 'default (1000)'],
    ['savepoint_bytes', 1.5, 'must be a positive whole number, not 1.5', 'default (33554432)'],
    ['savepoint_seconds', -1, 'must be a positive number, not -1', 'default (30)'],
    ['delay_all_max_bytes', '64M', 'must be a positive whole number, not a string', 'default (67108864)'],
    ['large_message_bytes', 0, 'must be a positive whole number, not 0', 'default (8388608)'],
    ['log_format', 'xml', 'must be one of "text", "json", not "xml"', 'remove it'],
  ])('refuses a bad %s', async (key, value, problem, fix) => {
    const path = await configWith({accounts: [], [key]: value})
    await loadError(path, `Config file '${path}': ${key}: ${problem}`, fix)
  })
})

describe('loadConfig: account keys', () => {
  it('applies the defaults', async () => {
    const {config} = await loadAccount({})
    expect(config.accounts[0]).toMatchObject({
      folders: [],
      folderBlacklist: false,
      mirrorMode: false,
      multiFetchSize: 100,
      resetSeenFlagsAfterFetch: false,
      status: 'active',
      authMechanism: 'login',
    })
  })

  it('refuses an account that is not an object', async () => {
    await loadError(await configWith({accounts: ['me@example.com']}), 'accounts[0]: must be an object, not a string')
  })

  it('refuses unknown account keys with the compat wording, naming the account', async () => {
    const path = await configWith({accounts: [account(), {...account({debug: true, fetch_size: 1}), username: 'you@example.com', local_path: '/b/you'}]})
    await loadError(path, `Config file '${path}': accounts[1] (you@example.com): Unknown options: debug, fetch_size; remove them`)
  })

  it('requires a username', async () => {
    const path = await configWith({accounts: [{password: PASSWORD}]})
    await loadError(path, `Config file '${path}': accounts[0]: Missing required options: username; add "username": "<email address>"`)
  })

  it('requires a password or another password source', async () => {
    const path = await configWith({accounts: [{username: 'me@example.com'}]})
    await loadError(path, 'accounts[0] (me@example.com): Missing required options: password; add "password" (or one of password_command')
  })

  it('lists both missing keys', async () => {
    await loadError(await configWith({accounts: [{local_path: '/x'}]}), 'Missing required options: username, password')
  })

  it('refuses a username that is not a string, without echoing values', async () => {
    await loadError(await configWith({accounts: [{username: 42, password: PASSWORD}]}), 'accounts[0].username: must be a non-empty string, not a number')
  })

  it('refuses a password that is not a string without showing it', async () => {
    await loadError(await configWith({accounts: [{username: 'me@example.com', password: 123456789}]}), 'accounts[0].password (me@example.com): must be a string, not a number')
  })

  it('accepts the empty password that imap-backup setup stores until one is entered', async () => {
    const {config} = await loadAccount({password: ''})
    expect(config.accounts[0]?.passwordSource).toEqual({kind: 'plain', value: ''})
  })

  it('refuses two password sources', async () => {
    const path = await configWith({accounts: [account({password_env: 'MAIL_PW'})]})
    await loadError(path, 'accounts[0] (me@example.com): has more than one password source (password, password_env); keep exactly one')
  })

  it('refuses a duplicate username', async () => {
    const path = await configWith({accounts: [account(), account({local_path: '/backups/other'})]})
    await loadError(path, `Config file '${path}': accounts[1].username (me@example.com): is also the username of accounts[0]; each account needs its own username`)
  })

  it('refuses a duplicate local_path, also when written differently', async () => {
    const dir = await testTempDir()
    const path = await writeConfig(dir, {
      accounts: [account({local_path: join(dir, 'mail')}), {username: 'you@example.com', password: 'x', local_path: './mail/'}],
    })
    await loadError(path, `accounts[1].local_path (you@example.com): '${join(dir, 'mail')}' is also the backup directory of accounts[0] (me@example.com); give each account its own local_path`)
  })

  // Issue 11 item 8: nested or aliased backup directories were accepted; then a mirror-mode
  // account deleted the other account's backup and restore uploaded its mail to the wrong server.
  it('refuses a local_path inside another account\'s, in either order', async () => {
    const dir = await testTempDir()
    const inner = {username: 'you@example.com', password: 'x', local_path: join(dir, 'mail', 'you')}
    await loadError(
      await writeConfig(dir, {accounts: [account({local_path: join(dir, 'mail')}), inner]}),
      `accounts[1].local_path (you@example.com): '${join(dir, 'mail', 'you')}' is inside the backup directory '${join(dir, 'mail')}' of accounts[0] (me@example.com)`,
    )
    await loadError(
      await writeConfig(dir, {accounts: [inner, account({local_path: join(dir, 'mail')})]}),
      `accounts[1].local_path (me@example.com): '${join(dir, 'mail')}' contains the backup directory '${join(dir, 'mail', 'you')}' of accounts[0] (you@example.com)`,
    )
  })

  it('accepts directories that only share a prefix of their names', async () => {
    const dir = await testTempDir()
    const config = await loadConfig(await writeConfig(dir, {accounts: [account({local_path: join(dir, 'me')}), {username: 'you@example.com', password: 'x', local_path: join(dir, 'me2')}]}))
    expect(config.accounts).toHaveLength(2)
  })

  it('refuses directories that are the same or nest once symlinks are resolved, also when they do not exist yet', async () => {
    const dir = await testTempDir()
    await mkdir(join(dir, 'real', 'me'), {recursive: true})
    await symlink(join(dir, 'real'), join(dir, 'alias'))
    const you = (path: string): Record<string, unknown> => ({username: 'you@example.com', password: 'x', local_path: path})
    // The same directory under two names.
    await loadError(
      await writeConfig(dir, {accounts: [account({local_path: join(dir, 'real', 'me')}), you(join(dir, 'alias', 'me'))]}),
      `accounts[1].local_path (you@example.com): '${join(dir, 'alias', 'me')}' (which is '${join(dir, 'real', 'me')}') is also the backup directory of accounts[0] (me@example.com)`,
    )
    // Nested through the link, below a directory that does not exist yet.
    await loadError(
      await writeConfig(dir, {accounts: [account({local_path: join(dir, 'real', 'me')}), you(join(dir, 'alias', 'me', 'later', 'you'))]}),
      `'${join(dir, 'alias', 'me', 'later', 'you')}' (which is '${join(dir, 'real', 'me', 'later', 'you')}') is inside the backup directory '${join(dir, 'real', 'me')}' of accounts[0] (me@example.com)`,
    )
    // A symlinked account directory that points into another account's.
    await symlink(join(dir, 'real', 'me', 'sub'), join(dir, 'sneaky'))
    await loadError(await writeConfig(dir, {accounts: [account({local_path: join(dir, 'real', 'me')}), you(join(dir, 'sneaky'))]}), 'is inside the backup directory')
  })

  it('resolves local_path: ~ is home, a relative path is relative to the config directory', async () => {
    const dir = await testTempDir()
    const path = await writeConfig(dir, {
      accounts: [
        {username: 'a@x.org', password: 'p', local_path: '~/mail/a'},
        {username: 'b@x.org', password: 'p', local_path: 'backups/b'},
        {username: 'c@x.org', password: 'p', local_path: '/abs/c'},
        {username: 'd@x.org', password: 'p', local_path: '../d'},
        {username: 'e@x.org', password: 'p'},
        {username: 'f@x.org', password: 'p', local_path: ''},
      ],
    })
    const config = await loadConfig(path)
    expect(config.accounts.map((a) => a.localPath)).toEqual([
      join(homedir(), 'mail/a'),
      join(dir, 'backups/b'),
      '/abs/c',
      join(dir, '../d'),
      undefined,
      undefined,
    ])
    expect(() => requireLocalPath(config, config.accounts[4]!)).toThrow('The backup path for e@x.org is not set')
  })

  it('converts legacy folders objects of config 2.1 to names', async () => {
    const {config} = await loadAccount({folders: [{name: 'INBOX'}, 'Sent', {name: 'Archiv/2020'}]})
    expect(config.accounts[0]?.folders).toEqual(['INBOX', 'Sent', 'Archiv/2020'])
    expect(config.raw.accounts[0]?.folders).toEqual(['INBOX', 'Sent', 'Archiv/2020'])
  })

  it('refuses a folders entry that is neither a name nor {"name": ...}', async () => {
    const path = await configWith({accounts: [account({folders: ['INBOX', {title: 'Sent'}]})]})
    await loadError(path, 'accounts[0].folders[1] (me@example.com): must be a folder name (a string) or {"name": "..."}, not an object')
    await loadError(await configWith({accounts: [account({folders: 'INBOX'})]}), 'accounts[0].folders (me@example.com): must be an array of folder names, not a string')
  })

  it('reads the booleans', async () => {
    const {config} = await loadAccount({folder_blacklist: true, mirror_mode: true, reset_seen_flags_after_fetch: true})
    expect(config.accounts[0]).toMatchObject({folderBlacklist: true, mirrorMode: true, resetSeenFlagsAfterFetch: true})
    expect(config.warnings).toEqual([])
  })

  const BOOLEANS = [
    ['folder_blacklist', 'folderBlacklist'],
    ['mirror_mode', 'mirrorMode'],
    ['reset_seen_flags_after_fetch', 'resetSeenFlagsAfterFetch'],
  ] as const

  it.each(BOOLEANS.flatMap(([key, field]) => (['true', 'yes', 1] as const).map((value) => [key, field, value] as const)))(
    'reads %s %j as true, as imap-backup does, with a warning',
    async (key, field, value) => {
      const {path, config} = await loadAccount({[key]: value})
      expect(config.accounts[0]?.[field]).toBe(true)
      expect(config.raw.accounts[0]?.[key]).toBe(true)
      const shown = typeof value === 'string' ? `"${value}"` : String(value)
      expect(config.warnings).toEqual([
        `Config file '${path}': accounts[0].${key} (me@example.com): ${shown} is not true or false; using true instead, as imap-backup does (it counts any value but false and null as true); write true without quotes`,
      ])
    },
  )

  it.each(BOOLEANS.flatMap(([key]) => (['false', 'No', '', 0] as const).map((value) => [key, value] as const)))(
    'refuses %s %j: imap-backup reads it as true, the writer meant false',
    async (key, value) => {
      const path = await configWith({accounts: [account({[key]: value})]})
      const shown = typeof value === 'string' ? JSON.stringify(value) : String(value)
      await loadError(path, `accounts[0].${key} (me@example.com): must be true or false, not ${shown}, which imap-backup reads as true; write true or false without quotes`)
    },
  )

  it('refuses a boolean key holding an array or an object', async () => {
    await loadError(await configWith({accounts: [account({mirror_mode: []})]}), 'accounts[0].mirror_mode (me@example.com): must be true or false, not an array')
    await loadError(await configWith({accounts: [account({folder_blacklist: {}})]}), 'accounts[0].folder_blacklist (me@example.com): must be true or false, not an object')
  })

  it.each([
    [0, 1, '0 is not a positive whole number', "write a whole number of 1 or more, or remove it for mailkeep's default (100)"],
    [-5, 1, '-5 is not a positive whole number', "write a whole number of 1 or more, or remove it for mailkeep's default (100)"],
    [0.5, 1, '0.5 is not a positive whole number', "write a whole number of 1 or more, or remove it for mailkeep's default (100)"],
    [2.5, 2, '2.5 is not a whole number', 'write 2'],
    ['10', 10, '"10" is a string, not a number', 'write 10'],
    [' 25 messages', 25, '" 25 messages" is a string, not a number', 'write 25'],
    ['ten', 1, '"ten" is a string, not a number', "write a whole number of 1 or more, or remove it for mailkeep's default (100)"],
    ['', 1, '"" is a string, not a number', "write a whole number of 1 or more, or remove it for mailkeep's default (100)"],
  ])('reads multi_fetch_size %j as %j, as imap-backup does, with a warning', async (value, used, problem, fix) => {
    const {path, config} = await loadAccount({multi_fetch_size: value})
    expect(config.accounts[0]?.multiFetchSize).toBe(used)
    expect(config.raw.accounts[0]?.multi_fetch_size).toBe(used)
    expect(config.warnings).toEqual([`Config file '${path}': accounts[0].multi_fetch_size (me@example.com): ${problem}; using ${used} instead, as imap-backup does; ${fix}`])
  })

  it.each([
    [true, 'true'],
    [[10], 'an array'],
    [{size: 10}, 'an object'],
    [1e300, '1e+300'],
  ])('refuses multi_fetch_size %j, which imap-backup cannot use either', async (value, shown) => {
    const path = await configWith({accounts: [account({multi_fetch_size: value})]})
    await loadError(path, `Config file '${path}': accounts[0].multi_fetch_size (me@example.com): must be a positive whole number, not ${shown}; set a whole number of 1 or more, or remove it to use the default (100)`)
  })

  it('reads status; another value is "offline", as it works in imap-backup, with a warning', async () => {
    for (const status of ['active', 'archived', 'offline']) {
      const {config} = await loadAccount({status})
      expect(config.accounts[0]?.status).toBe(status)
      expect(config.warnings).toEqual([])
    }
    const {path, config} = await loadAccount({status: 'paused'})
    expect(config.accounts[0]?.status).toBe('offline')
    expect(config.raw.accounts[0]?.status).toBe('offline')
    expect(config.warnings).toEqual([
      `Config file '${path}': accounts[0].status (me@example.com): "paused" is not one of "active", "archived", "offline"; using "offline" instead: imap-backup neither backs up nor copies such an account`,
    ])
  })

  it('warns about every replaced value of a file in one load, and saves none of them', async () => {
    const path = await configWith({
      version: '2.2',
      accounts: [account({multi_fetch_size: 0, mirror_mode: 'true'}), {username: 'you@example.com', password: 'x', local_path: '/b/you', multi_fetch_size: '5'}],
      download_strategy: 'fast',
    })
    const config = await loadConfig(path)
    expect(config.warnings.map((w) => w.replace(`Config file '${path}': `, '').split(':')[0])).toEqual([
      'download_strategy',
      'accounts[0].mirror_mode (me@example.com)',
      'accounts[0].multi_fetch_size (me@example.com)',
      'accounts[1].multi_fetch_size (you@example.com)',
    ])
    const again = await loadConfig(await configWith(config.raw))
    expect(again.warnings).toEqual([])
    expect(again.accounts.map((a) => a.multiFetchSize)).toEqual([1, 5])
  })

  it('accepts a per-account download_strategy, ignores it and says so', async () => {
    const dir = await testTempDir()
    const path = await writeConfig(dir, {accounts: [account({download_strategy: 'direct'})]})
    const config = await loadConfig(path)
    expect(config.downloadStrategy).toBe('delay_metadata')
    expect(config.warnings).toEqual([`Config file '${path}': accounts[0].download_strategy (me@example.com): ignored, the top-level download_strategy applies to every account (as in imap-backup)`])
    expect(config.raw.accounts[0]).not.toHaveProperty('download_strategy')
  })

  it('parses connection_options given as a JSON string', async () => {
    const {config} = await loadAccount({server: 'imap.example.com', connection_options: '{"port": 1993, "ssl": {"verify_mode": 0}}'})
    expect(config.accounts[0]?.connection).toMatchObject({host: 'imap.example.com', port: 1993, security: 'tls', verifyCertificate: false})
    expect(config.raw.accounts[0]?.connection_options).toEqual({port: 1993, ssl: {verify_mode: 0}})
  })

  it('refuses connection_options that are not an object', async () => {
    await loadError(await configWith({accounts: [account({connection_options: '{"port": 993'})]}), 'accounts[0].connection_options (me@example.com): is a string but not valid JSON')
    await loadError(await configWith({accounts: [account({connection_options: [993]})]}), 'accounts[0].connection_options (me@example.com): must be an object, not an array')
  })

  it('treats null as not set', async () => {
    const {config} = await loadAccount({server: null, folders: null, multi_fetch_size: null, connection_options: null, status: null})
    expect(config.accounts[0]).toMatchObject({server: undefined, folders: [], multiFetchSize: 100, status: 'active'})
  })
})

describe('loadConfig: providers (compat §6.10)', () => {
  it.each([
    ['me@gmail.com', 'gmail', 'imap.gmail.com'],
    ['me@fastmail.com', 'fastmail', 'imap.fastmail.com'],
    ['me@fastmail.fm', 'fastmail', 'imap.fastmail.com'],
    ['me@icloud.com', 'apple', 'imap.mail.me.com'],
    ['me@mac.com', 'apple', 'imap.mail.me.com'],
    ['me@me.com', 'apple', 'imap.mail.me.com'],
    ['me@purelymail.com', 'purelymail', 'mailserver.purelymail.com'],
    ['Me@GMail.COM', 'gmail', 'imap.gmail.com'],
  ])('%s is %s on %s', async (username, provider, host) => {
    const {config} = await loadAccount({username})
    expect(config.accounts[0]).toMatchObject({provider, server: host, connection: {host, port: 993, security: 'tls', verifyCertificate: true, minTlsVersion: 'TLSv1.2'}})
  })

  it.each(['me@googlemail.com', 'me@example.com', 'me@mail.gmail.com.example', 'no-at-sign'])('%s has no provider', async (username) => {
    const {config} = await loadAccount({username})
    expect(config.accounts[0]).toMatchObject({provider: 'other', server: undefined, connection: undefined})
  })

  it('keeps the provider but uses the configured server', async () => {
    const {config} = await loadAccount({username: 'me@gmail.com', server: 'localhost'})
    expect(config.accounts[0]).toMatchObject({provider: 'gmail', server: 'localhost', connection: {host: 'localhost'}})
    expect(config.raw.accounts[0]?.server).toBe('localhost')
  })

  it('loads an account without server and provider, and fails only when it is used', async () => {
    const {path, config} = await loadAccount({})
    const account = config.accounts[0]!
    expect(account.server).toBeUndefined()
    expect(() => requireConnection(config, account)).toThrow(
      `Config file '${path}': accounts[0].server (me@example.com): no IMAP server is set and none is known for this email domain; add "server": "<imap host name>" to the account`,
    )
  })
})
