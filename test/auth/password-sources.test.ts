/**
 * Every password source end to end (docs/auth.md): `password_command`, `password_env`,
 * `password_file` (0600 required) and the plain `password`, each through the real CLI
 * (`mailkeep backup`, and `remote folders`, which logs in through openAccountSession), against a
 * private Dovecot. Failures name the account and never show the secret.
 */
import {chmod, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import type {BackupReport} from '../../src/engine/backup/types.js'
import {DEFAULT_USERS, startDovecot, type DovecotInstance, type TestUser} from '../support/dovecot.js'
import {seedFolder} from '../support/mail-seed.js'
import {allOutput, defaultConfigPath, expectBackupEqualsServer, mailkeep, makeHome, show, writeConfig} from '../cli/helpers.js'
import {ENV_PASSWORD, FAILING_COMMAND_OUTPUT, TEST_SECRETS} from '../secrets/test-secrets.js'

// Each test runs the CLI several times (a Node start each, seconds on a loaded machine).
vi.setConfig({testTimeout: 240_000})

let dovecot: DovecotInstance
let alice: TestUser
let dave: TestUser
/** A user whose password only ever travels through an environment variable. */
let frank: TestUser

beforeAll(async () => {
  dovecot = await startDovecot({users: [...DEFAULT_USERS, {user: 'frank@example.test', password: ENV_PASSWORD}]})
  alice = dovecot.users[0]!
  dave = dovecot.users[3]!
  frank = dovecot.users[4]!
  for (const user of [alice, dave, frank]) await seedFolder(dovecot, user, 'INBOX', 3)
})

afterAll(async () => {
  await dovecot?.stop()
})

/** A config with one account whose password source is `source` (instead of `password`). */
async function configWith(user: TestUser, source: Record<string, unknown>): Promise<{home: string; root: string}> {
  const home = await makeHome()
  return {home, ...(await configWithHome(home, user, source))}
}

/** The same in an existing HOME (which holds the password file or script). */
async function configWithHome(home: string, user: TestUser, source: Record<string, unknown>): Promise<{root: string}> {
  const root = join(home, 'backup')
  const account = {username: user.user, ...source, local_path: root, server: dovecot.host, connection_options: {port: dovecot.port, ssl: false}, folders: ['INBOX']}
  await writeConfig(defaultConfigPath(home), {version: '2.2', accounts: [account]})
  return {root}
}

/** A file only its owner can read (password files, scripts). */
async function privateFile(home: string, name: string, content: string, mode = 0o600): Promise<string> {
  const path = join(home, name)
  await writeFile(path, content, {mode})
  await chmod(path, mode)
  return path
}

function shellQuote(path: string): string {
  return `'${path.replace(/'/g, `'\\''`)}'`
}

async function expectBackupWorks(home: string, root: string, user: TestUser, env: Record<string, string> = {}): Promise<void> {
  const result = await mailkeep(home, ['backup', '--json'], {env})
  expect(result.code, show(result)).toBe(0)
  const report = JSON.parse(result.stdout) as BackupReport
  expect(report.accounts[0]!.outcome).toBe('ok')
  await expectBackupEqualsServer(dovecot, user, root, ['INBOX'])
  const remote = await mailkeep(home, ['remote', 'folders', user.user], {env})
  expect(remote.code, show(remote)).toBe(0)
  expect(remote.stdout).toContain('"INBOX"')
}

describe('password sources', () => {
  it('password_command: its stdout without the trailing newline is the password', async () => {
    const home = await makeHome()
    const file = await privateFile(home, 'secret.txt', `${dave.password}\n`)
    const {root} = await configWithHome(home, dave, {password_command: `cat ${shellQuote(file)}`})
    await expectBackupWorks(home, root, dave)
  })

  it('password_env: the variable is read when the account logs in', async () => {
    const {home, root} = await configWith(frank, {password_env: 'MAILKEEP_TEST_PASSWORD'})
    await expectBackupWorks(home, root, frank, {MAILKEEP_TEST_PASSWORD: ENV_PASSWORD})
  })

  it('password_env unset: exit 3 naming the variable and the account', async () => {
    const {home} = await configWith(frank, {password_env: 'MAILKEEP_TEST_UNSET'})
    const result = await mailkeep(home, ['remote', 'folders', frank.user], {env: {MAILKEEP_TEST_UNSET: undefined}})
    expect(result.code, show(result)).toBe(3)
    expect(result.stderr).toContain(`The environment variable MAILKEEP_TEST_UNSET (password_env of account '${frank.user}') is not set`)
  })

  it('password_file (0600): its content without the trailing newline; a password with quotes and a backslash', async () => {
    const home = await makeHome()
    const file = await privateFile(home, 'password', `${dave.password}\r\n`)
    const {root} = await configWithHome(home, dave, {password_file: file})
    await expectBackupWorks(home, root, dave)
  })

  it('password_file readable by others: refused with the chmod hint (exit 3)', async () => {
    const home = await makeHome()
    const file = await privateFile(home, 'password', `${alice.password}\n`, 0o644)
    await configWithHome(home, alice, {password_file: file})
    const result = await mailkeep(home, ['backup'])
    expect(result.code, show(result)).toBe(3)
    expect(result.stdout + result.stderr).toContain(`Permissions on '${file}' should be 0600, not 0644`)
  })

  it('a failing password_command: exit 3, one clear error naming the account, its output never shown', async () => {
    const home = await makeHome()
    // The command prints something secret-looking, then fails: the output must stay hidden.
    const file = await privateFile(home, 'out.txt', `${FAILING_COMMAND_OUTPUT}\n`)
    await configWithHome(home, alice, {password_command: `cat ${shellQuote(file)}; exit 7`})

    const backup = await mailkeep(home, ['backup'])
    expect(backup.code, show(backup)).toBe(3)
    expect(backup.stdout + backup.stderr).toContain(`The password_command of account '${alice.user}' failed with exit status 7; run it in a shell to see why`)

    const remote = await mailkeep(home, ['remote', 'folders', alice.user])
    expect(remote.code, show(remote)).toBe(3)
    expect(remote.stderr).toBe(`mailkeep: error: The password_command of account '${alice.user}' failed with exit status 7; run it in a shell to see why\n`)
    expect(remote.stdout).toBe('')
  })

  it('a password_command that prints the wrong password: exit 111 (login refused)', async () => {
    const home = await makeHome()
    const wrong = TEST_SECRETS.find((s) => s.label.startsWith('wrong password'))!.value
    const file = await privateFile(home, 'wrong.txt', `${wrong}\n`)
    await configWithHome(home, alice, {password_command: `cat ${shellQuote(file)}`})
    const result = await mailkeep(home, ['backup'])
    expect(result.code, show(result)).toBe(111)
    expect(result.stdout + result.stderr).toContain(alice.user)
  })
})

describe('output', () => {
  it('never shows a secret', () => {
    const output = allOutput()
    for (const user of dovecot.users) expect(output.includes(user.password), `password of ${user.user} in the output`).toBe(false)
    for (const s of TEST_SECRETS) expect(output.includes(s.value), `${s.label} in the output`).toBe(false)
  })
})

