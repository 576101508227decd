/**
 * `mailkeep setup` end to end: the real CLI (bin/run.js → dist/) on a pseudo-terminal, driven
 * with keystrokes, against a private Dovecot for the connection test and the folder list.
 * Covers compat §9.2 items 93–106 plus mailkeep's own promises: the file is written only when
 * something changed (0600 in a 0700 directory), a password typed in is never on the screen,
 * and an imap-backup config can be imported without touching it.
 */
import {existsSync} from 'node:fs'
import {chmod, mkdir, readFile, stat, writeFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import {afterAll, beforeAll, describe, it, type TestContext} from 'vitest'
import {DEFAULT_USERS, startDovecot, type DovecotInstance, type TestUser} from '../support/dovecot.js'
import {ensureFolder, listFolders} from '../support/mail-seed.js'
import {runCli} from '../support/cli.js'
import {makeTempDir, removeTempDir} from '../support/temp-dir.js'
import {Terminal} from './terminal.js'

let dovecot: DovecotInstance
let alice: TestUser
let bob: TestUser
let carol: TestUser
let dave: TestUser
/** A password that is an ordinary word. */
let word: TestUser

beforeAll(async () => {
  dovecot = await startDovecot({users: [...DEFAULT_USERS, {user: 'word@example.test', password: 'pass'}]})
  ;[alice, bob, carol, dave, word] = dovecot.users as [TestUser, TestUser, TestUser, TestUser, TestUser]
  for (const folder of ['Work', 'Archive']) await ensureFolder(dovecot, alice, folder)
})

afterAll(async () => {
  await dovecot?.stop()
})

/**
 * The tests run concurrently (each CLI spends most of its time starting up), at most
 * CONCURRENT terminals at a time so that a loaded 2-core machine keeps up with the keystrokes.
 */
const CONCURRENT = 3
let running = 0
const queue: Array<() => void> = []

async function slot(): Promise<() => void> {
  if (running >= CONCURRENT) await new Promise<void>((resolve) => queue.push(resolve))
  running++
  return () => {
    running--
    queue.shift()?.()
  }
}

interface Scene {
  /** The test's HOME: a private temp dir, removed when the test ends. */
  home: string
  /** `mailkeep setup --config <config> ...` on a new terminal; stopped when the test ends. */
  setup(config: string, ...extra: string[]): Terminal
}

/** Per test (not afterEach: the tests run concurrently), cleaned up by the test's own hook. */
async function scene(ctx: TestContext): Promise<Scene> {
  const release = await slot()
  const home = await makeTempDir('mailkeep-setup-')
  const terminals: Terminal[] = []
  ctx.onTestFinished(async () => {
    for (const t of terminals) await t.close()
    await removeTempDir(home)
    release()
  })
  return {
    home,
    setup(config, ...extra) {
      const t = Terminal.start(['setup', '--config', config, ...extra], {env: {HOME: home, MAILKEEP_CONFIG: undefined}})
      terminals.push(t)
      return t
    },
  }
}

function account(user: TestUser, localPath: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    username: user.user,
    password: user.password,
    local_path: localPath,
    server: dovecot.host,
    connection_options: {port: dovecot.port, ssl: false},
    ...extra,
  }
}

async function writeJson(path: string, content: unknown): Promise<string> {
  await mkdir(dirname(path), {recursive: true, mode: 0o700})
  await writeFile(path, `${JSON.stringify(content, null, 2)}\n`, {mode: 0o600})
  await chmod(path, 0o600)
  return path
}

interface SavedAccount {
  username: string
  password?: string
  [key: string]: unknown
}

async function readConfig(path: string): Promise<{accounts: SavedAccount[]; download_strategy: string; version: string}> {
  return JSON.parse(await readFile(path, 'utf8')) as {accounts: SavedAccount[]; download_strategy: string; version: string}
}

async function mode(path: string): Promise<string> {
  return ((await stat(path)).mode & 0o777).toString(8)
}

async function exitCode(t: Terminal): Promise<number | null> {
  return (await t.exited).code
}

/**
 * The next complete screen with this title: header, notices and the menu with its key help
 * (a keystroke also redraws the old menu, which must not count). Returns it from the title on.
 */
async function nextScreen(t: Terminal, title: 'Main Menu' | 'Account' | 'Global Options' | 'Connection'): Promise<string> {
  const text = await t.waitFor(new RegExp(`mailkeep - ${title}(\\*| of [^\\n]+)?\\n[\\s\\S]*⏎ select`))
  return text.slice(text.lastIndexOf(`mailkeep - ${title}`))
}

/** Ticks (or unticks) `names` in the checkbox list on the screen with ↓ and Space, then Enter. */
async function toggleFolders(t: Terminal, names: readonly string[]): Promise<void> {
  const screen = await t.waitFor(/Folders (NOT )?to back up[^\n]*\n(?:.*\n)*.*⏎ submit/)
  const items = screen
    .split(/\r?\n/)
    .map((line) => /^[❯ ]?\s*[◯◉] (.*?)\s*$/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined)
  let at = 0
  for (const name of names) {
    const index = items.indexOf(name)
    if (index < 0) throw new Error(`${name} is not in the list ${items.join(', ')}`)
    const steps = index - at
    t.press(...Array<'down' | 'up'>(Math.abs(steps)).fill(steps > 0 ? 'down' : 'up'), 'space')
    at = index
    await t.waitFor(new RegExp(`❯◉ ${name}|❯◯ ${name}`))
  }
  t.press('enter')
}

describe.concurrent('mailkeep setup', () => {
  it('with no config file shows the main menu, and quit exits 0 writing nothing (§9.2 93, 94)', async (ctx) => {
    const {expect} = ctx
    const {home, setup} = await scene(ctx)
    const config = join(home, 'missing', 'config.json')
    const t = setup(config)
    const screen = await nextScreen(t, 'Main Menu')
    expect(screen).toContain('mailkeep - Main Menu')
    expect(screen).toContain('(not created yet)')
    expect(screen).not.toContain('save and exit')
    await t.choose('quit')
    expect(await exitCode(t)).toBe(0)
    expect(existsSync(dirname(config))).toBe(false)
  })

  it('add account creates the directory (0700) and saves the login in a 0600 file (§9.2 104, 105)', async (ctx) => {
    const {expect} = ctx
    const {home, setup} = await scene(ctx)
    const config = join(home, 'new', 'dir', 'config.json')
    const t = setup(config)
    await t.choose('add account')
    await t.waitFor('? login')
    t.answer('new.user@example.com')
    // No preset for example.com: the list, with "my own server" chosen, then the server's settings.
    await t.waitFor(/Which provider is the account with\?[\s\S]*❯ another provider or my own server[\s\S]*⏎ select/)
    t.press('enter')
    await t.waitFor('? server (IMAP host name')
    t.answer('imap.example.com')
    await t.waitFor(/\? Security[\s\S]*⏎ select/)
    t.press('enter')
    await t.waitFor('? port')
    t.answer('')
    await t.waitFor('? password (empty to set it later)')
    t.answer('')
    const header = await nextScreen(t, 'Account')
    expect(header).toContain('mailkeep - Account*')
    expect(header).toMatch(/^login +new\.user@example\.com$/m)
    expect(header).toMatch(/^password +\(unset\)$/m)
    expect(header).toMatch(/^server +imap\.example\.com$/m)
    expect(header).toMatch(/^connection +port 993, TLS, certificate verified$/m)
    expect(header).toMatch(/^include +\(all folders\)$/m)
    await t.choose('back to main menu')
    const menu = await nextScreen(t, 'Main Menu')
    expect(menu).toMatch(/1\. new\.user@example\.com \*/)
    await t.choose('save and exit')
    expect(await exitCode(t)).toBe(0)
    expect(t.text()).toContain(`Saved '${config}' (1 account)`)

    expect(await mode(dirname(config))).toBe('700')
    expect(await mode(config)).toBe('600')
    const saved = await readConfig(config)
    expect(saved.version).toBe('2.2')
    expect(saved.accounts).toEqual([
      {username: 'new.user@example.com', password: '', status: 'active', local_path: join(dirname(config), 'new.user_example.com'), server: 'imap.example.com', multi_fetch_size: 100},
    ])
    expect(saved.download_strategy).toBe('delay_metadata')
  })

  it('saves a changed login and backup path; refuses those of another account; shows the connection in words (§9.2 95–98, 101)', async (ctx) => {
    const {expect} = ctx
    const {home, setup} = await scene(ctx)
    const config = await writeJson(join(home, 'cfg', 'config.json'), {
      version: '2.2',
      accounts: [account(alice, join(home, 'alice')), account(bob, join(home, 'bob'))],
    })
    const t = setup(config)
    await t.choose(alice.user)
    let header = await nextScreen(t, 'Account')
    expect(header).toContain('mailkeep - Account\n')
    expect(header).toMatch(new RegExp(`^login +${alice.user}$`, 'm'))
    expect(header).toMatch(/^password +\*{8}$/m)
    expect(header).toMatch(new RegExp(`^connection +port ${dovecot.port}, plain IMAP \\(not encrypted\\)$`, 'm'))

    await t.choose('modify login')
    await t.waitFor('? login')
    t.answer(bob.user)
    header = await nextScreen(t, 'Account')
    expect(header).toContain('There is already an account set up with that login')
    expect(header).toContain('mailkeep - Account\n')

    await t.choose('modify login')
    await t.waitFor('? login')
    t.answer('alice.new@example.test')
    header = await nextScreen(t, 'Account')
    expect(header).toContain('mailkeep - Account*')
    expect(header).toMatch(/^login +alice\.new@example\.test$/m)

    await t.choose('modify backup path')
    await t.waitFor('? backup path')
    t.answer(join(home, 'bob'))
    header = await nextScreen(t, 'Account')
    expect(header).toContain(`The path '${join(home, 'bob')}' is used by another account (${bob.user})`)

    await t.choose('modify backup path')
    await t.waitFor('? backup path')
    t.answer('new/path')
    header = await nextScreen(t, 'Account')
    expect(header).toMatch(/^path +new\/path$/m)

    await t.choose('back to main menu')
    const menu = await nextScreen(t, 'Main Menu')
    expect(menu).toMatch(/1\. alice\.new@example\.test \*/)
    expect(menu).toMatch(new RegExp(`2\\. ${bob.user.replace('.', '\\.')} *$`, 'm'))
    await t.choose('save and exit')
    expect(await exitCode(t)).toBe(0)

    const saved = await readConfig(config)
    expect(saved.accounts[0]).toEqual({...account(alice, 'new/path'), username: 'alice.new@example.test', status: 'active', multi_fetch_size: 100})
    expect(Object.keys(saved.accounts[0]!)).toEqual(['username', 'password', 'status', 'local_path', 'server', 'connection_options', 'multi_fetch_size'])
    expect(saved.accounts[1]).toEqual({...account(bob, join(home, 'bob')), status: 'active', multi_fetch_size: 100})
    // The stored passwords were never drawn.
    expect(t.raw()).not.toContain(alice.password)
    expect(t.raw()).not.toContain(bob.password)
  })

  it('test connection prints Connection successful, a wrong password the error without the password; exit without saving keeps the file byte-identical (§9.2 99)', async (ctx) => {
    const {expect} = ctx
    const {home, setup} = await scene(ctx)
    const config = await writeJson(join(home, 'config.json'), {version: '2.2', accounts: [account(alice, join(home, 'alice'))], download_strategy: 'delay_metadata'})
    const before = await readFile(config)
    const mtime = (await stat(config)).mtimeMs
    const wrong = 'Wrong-Secret-7d1e'
    const t = setup(config)
    await t.choose(alice.user)
    await t.choose('test connection')
    await t.waitFor(/^Connection successful: /m)

    // A mismatch offers a retry; declining keeps the password.
    await t.choose('modify password')
    await t.waitFor('? password')
    t.answer('first-Try-1111')
    await t.waitFor('? repeat the password')
    t.answer('second-Try-2222')
    await t.waitFor('The passwords do not match. Try again?')
    t.answer('y')
    await t.waitFor('? password')
    t.answer(wrong)
    await t.waitFor('? repeat the password')
    t.answer(wrong)
    let header = await nextScreen(t, 'Account')
    expect(header).toContain('Password changed')
    expect(header).toContain('mailkeep - Account*')

    await t.choose('test connection')
    header = await t.waitFor(/^Connection failed: .+$/m)
    expect(header).not.toContain('Connection successful')
    expect(header).not.toContain('[REDACTED]')

    await t.choose('back to main menu')
    await t.choose('exit without saving changes')
    expect(await exitCode(t)).toBe(0)
    expect(t.text()).toContain(`Changes discarded; '${config}' was not written`)
    expect((await readFile(config)).equals(before)).toBe(true)
    expect((await stat(config)).mtimeMs).toBe(mtime)

    const screen = t.raw()
    for (const secret of [wrong, 'first-Try-1111', 'second-Try-2222', alice.password]) expect(screen).not.toContain(secret)
    // Masked input: one '*' per character was drawn instead.
    expect(t.text()).toContain(`? password (empty to cancel) ${'*'.repeat(wrong.length)}`)
  })

  it('a password typed in is stored as the plain password, works before saving, and never appears on the screen', async (ctx) => {
    const {expect} = ctx
    const {home, setup} = await scene(ctx)
    const config = await writeJson(join(home, 'config.json'), {version: '2.2', accounts: [account(carol, join(home, 'carol'), {password: ''})]})
    const t = setup(config)
    await t.choose(carol.user)
    let header = await nextScreen(t, 'Account')
    expect(header).toMatch(/^password +\(unset\)$/m)
    await t.choose('modify password')
    await t.waitFor('? password')
    t.answer(carol.password)
    await t.waitFor('? repeat the password')
    t.answer(carol.password)
    header = await nextScreen(t, 'Account')
    expect(header).toMatch(/^password +\*{8}$/m)
    await t.choose('test connection')
    await t.waitFor(/^Connection successful: /m)
    await t.choose('back to main menu')
    await t.choose('save and exit')
    expect(await exitCode(t)).toBe(0)

    const saved = await readConfig(config)
    expect(saved.accounts[0]!.password).toBe(carol.password)
    expect(t.raw()).not.toContain(carol.password)
  })

  it('edits connection options (malformed JSON refused, empty clears), mode, status, multi-fetch, inclusion and password source', async (ctx) => {
    const {expect} = ctx
    const {home, setup} = await scene(ctx)
    const config = await writeJson(join(home, 'config.json'), {version: '2.2', accounts: [account(alice, join(home, 'alice'))]})
    const t = setup(config)
    await t.choose(alice.user)

    await t.choose('modify server and connection (port, TLS, certificate)')
    let screen = await nextScreen(t, 'Connection')
    expect(screen).toMatch(new RegExp(`^port +${dovecot.port}$`, 'm'))
    expect(screen).toMatch(/^security +plain IMAP, not encrypted$/m)
    await t.choose('edit all connection options as JSON')
    await t.waitFor('? connection options as JSON')
    t.answer('{"port": 143')
    screen = await nextScreen(t, 'Connection')
    expect(screen).toMatch(/^Malformed JSON, not changed: /m)
    expect(screen).toMatch(new RegExp(`^port +${dovecot.port}$`, 'm'))

    await t.choose('edit all connection options as JSON')
    await t.waitFor('? connection options as JSON')
    t.answer('{"port": "abc"}')
    screen = await nextScreen(t, 'Connection')
    expect(screen).toMatch(/^Not changed: .*connection_options\.port.*must be a port number/m)

    await t.choose('edit all connection options as JSON')
    await t.waitFor('? connection options as JSON')
    t.answer('')
    screen = await nextScreen(t, 'Connection')
    expect(screen).toContain('Connection options removed')
    expect(screen).toMatch(/^port +993 \(the default for TLS\)$/m)

    await t.choose('edit all connection options as JSON')
    await t.waitFor('? connection options as JSON')
    t.answer(`{"port": ${dovecot.port}, "ssl": false, "open_timeout": 5}`)
    screen = await nextScreen(t, 'Connection')
    expect(screen).toMatch(/^other options +\{"open_timeout":5\}$/m)
    await t.choose('back to the account')
    let header = await nextScreen(t, 'Account')
    expect(header).toMatch(new RegExp(`^connection +port ${dovecot.port}, plain IMAP \\(not encrypted\\)$`, 'm'))

    await t.choose('toggle mode (keep all emails / mirror emails)')
    header = await nextScreen(t, 'Account')
    expect(header).toMatch(/^mode +mirror emails$/m)
    expect(header).toContain('Mirror mode: messages and folders that are gone from the server')

    await t.choose('change status (active / archived / offline)')
    header = await nextScreen(t, 'Account')
    expect(header).toMatch(/^status +archived/m)

    await t.choose('modify multi-fetch size')
    await t.waitFor('? messages per fetch request')
    t.answer('0')
    await t.waitFor('enter a whole number of 1 or more')
    t.press('clearLine')
    t.answer('50')
    header = await nextScreen(t, 'Account')
    expect(header).toMatch(/^multi-fetch +50$/m)

    await t.choose('toggle folder inclusion mode (include / exclude)')
    header = await nextScreen(t, 'Account')
    expect(header).toMatch(/^exclude +\(none: all folders are backed up\)$/m)
    expect(header).toContain('choose folders to exclude')

    await t.choose('toggle resetting unread flags after download')
    header = await nextScreen(t, 'Account')
    expect(header).toContain('changes to unread flags will be reset after download')

    await t.choose('change password source')
    await t.waitFor(/Where does mailkeep get the password\?\n❯ stored in the config file[\s\S]*⏎ select/)
    t.press('down', 'down')
    await t.waitFor(/❯ an environment variable \(password_env\)[\s\S]*⏎ select/)
    t.press('enter')
    await t.waitFor('? name of the environment variable')
    t.answer('MAIL_PW')
    header = await nextScreen(t, 'Account')
    expect(header).toMatch(/^password +from the environment variable MAIL_PW$/m)
    expect(header).toContain('Note: password_env is a mailkeep extension; imap-backup cannot load a config that uses it')

    await t.choose('back to main menu')
    await t.choose('save and exit')
    expect(await exitCode(t)).toBe(0)
    expect(t.text()).toContain(`Note: it uses mailkeep extension keys (${alice.user}: password_env); imap-backup cannot load it`)

    const saved = await readConfig(config)
    expect(saved.accounts[0]).toEqual({
      username: alice.user,
      password_env: 'MAIL_PW',
      status: 'archived',
      local_path: join(home, 'alice'),
      folder_blacklist: true,
      mirror_mode: true,
      server: dovecot.host,
      connection_options: {port: dovecot.port, ssl: false, open_timeout: 5},
      multi_fetch_size: 50,
      reset_seen_flags_after_fetch: true,
    })
  })

  it('an account without a folders key: choosing from the live list marks it modified and saves the choice (§9.2 102, 103)', async (ctx) => {
    const {expect} = ctx
    const {home, setup} = await scene(ctx)
    const config = await writeJson(join(home, 'config.json'), {version: '2.2', accounts: [account(alice, join(home, 'alice'))]})
    const t = setup(config)
    await t.choose(alice.user)
    await t.choose('choose folders to include')
    const list = await t.waitFor('⏎ submit')
    for (const folder of ['INBOX', 'Work', 'Archive']) expect(list).toMatch(new RegExp(`[◯◉] ${folder}$`, 'm'))
    await toggleFolders(t, ['Work', 'Archive'])
    const header = await nextScreen(t, 'Account')
    expect(header).toContain('mailkeep - Account*')
    await t.choose('back to main menu')
    await t.waitFor(`1. ${alice.user} *`)
    await t.choose('save and exit')
    expect(await exitCode(t)).toBe(0)

    const serverOrder = (await listFolders(dovecot, alice)).map((f) => f.name).filter((n) => n === 'Work' || n === 'Archive')
    expect((await readConfig(config)).accounts[0]!['folders']).toEqual(serverOrder)
  })

  it('ticking every folder saves "all folders" (no folders key), so folders created later are backed up too (issue 11 item 5)', async (ctx) => {
    const {expect} = ctx
    const {home, setup} = await scene(ctx)
    const config = await writeJson(join(home, 'config.json'), {version: '2.2', accounts: [account(alice, join(home, 'alice'), {folders: ['Work']})]})
    const t = setup(config)
    await t.choose(alice.user)
    await t.choose('choose folders to include')
    const list = await t.waitFor('⏎ submit')
    const names = list
      .split(/\r?\n/)
      .map((line) => /^[❯ ]?\s*[◯◉] (.*?)\s*$/.exec(line)?.[1])
      .filter((name): name is string => name !== undefined)
    expect(names).toEqual(expect.arrayContaining(['INBOX', 'Work', 'Archive']))
    await toggleFolders(
      t,
      names.filter((name) => name !== 'Work'),
    )
    const header = await nextScreen(t, 'Account')
    expect(header).toContain('Every folder is backed up, also folders created on the server later')
    await t.choose('back to main menu')
    await t.choose('save and exit')
    expect(await exitCode(t)).toBe(0)
    expect((await readConfig(config)).accounts[0]).not.toHaveProperty('folders')
  })

  it('drops configured folders that are gone from the server, with a notice', async (ctx) => {
    const {expect} = ctx
    const {home, setup} = await scene(ctx)
    const config = await writeJson(join(home, 'config.json'), {version: '2.2', accounts: [account(alice, join(home, 'alice'), {folders: ['Work', 'Gone Folder']})]})
    const t = setup(config)
    await t.choose(alice.user)
    let header = await nextScreen(t, 'Account')
    expect(header).toMatch(/^include +Work, Gone Folder$/m)
    await t.choose('choose folders to include')
    const list = await t.waitFor('⏎ submit')
    expect(list).toContain("Removed from the selection (no longer on the server): 'Gone Folder'")
    expect(list).toMatch(/◉ Work$/m)
    t.press('enter')
    header = await nextScreen(t, 'Account')
    expect(header).toContain("Removed from the selection (no longer on the server): 'Gone Folder'")
    expect(header).toMatch(/^include +Work$/m)
    expect(header).toContain('mailkeep - Account*')
    await t.choose('back to main menu')
    await t.choose('save and exit')
    expect(await exitCode(t)).toBe(0)
    expect((await readConfig(config)).accounts[0]!['folders']).toEqual(['Work'])
  })

  it('global options: choosing direct with the arrow keys saves download_strategy "direct" (§9.2 106); delete account asks first', async (ctx) => {
    const {expect} = ctx
    const {home, setup} = await scene(ctx)
    const config = await writeJson(join(home, 'config.json'), {version: '2.2', accounts: [account(alice, join(home, 'alice'))]})
    const t = setup(config)
    await t.choose('modify global options')
    let screen = await nextScreen(t, 'Global Options')
    expect(screen).toContain('mailkeep - Global Options')
    expect(screen).toMatch(/^download strategy +delay_metadata$/m)
    await t.choose('change download strategy')
    screen = await t.waitFor(/\? Download strategy\n[\s\S]*⏎ select/)
    expect(screen).toMatch(/❯ delay_metadata: delay writing metadata \(default\)/)
    expect(screen).toContain('Messages go to the mbox at once')
    t.press('down')
    screen = await t.waitFor(/❯ direct: write straight to disk[\s\S]*⏎ select/)
    expect(screen).toContain('Every message is committed on its own')
    t.press('enter')
    screen = await nextScreen(t, 'Global Options')
    expect(screen).toMatch(/^download strategy +direct$/m)
    await t.choose('back to main menu')

    await t.choose(alice.user)
    await t.choose('delete account')
    await t.waitFor(`Delete the account ${alice.user}? (Its backup files are kept.) (y/N)`)
    t.answer('y')
    const menu = await nextScreen(t, 'Main Menu')
    expect(menu).toContain(`Account ${alice.user} deleted`)
    expect(menu).not.toMatch(/\d\. alice@/)
    await t.choose('save and exit')
    expect(await exitCode(t)).toBe(0)
    const saved = await readConfig(config)
    expect(saved.download_strategy).toBe('direct')
    expect(saved.accounts).toEqual([])
  })

  it('--import shows an imap-backup config, saves it as mailkeep\'s config and leaves the imap-backup file untouched', async (ctx) => {
    const {expect} = ctx
    const {home, setup} = await scene(ctx)
    const source = await writeJson(join(home, '.imap-backup', 'config.json'), {
      version: '2.1',
      accounts: [
        {username: alice.user, password: alice.password, local_path: join(home, '.imap-backup', 'alice'), folders: [{name: 'INBOX'}, {name: 'Work'}], server: dovecot.host, connection_options: `{"port":${dovecot.port},"ssl":false}`, multi_fetch_size: 1},
        {username: 'me@icloud.com', password: 'icloud-Pw-93ab1f', local_path: join(home, '.imap-backup', 'me_icloud.com'), mirror_mode: true, multi_fetch_size: 1, reset_seen_flags_after_fetch: true},
      ],
      download_strategy: 'direct',
    })
    const sourceBytes = await readFile(source)
    const sourceMtime = (await stat(source)).mtimeMs
    const config = join(home, '.mailkeep', 'config.json')
    // `~` as a quoted argument reaches mailkeep unexpanded: setup expands it (HOME is the temp dir).
    const t = setup(config, '--import', '~/.imap-backup/config.json')
    const summary = await t.waitFor(`Save these accounts to '${config}'?`)
    expect(summary).toContain('mailkeep - Import from imap-backup')
    expect(summary).toContain('Accounts to import (2):')
    expect(summary).toMatch(new RegExp(`^ +email +${alice.user}$`, 'm'))
    expect(summary).toMatch(/^ +include +INBOX, Work$/m)
    expect(summary).toMatch(/^ +server +imap\.mail\.me\.com \(the provider's server\)$/m)
    expect(summary).toMatch(/^ +mode +mirror emails$/m)
    expect(summary).toContain('download strategy: direct (was delay_metadata)')
    t.press('enter')
    expect(await exitCode(t)).toBe(0)
    expect(t.text()).toContain(`Saved '${config}' (2 accounts)`)

    expect((await readFile(source)).equals(sourceBytes)).toBe(true)
    expect((await stat(source)).mtimeMs).toBe(sourceMtime)
    expect(await mode(config)).toBe('600')
    expect(await mode(dirname(config))).toBe('700')
    const saved = await readConfig(config)
    expect(saved.version).toBe('2.2')
    expect(saved.download_strategy).toBe('direct')
    expect(saved.accounts.map((a) => a.username)).toEqual([alice.user, 'me@icloud.com'])
    expect(saved.accounts[0]).toMatchObject({folders: ['INBOX', 'Work'], connection_options: {port: dovecot.port, ssl: false}, multi_fetch_size: 1})
    expect(saved.accounts[1]).toMatchObject({mirror_mode: true, reset_seen_flags_after_fetch: true, password: 'icloud-Pw-93ab1f'})
    expect(t.raw()).not.toContain(alice.password)
    expect(t.raw()).not.toContain('icloud-Pw-93ab1f')
  })

  it('without a terminal it refuses with a usage error (exit 2) and writes nothing', async (ctx) => {
    const {expect} = ctx
    const {home} = await scene(ctx)
    const config = join(home, 'cfg', 'config.json')
    const result = await runCli(['setup', '--config', config], {env: {HOME: home, MAILKEEP_CONFIG: undefined}})
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('mailkeep: error: setup is interactive and needs a terminal')
    expect(existsSync(dirname(config))).toBe(false)
  })

  it('import from the main menu skips accounts already configured; Ctrl-C leaves without saving (exit 130)', async (ctx) => {
    const {expect} = ctx
    const {home, setup} = await scene(ctx)
    const source = await writeJson(join(home, '.imap-backup', 'config.json'), {
      version: '2.2',
      accounts: [account(alice, join(home, 'ib-alice')), account(bob, join(home, 'ib-bob'))],
    })
    const config = await writeJson(join(home, '.mailkeep', 'config.json'), {version: '2.2', accounts: [account(alice, join(home, 'alice'))]})
    const before = await readFile(config)
    const t = setup(config)
    await t.choose('import an imap-backup config')
    await t.waitFor('? imap-backup config file')
    t.press('enter')
    const summary = await t.waitFor('Import these accounts?')
    expect(summary).toContain(`from  ${source}`)
    expect(summary).toContain('Accounts to import (1):')
    expect(summary).toContain(`${alice.user}: already configured`)
    t.answer('y')
    const menu = await nextScreen(t, 'Main Menu')
    expect(menu).toMatch(new RegExp(`2\\. ${bob.user.replace('.', '\\.')} \\*`))
    expect(menu).toContain('choose "save and exit" to write them')
    t.press('ctrlC')
    expect(await exitCode(t)).toBe(130)
    expect(t.text()).toContain(`Setup interrupted; '${config}' was not written`)
    expect((await readFile(config)).equals(before)).toBe(true)
  })

  it('a plain login (not an address) on one\'s own server: security and port asked, the password right away, and the connection test says what answered', async (ctx) => {
    const {expect} = ctx
    const {home, setup} = await scene(ctx)
    const config = join(home, 'cfg', 'config.json')
    const t = setup(config)
    await t.choose('add account')
    await t.waitFor('? login')
    t.answer(dave.user)
    await t.waitFor(/Which provider is the account with\?[\s\S]*❯ another provider or my own server[\s\S]*⏎ select/)
    t.press('enter')
    await t.waitFor('? server (IMAP host name')
    t.answer(dovecot.host)
    await t.waitFor(/\? Security\n❯ TLS from the first byte[\s\S]*⏎ select/)
    t.press('down', 'down')
    await t.waitFor(/❯ plain IMAP, not encrypted[\s\S]*Only on a network you trust/)
    t.press('enter')
    await t.waitFor('? port (143)')
    t.answer(String(dovecot.port))
    await t.waitFor('? password (empty to set it later)')
    t.answer(dave.password)
    await t.waitFor('? repeat the password')
    t.answer(dave.password)
    let header = await nextScreen(t, 'Account')
    expect(header).toMatch(/^login +dave$/m)
    expect(header).toMatch(/^password +\*{8}$/m)
    expect(header).toMatch(new RegExp(`^connection +port ${dovecot.port}, plain IMAP \\(not encrypted\\)$`, 'm'))
    expect(header).toMatch(new RegExp(`^path +${join(home, 'cfg', `dave_${dovecot.host}`).replaceAll('.', '\\.')}$`, 'm'))
    expect(header).toContain('Password set; choose "test connection" to try it')

    await t.choose('test connection')
    header = await t.waitFor(/logged in as dave; \d+ folders?\n[\s\S]*⏎ select/)
    expect(header).toContain(`Connection successful: ${dovecot.host}:${dovecot.port} answered, over plain IMAP (not encrypted)`)
    expect(header).toContain(`the server said: "Dovecot ${dovecot.instanceName} ready."`)
    expect(header).toMatch(/^ {2}it calls itself: Dovecot/m)
    await t.choose('back to main menu')
    await t.choose('save and exit')
    expect(await exitCode(t)).toBe(0)
    expect((await readConfig(config)).accounts).toEqual([
      {username: 'dave', password: dave.password, status: 'active', local_path: join(home, 'cfg', `dave_${dovecot.host}`), server: dovecot.host, connection_options: {port: dovecot.port, ssl: false}, multi_fetch_size: 100},
    ])
    expect(t.raw()).not.toContain(dave.password)
  })

  it('a provider preset from the address (Gmail: app password advice), and one that needs OAuth2 (Outlook: no password asked)', async (ctx) => {
    const {expect} = ctx
    const {home, setup} = await scene(ctx)
    const config = join(home, 'cfg', 'config.json')
    const t = setup(config)
    await t.choose('add account')
    await t.waitFor('? login')
    t.answer('someone@GMail.com')
    await t.waitFor('Use the settings for Gmail (imap.gmail.com, port 993, TLS)? (Y/n)')
    t.answer('')
    await t.waitFor('? password (empty to set it later)')
    t.answer('')
    let header = await nextScreen(t, 'Account')
    expect(header).toMatch(/^server +imap\.gmail\.com \(Gmail\)$/m)
    expect(header).toMatch(/^connection +port 993, TLS, certificate verified$/m)
    expect(header).toContain('Gmail: Gmail takes an app password, not your Google password')
    await t.choose('back to main menu')

    await t.choose('add account')
    await t.waitFor('? login')
    t.answer('someone@outlook.com')
    await t.waitFor('Use the settings for Outlook / Microsoft 365 (outlook.office365.com, port 993, TLS)? (Y/n)')
    t.answer('y')
    header = await nextScreen(t, 'Account')
    expect(header).toContain('Outlook / Microsoft 365: Microsoft accepts no password over IMAP, only OAuth2: choose "change password source" → "log in with OAuth2"')
    expect(header).toMatch(/^server +outlook\.office365\.com \(Outlook \/ Microsoft 365\)$/m)
    await t.choose('back to main menu')

    // A custom domain of a known provider: chosen from the list.
    await t.choose('add account')
    await t.waitFor('? login')
    t.answer('me@mydomain.example')
    await t.waitFor(/Which provider is the account with\?[\s\S]*⏎ select/)
    t.press('up', 'up', 'up', 'up', 'up')
    await t.waitFor(/❯ Gmail \(imap\.gmail\.com\)\n[\s\S]*Gmail takes an app password/)
    t.press('enter')
    await t.waitFor('? password (empty to set it later)')
    t.answer('')
    header = await nextScreen(t, 'Account')
    expect(header).toMatch(/^server +imap\.gmail\.com \(Gmail\)$/m)
    await t.choose('back to main menu')
    await t.choose('save and exit')
    expect(await exitCode(t)).toBe(0)
    const saved = await readConfig(config)
    expect(saved.accounts.map((a) => [a.username, a['server'], a['connection_options'], a['local_path']])).toEqual([
      ['someone@GMail.com', 'imap.gmail.com', undefined, join(home, 'cfg', 'someone_GMail.com')],
      ['someone@outlook.com', 'outlook.office365.com', undefined, join(home, 'cfg', 'someone_outlook.com')],
      ['me@mydomain.example', 'imap.gmail.com', undefined, join(home, 'cfg', 'me_mydomain.example')],
    ])
  })

  it('connection prompts: port, security, certificate verification and CA file, each showing the value in use', async (ctx) => {
    const {expect} = ctx
    const {home, setup} = await scene(ctx)
    const config = await writeJson(join(home, 'config.json'), {version: '2.2', accounts: [account(alice, join(home, 'alice'), {connection_options: {port: dovecot.port, ssl: false, open_timeout: 5}})]})
    const t = setup(config)
    await t.choose(alice.user)
    await t.choose('modify server and connection (port, TLS, certificate)')
    let screen = await nextScreen(t, 'Connection')
    expect(screen).toMatch(new RegExp(`^server +${dovecot.host.replaceAll('.', '\\.')}$`, 'm'))
    expect(screen).not.toMatch(/^certificate /m)

    await t.choose('change security (TLS / STARTTLS / plain)')
    await t.waitFor(/\? Security\n[\s\S]*❯ plain IMAP[\s\S]*⏎ select/)
    t.press('up')
    await t.waitFor(/❯ STARTTLS[\s\S]*imap-backup cannot use/)
    t.press('enter')
    screen = await nextScreen(t, 'Connection')
    // The port was not the usual one for plain IMAP: it stays.
    expect(screen).toMatch(new RegExp(`^port +${dovecot.port}$`, 'm'))
    expect(screen).toMatch(/^security +STARTTLS: plain, then upgraded to TLS$/m)
    expect(screen).toMatch(/^certificate +verified/m)
    expect(screen).toContain('Note: starttls is a mailkeep extension')

    await t.choose('modify port')
    await t.waitFor(`? port (143 is usual for STARTTLS) (${dovecot.port})`)
    t.answer('70000')
    await t.waitFor('enter a port number from 1 to 65535')
    t.press('clearLine')
    t.answer('1143')
    screen = await nextScreen(t, 'Connection')
    expect(screen).toMatch(/^port +1143$/m)

    await t.choose('toggle certificate verification')
    screen = await nextScreen(t, 'Connection')
    expect(screen).toMatch(/^certificate +NOT verified/m)
    await t.choose('modify CA file')
    await t.waitFor("? PEM file of the CAs to trust (empty: the system's)")
    t.answer('/etc/my-ca.pem')
    screen = await nextScreen(t, 'Connection')
    expect(screen).toMatch(/^CA file +\/etc\/my-ca\.pem$/m)
    expect(screen).toMatch(/^other options +\{"open_timeout":5\}$/m)

    await t.choose('back to the account')
    const header = await nextScreen(t, 'Account')
    expect(header).toMatch(/^connection +port 1143, STARTTLS, certificate NOT verified$/m)
    await t.choose('back to main menu')
    await t.choose('save and exit')
    expect(await exitCode(t)).toBe(0)
    expect((await readConfig(config)).accounts[0]!['connection_options']).toEqual({port: 1143, open_timeout: 5, starttls: true, ssl: {verify_mode: 0, ca_file: '/etc/my-ca.pem'}})
  })

  it('dictionary-word passwords ("pass", "password"): nothing on the screen is cut out of our words, and the password is never shown', async (ctx) => {
    const {expect} = ctx
    const {home, setup} = await scene(ctx)
    const config = await writeJson(join(home, 'config.json'), {version: '2.2', accounts: [account(word, join(home, 'word')), account(alice, join(home, 'alice'), {password: 'password'})]})
    const t = setup(config)
    await t.choose(word.user)
    let header = await nextScreen(t, 'Account')
    expect(header).toMatch(/^password +\*{8}$/m)
    expect(header).toContain('modify password')
    expect(header).toContain('change password source')
    await t.choose('test connection')
    header = await t.waitFor(/logged in as word@example\.test; \d+ folders?\n[\s\S]*⏎ select/)
    await t.choose('change password source')
    await t.waitFor(/❯ stored in the config file[\s\S]*⏎ select/)
    t.press('down')
    const screen = await t.waitFor(/❯ printed by a command \(password_command\)\n[\s\S]*e\.g\. pass show mail\/me/)
    t.press('up', 'enter')
    await t.waitFor('? password (empty to cancel)')
    t.answer('')
    await t.choose('back to main menu')

    await t.choose(alice.user)
    await t.choose('test connection')
    header = await t.waitFor(/^Connection failed: login refused for user 'alice@example\.test'[^\n]*\n[\s\S]*⏎ select/m)
    await t.choose('back to main menu')
    await t.choose('quit')
    expect(await exitCode(t)).toBe(0)
    const text = t.text()
    expect(text).not.toContain('[REDACTED]')
    // The words stand whole wherever we wrote them; the passwords themselves are never drawn.
    expect(text).toMatch(/^password +\*{8}$/m)
    expect(screen).toContain('e.g. pass show mail/me')
    expect(header).toContain('check the user name and password')
    expect(text.replaceAll('pass show mail/me', '')).not.toMatch(/(?<![\w-])pass(?!\w)/)
    expect(text).not.toMatch(/"password"/)
  })
})
