/**
 * No secret in any output: a realistic set of CLI runs with distinctive passwords and OAuth2
 * tokens (every password source, success and failure, `--verbose --log-format json`, `--json`,
 * the remote commands, stats, config errors next to a password, `single backup --password`),
 * then a scan of everything they printed, and of every file they left under HOME, for each
 * secret as written, JSON-escaped, and base64-encoded as in an AUTHENTICATE line (SASL PLAIN
 * `\0user\0password`, XOAUTH2, OAUTHBEARER). The same transcript is also fed to
 * scripts/scan-secrets.mjs. CI (.ci/run) runs that script too, but over two things only: vitest's
 * console output, and the transcripts test/support/cli.ts appends every CLI run's stdout and
 * stderr to when MAILKEEP_TEST_TRANSCRIPTS is set. Output captured any other way (the setup
 * tests' pseudo-terminal, in-process loggers) is only checked where its own test scans it.
 */
import {spawnSync} from 'node:child_process'
import {chmod, mkdir, readFile, readdir, writeFile} from 'node:fs/promises'
import {join, relative} from 'node:path'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {DEFAULT_USERS, type TestUser} from '../support/dovecot.js'
import {REPO_ROOT} from '../support/cli.js'
import {seedFolder} from '../support/mail-seed.js'
import {makeTempDir, removeTempDir} from '../support/temp-dir.js'
import {allOutput, defaultConfigPath, mailkeep, show, writeConfig} from '../cli/helpers.js'
import {startOAuthDovecot, tokenCommand, writeToken, type OAuthServer} from '../auth/oauth-server.js'
import {ENV_PASSWORD, FAILING_COMMAND_OUTPUT, SINGLE_PASSWORD, TEST_SECRETS, TOKEN_EXPIRED, TOKEN_VALID, WRONG_PASSWORD} from './test-secrets.js'

// Each test runs the CLI several times (a Node start each, seconds on a loaded machine).
vi.setConfig({testTimeout: 240_000})

let server: OAuthServer
let home: string
let alice: TestUser
let bob: TestUser
let carol: TestUser
let dave: TestUser
let erin: TestUser
let frank: TestUser
/** Files under HOME that hold secrets on purpose (config, password file, token files). */
const secretFiles = new Set<string>()
const env = {MAILKEEP_TEST_PASSWORD: ENV_PASSWORD}

beforeAll(async () => {
  server = await startOAuthDovecot({
    users: [...DEFAULT_USERS, {user: 'erin@example.test', password: SINGLE_PASSWORD}, {user: 'frank@example.test', password: ENV_PASSWORD}],
    tokens: {[DEFAULT_USERS[1]!.user]: TOKEN_VALID, [DEFAULT_USERS[2]!.user]: TOKEN_VALID},
  })
  ;[alice, bob, carol, dave, erin, frank] = server.dovecot.users as [TestUser, TestUser, TestUser, TestUser, TestUser, TestUser]
  for (const user of [alice, bob, carol, dave, erin, frank]) await seedFolder(server.dovecot, user, 'INBOX', 3)

  // One HOME for the whole file, so that the scan at the end sees everything left in it.
  home = await makeTempDir('mailkeep-secrets-home-')
  const passwordFile = join(home, 'dave.password')
  await writeFile(passwordFile, `${dave.password}\n`, {mode: 0o600})
  await chmod(passwordFile, 0o600)
  secretFiles.add(passwordFile)
  const tokens = join(home, 'tokens')
  await mkdir(tokens, {mode: 0o700})
  await writeToken(tokens, 'first-token', TOKEN_EXPIRED) // the first login of bob is refused once
  await writeToken(tokens, 'token', TOKEN_VALID)
  for (const name of ['first-token', 'token', 'calls']) secretFiles.add(join(tokens, name))
  const connection = {server: server.dovecot.host, connection_options: {port: server.dovecot.port, ssl: false}}
  const account = (user: TestUser, source: Record<string, unknown>): Record<string, unknown> => ({username: user.user, ...source, local_path: join(home, 'backup', user.user), ...connection})
  const config = await writeConfig(defaultConfigPath(home), {
    version: '2.2',
    accounts: [
      account(alice, {password: alice.password}),
      account(bob, {oauth2_token_command: await tokenCommand(tokens)}),
      account(carol, {oauth2_token_command: `cat '${join(tokens, 'token')}'`, auth_mechanism: 'oauthbearer'}),
      account(dave, {password_file: passwordFile}),
      account(frank, {password_env: 'MAILKEEP_TEST_PASSWORD'}),
    ],
  })
  secretFiles.add(config)
})

afterAll(async () => {
  await server?.stop()
  if (home !== undefined) await removeTempDir(home)
})

/** Runs the CLI in the shared HOME; its output goes to the transcript (test/cli/helpers.ts). */
async function run(args: string[], extraEnv: Record<string, string> = {}) {
  return mailkeep(home, args, {env: {...env, ...extraEnv}})
}

/** A config file beside the default one (registered as holding secrets). */
async function otherConfig(name: string, content: string): Promise<string> {
  const path = join(home, name)
  await writeFile(path, content, {mode: 0o600})
  await chmod(path, 0o600)
  secretFiles.add(path)
  return path
}

describe('a realistic session', () => {
  it('backup of every account (each password source, OAuth2 with a refused first token)', async () => {
    const result = await run(['backup'])
    expect(result.code, show(result)).toBe(0)
  })

  it('backup --verbose --log-format json, and --json', async () => {
    const verbose = await run(['backup', '--verbose', '--log-format', 'json'])
    expect(verbose.code, show(verbose)).toBe(0)
    expect(verbose.stderr).toMatch(/"level":"debug"/)
    const json = await run(['backup', '--json', '--verbose'])
    expect(json.code, show(json)).toBe(0)
  })

  it('backup with a wrong password, verbose and JSON', async () => {
    const config = await otherConfig(
      'wrong.json',
      JSON.stringify({version: '2.2', accounts: [{username: alice.user, password: WRONG_PASSWORD, local_path: join(home, 'wrong'), server: server.dovecot.host, connection_options: {port: server.dovecot.port, ssl: false}}]}),
    )
    for (const args of [['backup', '-c', config], ['backup', '-c', config, '--verbose', '--log-format', 'json'], ['backup', '-c', config, '--json']]) {
      const result = await run(args)
      expect(result.code, show(result)).toBe(111)
    }
  })

  it('a failing password_command that printed a secret first', async () => {
    const out = join(home, 'failing.out')
    await writeFile(out, `${FAILING_COMMAND_OUTPUT}\n`, {mode: 0o600})
    secretFiles.add(out)
    const config = await otherConfig(
      'failing.json',
      JSON.stringify({version: '2.2', accounts: [{username: alice.user, password_command: `cat '${out}'; exit 5`, local_path: join(home, 'failing'), server: server.dovecot.host, connection_options: {port: server.dovecot.port, ssl: false}}]}),
    )
    const result = await run(['backup', '-c', config, '--verbose'])
    expect(result.code, show(result)).toBe(3)
  })

  it('remote folders, capabilities and namespaces; stats; with passwords and tokens', async () => {
    for (const user of [alice, bob, carol, dave, frank]) {
      for (const args of [['remote', 'folders', user.user, '--verbose'], ['stats', user.user, '--json', '--verbose', '--log-format', 'json']]) {
        const result = await run(args)
        expect(result.code, show(result)).toBe(0)
      }
    }
    expect((await run(['remote', 'capabilities', alice.user, '--verbose'])).code).toBe(0)
    expect((await run(['remote', 'namespaces', carol.user, '--json', '--verbose'])).code).toBe(0)
    expect((await run(['utils', 'ignore-history', frank.user, '--verbose'])).code).toBe(0)
  })

  it('config errors next to the password: a bad value, an unknown key, broken JSON', async () => {
    const base = {username: alice.user, password: alice.password, local_path: join(home, 'bad'), server: server.dovecot.host}
    const badValue = await otherConfig('bad-value.json', JSON.stringify({version: '2.2', accounts: [{...base, mirror_mode: 'false'}]}, null, 2))
    const unknownKey = await otherConfig('unknown-key.json', JSON.stringify({version: '2.2', accounts: [{...base, pasword: alice.password}]}, null, 2))
    // A missing comma right after the password: the parser stops on that line.
    const broken = await otherConfig('broken.json', `{"version": "2.2", "accounts": [{"username": "${alice.user}", "password": "${alice.password}" "local_path": "/x"}]}\n`)
    // A password of the wrong type: its value must not be quoted back.
    const wrongType = await otherConfig('wrong-type.json', JSON.stringify({version: '2.2', accounts: [{...base, password: [alice.password]}]}))
    for (const config of [badValue, unknownKey, broken, wrongType]) {
      for (const command of [['backup', '--json'], ['remote', 'folders', alice.user]]) {
        const result = await run([...command, '-c', config, '--verbose'])
        expect(result.code, show(result)).toBe(3)
      }
    }
  })

  it('single backup --password (and -p, --password=), good and bad', async () => {
    const connection = JSON.stringify({port: server.dovecot.port, ssl: false})
    const base = ['single', 'backup', '--email', erin.user, '--server', server.dovecot.host, '--path', join(home, 'single'), '--connection-options', connection]
    const good = await run([...base, '--password', SINGLE_PASSWORD, '--verbose', '--log-format', 'json'])
    expect(good.code, show(good)).toBe(0)
    const short = await run([...base, `-p${SINGLE_PASSWORD}`, '--json'])
    expect(short.code, show(short)).toBe(0)
    const wrong = await run([...base, `--password=${WRONG_PASSWORD}`, '--verbose'])
    expect(wrong.code, show(wrong)).toBe(111)
    // Usage errors after the password was given.
    const twice = await run([...base, '--password', SINGLE_PASSWORD, '--password-environment-variable', 'MAILKEEP_TEST_PASSWORD'])
    expect(twice.code, show(twice)).toBe(2)
    const unknownFlag = await run([...base, '--password', SINGLE_PASSWORD, '--no-such-flag'])
    expect(unknownFlag.code, show(unknownFlag)).toBe(2)
  })
})

describe('the scan', () => {
  /** Each secret with the forms it could leak in. */
  function needles(): Array<{what: string; text: string}> {
    const out: Array<{what: string; text: string}> = []
    const add = (what: string, value: string): void => {
      out.push({what, text: value}, {what: `${what}, JSON-escaped`, text: JSON.stringify(value).slice(1, -1)})
      out.push({what: `${what}, base64`, text: Buffer.from(value).toString('base64')})
    }
    for (const user of server.dovecot.users) {
      add(`password of ${user.user}`, user.password)
      // AUTHENTICATE PLAIN's initial response (RFC 4616), as a trace would show it.
      out.push({what: `PLAIN response of ${user.user}`, text: Buffer.from(`\0${user.user}\0${user.password}`).toString('base64')})
    }
    for (const s of TEST_SECRETS) add(s.label, s.value)
    for (const user of [bob, carol]) {
      for (const token of [TOKEN_VALID, TOKEN_EXPIRED]) out.push({what: `XOAUTH2 response of ${user.user}`, text: Buffer.from(`user=${user.user}\x01auth=Bearer ${token}\x01\x01`).toString('base64')})
    }
    return out
  }

  it('finds no secret in anything the CLI printed', () => {
    const output = allOutput()
    expect(output.length).toBeGreaterThan(10_000) // the runs above really printed something
    for (const needle of needles()) expect(output.includes(needle.text), `${needle.what} in the output`).toBe(false)
  })

  it('finds none in the files the runs left under HOME (backups, locks, any log)', async () => {
    const files: string[] = []
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, {withFileTypes: true})) {
        const path = join(dir, entry.name)
        if (entry.isDirectory()) await walk(path)
        else if (!secretFiles.has(path) && entry.name !== 'token.sh') files.push(path)
      }
    }
    await walk(home)
    expect(files.length).toBeGreaterThan(10)
    for (const file of files) {
      const text = await readFile(file, 'latin1')
      for (const needle of needles()) expect(text.includes(needle.text), `${needle.what} in ${relative(home, file)}`).toBe(false)
    }
  })

  it('scripts/scan-secrets.mjs agrees: no hit in the transcript', async () => {
    const dir = await makeTempDir('mailkeep-scan-')
    try {
      const transcript = join(dir, 'transcript.txt')
      await writeFile(transcript, allOutput())
      const scan = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'scan-secrets.mjs'), transcript], {encoding: 'utf8'})
      expect(scan.status, scan.stdout + scan.stderr).toBe(0)
      expect(scan.stdout).toMatch(/: no hits$/m)
    } finally {
      await removeTempDir(dir)
    }
  })
})
