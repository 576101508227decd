/**
 * `mailkeep single backup`: one account from the command line, no config file (compat §2.2,
 * acceptance items 107–109 of compat §9.2).
 */
import {existsSync} from 'node:fs'
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startDovecot, type DovecotInstance, type TestUser} from '../support/dovecot.js'
import {appendMessages, createFolder} from '../support/mail-seed.js'
import {allOutput, expectBackupEqualsServer, folderFiles, listTree, mailkeep, makeHome, show} from './helpers.js'

let dovecot: DovecotInstance
let alice: TestUser
let connectionOptions: string

/** The messages of imap-backup's feature specs: `From: …\nSubject: …\n\n<body>\n\n` in CRLF. */
function specMessage(subject: string, body: string): Buffer {
  return Buffer.from(`From: address@example.org\nSubject: ${subject}\n\n${body}\n\n`.replace(/\n/g, '\r\n'))
}

/** Its mbox entry (docs/mbox-format.md): separator line, then the message with LF line ends. */
function specEntry(subject: string, body: string): string {
  return `From address@example.org\nFrom: address@example.org\nSubject: ${subject}\n\n${body}\n\n`
}

beforeAll(async () => {
  dovecot = await startDovecot()
  alice = dovecot.users[0]!
  connectionOptions = JSON.stringify({port: dovecot.port, ssl: false})
  await createFolder(dovecot, alice, 'stuff-to-backup')
  await appendMessages(dovecot, alice, 'stuff-to-backup', [{raw: specMessage('Test 1', 'body 1\nHi')}, {raw: specMessage('Test 2', 'body 2')}])
  await createFolder(dovecot, alice, 'Foo')
  await appendMessages(dovecot, alice, 'Foo', [{raw: specMessage('Foo', 'foo')}])
})

afterAll(async () => {
  await dovecot?.stop()
})

async function passwordFile(home: string, mode = 0o600): Promise<string> {
  const path = join(home, 'imap-password')
  await writeFile(path, `${alice.password}\n`, {mode})
  return path
}

function baseArgs(path: string, ...more: string[]): string[] {
  return ['single', 'backup', '--email', alice.user, '--server', dovecot.host, '--path', path, '--connection-options', connectionOptions, ...more]
}

describe('mailkeep single backup', () => {
  it('with --password-file and --connection-options downloads the folder (compat 107)', async () => {
    const home = await makeHome()
    const path = join(home, 'backup')
    const result = await mailkeep(home, [...baseArgs(path, '--password-file', await passwordFile(home)), '--folder', 'stuff-to-backup'])
    expect(result.code, show(result)).toBe(0)
    expect(result.stdout).toMatch(/^alice@example\.test: ok/m)
    expect(result.stdout).toMatch(/^ {2}stuff-to-backup +2 new/m)
    const mbox = await readFile(folderFiles(path, 'stuff-to-backup').mbox, 'utf8')
    expect(mbox).toBe(specEntry('Test 1', 'body 1\nHi') + specEntry('Test 2', 'body 2'))
    expect(await listTree(path)).not.toContain('Foo.imap')
    await expectBackupEqualsServer(dovecot, alice, path, ['stuff-to-backup'])
  })

  it('--mirror removes the local copy of a folder that is not selected (compat 108, 109)', async () => {
    const home = await makeHome()
    const path = join(home, 'backup')
    const password = ['-W', await passwordFile(home)]
    const first = await mailkeep(home, [...baseArgs(path, ...password), '-F', 'Foo'])
    expect(first.code, show(first)).toBe(0)
    expect(existsSync(folderFiles(path, 'Foo').imap)).toBe(true)

    const mirror = await mailkeep(home, [...baseArgs(path, ...password), '-F', 'stuff-to-backup', '--mirror'])
    expect(mirror.code, show(mirror)).toBe(0)
    expect(existsSync(folderFiles(path, 'Foo').imap)).toBe(false)
    expect(existsSync(folderFiles(path, 'Foo').mbox)).toBe(false)
    expect(mirror.stdout).toMatch(/^ {2}Foo +removed/m)
    await expectBackupEqualsServer(dovecot, alice, path, ['stuff-to-backup'])
  })

  it('takes the password from an environment variable, the default path from the email, and the strategy', async () => {
    const home = await makeHome()
    const result = await mailkeep(
      home,
      ['single', 'backup', '-e', alice.user, '-s', dovecot.host, '-o', connectionOptions, '-w', 'TEST_IMAP_PASSWORD', '-F', 'stuff-to-backup', '-S', 'direct', '-n', '1'],
      {cwd: home, env: {TEST_IMAP_PASSWORD: alice.password}},
    )
    expect(result.code, show(result)).toBe(0)
    await expectBackupEqualsServer(dovecot, alice, join(home, 'alice_example.test'), ['stuff-to-backup'])
  })

  it('with --password on the command line never shows it, not even with --verbose', async () => {
    const home = await makeHome()
    const path = join(home, 'backup')
    const result = await mailkeep(home, [...baseArgs(path, '-p', alice.password, '--verbose'), '-F', 'stuff-to-backup'])
    expect(result.code, show(result)).toBe(0)
    expect(result.stdout + result.stderr).not.toContain(alice.password)
    await expectBackupEqualsServer(dovecot, alice, path, ['stuff-to-backup'])
  })

  it('blacklists the --folder list with --folder-blacklist', async () => {
    const home = await makeHome()
    const path = join(home, 'backup')
    const result = await mailkeep(home, [...baseArgs(path, '-W', await passwordFile(home)), '-F', 'stuff-to-backup', '-F', 'INBOX', '-b'])
    expect(result.code, show(result)).toBe(0)
    const files = await listTree(path)
    expect(files).toContain('Foo.imap')
    expect(files).not.toContain('stuff-to-backup.imap')
  })

  it.each([
    [[], 'Supply one of the --password... parameters'],
    [['-p', 'x-secret-1', '-w', 'SOME_VAR'], 'Supply only one of the --password... parameters'],
  ])('needs exactly one password option (%j)', async (password, message) => {
    const home = await makeHome()
    const path = join(home, 'backup')
    const result = await mailkeep(home, baseArgs(path, ...password))
    expect(result.code, show(result)).toBe(2)
    expect(result.stderr).toContain(message)
    expect(existsSync(path)).toBe(false)
  })

  it('refuses an unset password variable, a password file readable by others and bad JSON', async () => {
    const home = await makeHome()
    const path = join(home, 'backup')
    const unset = await mailkeep(home, baseArgs(path, '-w', 'NO_SUCH_VARIABLE_9F2'), {env: {NO_SUCH_VARIABLE_9F2: undefined}})
    expect(unset.code, show(unset)).toBe(2)
    expect(unset.stderr).toContain('NO_SUCH_VARIABLE_9F2')

    const loose = await passwordFile(home, 0o644)
    const looseResult = await mailkeep(home, baseArgs(path, '-W', loose))
    expect(looseResult.code, show(looseResult)).toBe(3)
    expect(looseResult.stderr).toContain(`chmod 600 '${loose}'`)

    const badJson = await mailkeep(home, ['single', 'backup', '-e', alice.user, '-s', dovecot.host, '-P', path, '-W', await passwordFile(home), '-o', '{port: 1'])
    expect(badJson.code, show(badJson)).toBe(3)
    expect(badJson.stderr).toContain('--connection-options')
    expect(badJson.stderr).not.toContain('<command line>')
    expect(existsSync(path)).toBe(false)
  })

  it('exits 111 on a wrong password', async () => {
    const home = await makeHome()
    const path = join(home, 'backup')
    const result = await mailkeep(home, baseArgs(path, '-p', 'wrong-Pw-77aa01'))
    expect(result.code, show(result)).toBe(111)
    expect(result.stdout + result.stderr).not.toContain('wrong-Pw-77aa01')
  })
})

describe('secrets', () => {
  it('never printed a password', () => {
    const output = allOutput()
    expect(output.length).toBeGreaterThan(0)
    for (const user of dovecot.users) expect(output).not.toContain(user.password)
    for (const other of ['wrong-Pw-77aa01', 'x-secret-1']) expect(output).not.toContain(other)
  })
})
