/**
 * OAuth2 end to end (docs/auth.md): `oauth2_token_command` with SASL XOAUTH2 and OAUTHBEARER
 * (RFC 7628) against a Dovecot that checks bearer tokens (oauth-server.ts). The token command
 * runs again whenever the server rejects the token: at the first login (an expired token) and
 * at a reconnect in the middle of a run (the token was rotated meanwhile).
 */
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import type {BackupReport} from '../../src/engine/backup/types.js'
import {DEFAULT_USERS, type TestUser} from '../support/dovecot.js'
import {seedFolder} from '../support/mail-seed.js'
import {startProxy, type TcpProxy} from '../support/tcp-proxy.js'
import {allOutput, defaultConfigPath, expectBackupEqualsServer, mailkeep, makeHome, show, writeConfig} from '../cli/helpers.js'
import {TEST_SECRETS, TOKEN_EXPIRED, TOKEN_ROTATED, TOKEN_VALID} from '../secrets/test-secrets.js'
import {startOAuthDovecot, tokenCalls, tokenCommand, writeToken, writeTokenSync, type OAuthServer} from './oauth-server.js'

// Each test runs the CLI several times (a Node start each, seconds on a loaded machine).
vi.setConfig({testTimeout: 240_000})

let server: OAuthServer
let proxy: TcpProxy
let alice: TestUser
let bob: TestUser
let carol: TestUser

beforeAll(async () => {
  const [a, b, c] = DEFAULT_USERS as unknown as [TestUser, TestUser, TestUser]
  // Every token the tests use is in place before Dovecot starts (see setTokensSync()).
  server = await startOAuthDovecot({tokens: {[a.user]: TOKEN_VALID, [b.user]: TOKEN_VALID, [c.user]: TOKEN_VALID}})
  ;[alice, bob, carol] = server.dovecot.users as [TestUser, TestUser, TestUser]
  proxy = await startProxy({targetPort: server.dovecot.port})
  await seedFolder(server.dovecot, alice, 'INBOX', 4)
  await seedFolder(server.dovecot, bob, 'INBOX', 3)
  await seedFolder(server.dovecot, carol, 'INBOX', 120)
})

afterAll(async () => {
  await proxy?.close()
  await server?.stop()
})

type Mechanism = 'xoauth2' | 'oauthbearer'

interface Setup {
  home: string
  root: string
}

async function setup(user: TestUser, mechanism: Mechanism | undefined, options: {port?: number; extra?: Record<string, unknown>} = {}): Promise<Setup> {
  const home = await makeHome()
  const root = join(home, 'backup')
  const account = {
    username: user.user,
    oauth2_token_command: await tokenCommand(home),
    ...(mechanism === undefined ? {} : {auth_mechanism: mechanism}),
    local_path: root,
    server: server.dovecot.host,
    connection_options: {port: options.port ?? server.dovecot.port, ssl: false},
    folders: ['INBOX'],
    ...options.extra,
  }
  await writeConfig(defaultConfigPath(home), {version: '2.2', accounts: [account]})
  return {home, root}
}

const SASL: Record<Mechanism, 'XOAUTH2' | 'OAUTHBEARER'> = {xoauth2: 'XOAUTH2', oauthbearer: 'OAUTHBEARER'}

describe('oauth2_token_command', () => {
  for (const mechanism of ['xoauth2', 'oauthbearer'] as const) {
    it(`${SASL[mechanism]}: backs up with the token the command prints`, async () => {
      const s = await setup(alice, mechanism === 'xoauth2' ? undefined : mechanism) // xoauth2 is the default
      await writeToken(s.home, 'token', TOKEN_VALID)
      const before = await server.logins(SASL[mechanism])
      const result = await mailkeep(s.home, ['backup', '--json'])
      expect(result.code, show(result)).toBe(0)
      expect((JSON.parse(result.stdout) as BackupReport).accounts[0]!.outcome).toBe('ok')
      await expectBackupEqualsServer(server.dovecot, alice, s.root, ['INBOX'])
      expect(await tokenCalls(s.home)).toBe(1)
      expect(await server.logins(SASL[mechanism])).toBe(before + 1)
    })

    it(`${SASL[mechanism]}: an expired token is rejected, the command runs again, the run succeeds`, async () => {
      const s = await setup(bob, mechanism)
      await writeToken(s.home, 'first-token', TOKEN_EXPIRED)
      await writeToken(s.home, 'token', TOKEN_VALID)
      const result = await mailkeep(s.home, ['backup'])
      expect(result.code, show(result)).toBe(0)
      expect(await tokenCalls(s.home)).toBe(2)
      await expectBackupEqualsServer(server.dovecot, bob, s.root, ['INBOX'])
    })
  }

  it('a token rejected at a reconnect mid-run (rotated meanwhile) is fetched again and the run completes', async () => {
    const s = await setup(carol, 'xoauth2', {port: proxy.port, extra: {multi_fetch_size: 5}})
    await writeToken(s.home, 'token', TOKEN_VALID)
    proxy.resetStats()
    let rotated = false
    const unsubscribe = proxy.onCommand((command) => {
      if (rotated || command.name !== 'UID FETCH' || !/BODY\.PEEK\[/i.test(command.line)) return
      rotated = true
      // The provider rotates the token: the old one is refused from now on, the command prints
      // the new one. Then the link breaks before this FETCH reaches the server.
      server.setTokensSync({[carol.user]: TOKEN_ROTATED})
      writeTokenSync(s.home, 'token', TOKEN_ROTATED)
      // Dovecot looks at a passwd-file again only in a later second than its last lookup, so
      // the link is held (nothing forwarded) for a while before it breaks; the reconnect then
      // certainly meets the rotated token.
      proxy.stall(Number.POSITIVE_INFINITY)
      setTimeout(() => {
        proxy.dropNow()
        proxy.resume()
      }, 1200)
    })
    const before = await server.logins('XOAUTH2')
    try {
      const result = await mailkeep(s.home, ['backup', '--json'])
      expect(result.code, show(result)).toBe(0)
      expect(rotated).toBe(true)
      const report = JSON.parse(result.stdout) as BackupReport
      expect(report.accounts[0]!.folders[0]).toMatchObject({folder: 'INBOX', outcome: 'ok', new: 120})
    } finally {
      unsubscribe()
    }
    expect(proxy.stats.connections).toBe(2)
    // First run at the start, second when the reconnect's cached token was refused.
    expect(await tokenCalls(s.home)).toBe(2)
    expect(await server.logins('XOAUTH2')).toBe(before + 2)
    await expectBackupEqualsServer(server.dovecot, carol, s.root, ['INBOX'])
  })

  it('a token the server keeps refusing: exit 111 after one fresh token, no token in the output', async () => {
    const s = await setup(alice, 'oauthbearer')
    await writeToken(s.home, 'token', TOKEN_EXPIRED)
    const result = await mailkeep(s.home, ['backup'])
    expect(result.code, show(result)).toBe(111)
    expect(result.stdout + result.stderr).toContain(alice.user)
    expect(await tokenCalls(s.home)).toBe(2)
    const remote = await mailkeep(s.home, ['remote', 'folders', alice.user])
    expect(remote.code, show(remote)).toBe(111)
    expect(remote.stderr).toMatch(/^mailkeep: error: /)
  })

  it('a failing token command: exit 3 naming the account and oauth2_token_command', async () => {
    const s = await setup(alice, undefined)
    // No token file: `cat` fails, and so does the command.
    const result = await mailkeep(s.home, ['remote', 'capabilities', alice.user])
    expect(result.code, show(result)).toBe(3)
    expect(result.stderr).toContain(`The oauth2_token_command of account '${alice.user}' failed with exit status 1`)
  })

  it('remote commands log in with the token too', async () => {
    const s = await setup(alice, 'oauthbearer')
    await writeToken(s.home, 'token', TOKEN_VALID)
    const result = await mailkeep(s.home, ['remote', 'namespaces', alice.user, '--json'])
    expect(result.code, show(result)).toBe(0)
    expect(result.stdout).toBe('{"personal":{"prefix":"","delim":"/"},"other":null,"shared":null}\n')
  })

  it('a token is not a password: LOGIN with it is refused', async () => {
    const home = await makeHome()
    const account = {username: alice.user, password: TOKEN_VALID, local_path: join(home, 'b'), server: server.dovecot.host, connection_options: {port: server.dovecot.port, ssl: false}}
    await writeConfig(defaultConfigPath(home), {version: '2.2', accounts: [account]})
    const result = await mailkeep(home, ['remote', 'folders', alice.user])
    expect(result.code, show(result)).toBe(111)
  })
})

describe('output', () => {
  it('never shows a token or a password', () => {
    const output = allOutput()
    for (const user of server.dovecot.users) expect(output.includes(user.password), `password of ${user.user} in the output`).toBe(false)
    for (const s of TEST_SECRETS) expect(output.includes(s.value), `${s.label} in the output`).toBe(false)
  })
})
