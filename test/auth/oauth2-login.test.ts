/**
 * mailkeep's own OAuth2 login end to end (docs/auth.md), against a real authorization server
 * (oidc-provider, authorization-server.ts) and a Dovecot whose oauth2 passdb asks that server
 * whether a token is active (introspecting-dovecot.ts). The test plays the user's browser.
 *
 * - `auth login` by the authorization code flow with PKCE and a loopback redirect, and by the
 *   device flow; the refresh token lands in its own 0600 file, never in output;
 * - backups with the resulting login, with XOAUTH2 or OAUTHBEARER as the server offers;
 * - a token the server refuses in the middle of a run (revoked): one refresh, the run completes;
 * - a revoked login: exit 111 and one line naming `mailkeep auth login EMAIL`;
 * - a client id the server does not know; an authorization server that is down;
 * - no token, no client secret in anything printed.
 *
 * The short-lifetime case (a backup of thousands of messages outliving several tokens) is in
 * oauth2-expiry.test.ts.
 */
import {readFile, stat} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import type {BackupReport} from '../../src/engine/backup/types.js'
import {DEFAULT_USERS, type TestUser} from '../support/dovecot.js'
import {seedFolder} from '../support/mail-seed.js'
import {startProxy, type TcpProxy} from '../support/tcp-proxy.js'
import {allOutput, defaultConfigPath, expectBackupEqualsServer, mailkeep, makeHome, show, spawnMailkeep, writeConfig} from '../cli/helpers.js'
import {CONFIDENTIAL_CLIENT_ID, IMAP_SCOPE, PUBLIC_CLIENT_ID, startAuthorizationServer, type AuthorizationServer} from './authorization-server.js'
import {playBrowser} from './browser.js'
import {startIntrospectingDovecot, type IntrospectingDovecot} from './introspecting-dovecot.js'

// Each test runs the CLI several times (a Node start each, seconds on a loaded machine).
vi.setConfig({testTimeout: 240_000})

let as: AuthorizationServer
let imap: IntrospectingDovecot
let proxy: TcpProxy
let alice: TestUser
let bob: TestUser
let carol: TestUser

beforeAll(async () => {
  as = await startAuthorizationServer()
  imap = await startIntrospectingDovecot(as, {users: DEFAULT_USERS})
  ;[alice, bob, carol] = imap.dovecot.users as [TestUser, TestUser, TestUser]
  proxy = await startProxy({targetPort: imap.dovecot.port})
  await seedFolder(imap.dovecot, alice, 'INBOX', 5)
  await seedFolder(imap.dovecot, bob, 'INBOX', 4)
  await seedFolder(imap.dovecot, carol, 'INBOX', 200)
})

afterAll(async () => {
  await proxy?.close()
  await imap?.stop()
  await as?.stop()
})

interface Account {
  home: string
  root: string
  user: TestUser
  tokenFile: string
}

/** A HOME with a config holding `user` as a generic-provider OAuth2 account of the test server. */
async function oauthAccount(user: TestUser, options: {clientId?: string; clientSecret?: string; port?: number; extra?: Record<string, unknown>} = {}): Promise<Account> {
  const home = await makeHome()
  const root = join(home, 'backup')
  const oauth2: Record<string, unknown> = {provider: 'generic', issuer: as.issuer, client_id: options.clientId ?? PUBLIC_CLIENT_ID, scope: IMAP_SCOPE}
  if (options.clientSecret !== undefined) oauth2['client_secret'] = options.clientSecret
  const account = {
    username: user.user,
    oauth2,
    local_path: root,
    server: imap.dovecot.host,
    connection_options: {port: options.port ?? imap.dovecot.port, ssl: false},
    folders: ['INBOX'],
    ...options.extra,
  }
  await writeConfig(defaultConfigPath(home), {version: '2.2', accounts: [account]})
  return {home, root, user, tokenFile: join(home, '.mailkeep', 'oauth2', `${user.user}.json`)}
}

/** `auth login` by the browser flow: the test opens the printed URL and signs in as the user. */
async function loginByCode(a: Account, args: string[] = []): Promise<{code: number | null; stdout: string; stderr: string; browser: {status: number; body: string}}> {
  const cli = spawnMailkeep(a.home, ['auth', 'login', a.user.user, '--no-browser', ...args])
  const line = await cli.waitForLine('stderr', /^\s+http:\/\/127\.0\.0\.1:\d+\/auth\?/)
  const url = new URL(line.trim())
  const redirect = new URL(url.searchParams.get('redirect_uri')!)
  const browser = await playBrowser(url.href, {login: a.user.user, stopAtOrigin: redirect.origin})
  const result = await cli.exited
  return {...result, browser}
}

/** `auth login --device`: the test opens the verification URL "on another device" and types the code. */
async function loginByDevice(a: Account, args: string[] = []): Promise<{code: number | null; stdout: string; stderr: string}> {
  const cli = spawnMailkeep(a.home, ['auth', 'login', a.user.user, '--device', ...args])
  const intro = await cli.waitForLine('stderr', /^To log in to .* open (\S+) on any device/)
  const verification = /open (\S+) on any device/.exec(intro)![1]!
  const code = (await cli.waitForLine('stderr', /^\s+[A-Z]{4}-[A-Z]{4}$/)).trim()
  const page = await playBrowser(verification, {login: a.user.user, userCode: code})
  expect(page.body, 'the device flow ends on its success page').toMatch(/Sign-in Success/i)
  return cli.exited
}

async function storedRefreshToken(a: Account): Promise<string> {
  return (JSON.parse(await readFile(a.tokenFile, 'utf8')) as {refresh_token: string}).refresh_token
}

describe('auth login', () => {
  it('by the browser (code + PKCE, loopback redirect): the refresh token goes to a 0600 file; a backup then logs in with XOAUTH2', async () => {
    const a = await oauthAccount(alice)
    const login = await loginByCode(a, ['--json'])
    expect(login.code, show(login)).toBe(0)
    expect(login.browser.status).toBe(200)
    expect(login.browser.body).toContain('mailkeep: logged in')
    const result = JSON.parse(login.stdout) as Record<string, unknown>
    expect(result).toMatchObject({account: alice.user, provider: 'generic', flow: 'code', tokenFile: a.tokenFile, configSaved: false})
    expect(((await stat(a.tokenFile)).mode & 0o777).toString(8)).toBe('600')
    expect(((await stat(join(a.home, '.mailkeep', 'oauth2'))).mode & 0o777).toString(8)).toBe('700')
    const stored = JSON.parse(await readFile(a.tokenFile, 'utf8')) as Record<string, string>
    expect(stored).toMatchObject({version: 1, username: alice.user, client_id: PUBLIC_CLIENT_ID, flow: 'code'})
    expect(as.issuedSecrets.has(stored['refresh_token']!)).toBe(true)
    // The config holds no token.
    expect(await readFile(defaultConfigPath(a.home), 'utf8')).not.toContain(stored['refresh_token'])

    const before = await imap.logins('XOAUTH2')
    const refreshes = as.grants('refresh_token')
    const backup = await mailkeep(a.home, ['backup', '--json', '--verbose'])
    expect(backup.code, show(backup)).toBe(0)
    expect((JSON.parse(backup.stdout) as BackupReport).accounts[0]!.outcome).toBe('ok')
    await expectBackupEqualsServer(imap.dovecot, alice, a.root, ['INBOX'])
    // No auth_mechanism: the server offers both, XOAUTH2 is taken.
    expect(await imap.logins('XOAUTH2')).toBe(before + 1)
    expect(as.grants('refresh_token')).toBe(refreshes + 1)
    // The server rotated the refresh token; the new one was saved.
    expect(await storedRefreshToken(a)).not.toBe(stored['refresh_token'])

    const status = await mailkeep(a.home, ['auth', 'status', alice.user, '--json'])
    expect(status.code, show(status)).toBe(0)
    const [entry] = JSON.parse(status.stdout) as Array<Record<string, unknown>>
    expect(entry).toMatchObject({account: alice.user, method: 'oauth2', mechanism: 'auto', loggedIn: true, flow: 'code', tokenFile: a.tokenFile})
    expect(Date.parse(entry!['lastRefreshed'] as string)).toBeGreaterThanOrEqual(Date.parse(entry!['obtainedAt'] as string))
    const text = await mailkeep(a.home, ['auth', 'status'])
    expect(text.stdout).toMatch(/last refreshed: \d{4}-\d\d-\d\dT/)
  })

  it('by the device flow, with a client that has a secret: a backup then logs in with OAUTHBEARER as configured', async () => {
    const a = await oauthAccount(bob, {clientId: CONFIDENTIAL_CLIENT_ID, clientSecret: as.clientSecret, extra: {auth_mechanism: 'oauthbearer'}})
    const devices = as.grants('urn:ietf:params:oauth:grant-type:device_code')
    const login = await loginByDevice(a)
    expect(login.code, show(login)).toBe(0)
    expect(login.stdout).toContain(`Logged in: ${bob.user} (generic, device login)`)
    expect(as.grants('urn:ietf:params:oauth:grant-type:device_code')).toBe(devices + 1)
    const before = await imap.logins('OAUTHBEARER')
    const backup = await mailkeep(a.home, ['backup'])
    expect(backup.code, show(backup)).toBe(0)
    expect(await imap.logins('OAUTHBEARER')).toBe(before + 1)
    await expectBackupEqualsServer(imap.dovecot, bob, a.root, ['INBOX'])
  })

  it('Google needs the client secret as well: a usage error before anything is contacted or written', async () => {
    const home = await makeHome()
    const result = await mailkeep(home, ['auth', 'login', 'someone@gmail.com', '--client-id', 'x.apps.googleusercontent.com'])
    // Google needs the client secret too: refused before anything is contacted or written.
    expect(result.code, show(result)).toBe(2)
    expect(result.stderr).toContain('--client-secret')
    await expect(stat(defaultConfigPath(home))).rejects.toThrow()
  })

  it('the server refuses the access token in the middle of a run (revoked): one refresh, the run completes', async () => {
    const a = await oauthAccount(carol, {port: proxy.port, extra: {multi_fetch_size: 10}})
    expect((await loginByCode(a)).code).toBe(0)
    proxy.resetStats()
    let revoked = false
    const unsubscribe = proxy.onCommand((command) => {
      if (revoked || command.name !== 'UID FETCH' || !/BODY\.PEEK\[/i.test(command.line)) return
      revoked = true
      // Every access token issued so far is dead; the refresh token is still good. The link
      // breaks before this FETCH reaches the server, and the reconnect offers the cached token.
      proxy.stall(Number.POSITIVE_INFINITY)
      void as.revokeAccessTokens().then(() => {
        proxy.dropNow()
        proxy.resume()
      })
    })
    const refreshes = as.grants('refresh_token')
    const refusals = await imap.refusals()
    try {
      const result = await mailkeep(a.home, ['backup', '--json'])
      expect(result.code, show(result)).toBe(0)
      expect(revoked).toBe(true)
      expect((JSON.parse(result.stdout) as BackupReport).accounts[0]!.folders[0]).toMatchObject({folder: 'INBOX', outcome: 'ok', new: 200})
    } finally {
      unsubscribe()
    }
    expect(proxy.stats.connections).toBe(2)
    // At the start, and once more after the server refused the cached token at the reconnect.
    expect(as.grants('refresh_token')).toBe(refreshes + 2)
    expect(await imap.refusals()).toBe(refusals + 1)
    await expectBackupEqualsServer(imap.dovecot, carol, a.root, ['INBOX'])
  })

  it('a revoked login: exit 111 and one line naming mailkeep auth login EMAIL; nothing is downloaded', async () => {
    const a = await oauthAccount(alice)
    expect((await loginByCode(a)).code).toBe(0)
    await as.revoke(await storedRefreshToken(a))
    for (const args of [['backup'], ['remote', 'folders', alice.user]]) {
      const result = await mailkeep(a.home, args)
      expect(result.code, show(result)).toBe(111)
      const lines = result.stderr.trim().split('\n').filter((l) => !/ WARN /.test(l))
      expect(lines.filter((l) => l.includes(`mailkeep auth login ${alice.user}`)), show(result)).toHaveLength(1)
      expect(result.stderr).toContain('invalid_grant')
    }
    // Logging in again mends it.
    expect((await loginByCode(a)).code).toBe(0)
    expect((await mailkeep(a.home, ['backup'])).code).toBe(0)
  })

  it('a client id the server does not know: the device login fails at once (exit 3) naming the client id', async () => {
    const a = await oauthAccount(alice, {clientId: 'mailkeep-no-such-client'})
    const result = await mailkeep(a.home, ['auth', 'login', alice.user, '--device'])
    expect(result.code, show(result)).toBe(3)
    expect(result.stderr).toMatch(/does not accept the client id 'mailkeep-no-such-client'.*invalid_client/)
    await expect(stat(a.tokenFile)).rejects.toThrow()
  })

  it('a client id the server does not know: the browser shows the server\'s error and the login gives up after --timeout', async () => {
    const a = await oauthAccount(alice, {clientId: 'mailkeep-no-such-client'})
    const cli = spawnMailkeep(a.home, ['auth', 'login', alice.user, '--no-browser', '--timeout', '3'])
    const url = (await cli.waitForLine('stderr', /^\s+http:\/\/127\.0\.0\.1:\d+\/auth\?/)).trim()
    const page = await playBrowser(url, {login: alice.user})
    expect(page.status).toBe(400)
    expect(page.body).toMatch(/invalid_client/)
    const result = await cli.exited
    expect(result.code, show(result)).toBe(111)
    expect(result.stderr).toContain('no login came back from the browser within 3 s')
  })

  it('the user denies access in the browser: exit 111 with the server\'s answer', async () => {
    const a = await oauthAccount(bob)
    const cli = spawnMailkeep(a.home, ['auth', 'login', bob.user, '--no-browser'])
    const url = new URL((await cli.waitForLine('stderr', /^\s+http:\/\/127\.0\.0\.1:\d+\/auth\?/)).trim())
    const page = await playBrowser(url.href, {login: bob.user, deny: true, stopAtOrigin: new URL(url.searchParams.get('redirect_uri')!).origin})
    expect(page.body).toContain('login failed')
    const result = await cli.exited
    expect(result.code, show(result)).toBe(111)
    expect(result.stderr).toContain('access_denied')
  })

  it('an authorization server that is down: exit 111 naming it, for a backup and for a login', async () => {
    const a = await oauthAccount(bob)
    expect((await loginByCode(a)).code).toBe(0)
    await as.stop()
    try {
      const backup = await mailkeep(a.home, ['backup'])
      expect(backup.code, show(backup)).toBe(111)
      expect(backup.stderr).toContain(`cannot reach the OAuth2 authorization server ${as.issuer}: connection refused`)
      const login = await mailkeep(a.home, ['auth', 'login', bob.user, '--device'])
      expect(login.code, show(login)).toBe(111)
      expect(login.stderr).toContain('connection refused')
    } finally {
      await as.start()
    }
    // The stored login survived the outage.
    expect((await mailkeep(a.home, ['backup'])).code).toBe(0)
  })
})

describe('output', () => {
  it('never shows a token or a client secret', () => {
    const output = allOutput()
    expect(as.issuedSecrets.size).toBeGreaterThan(10)
    for (const secret of as.issuedSecrets) {
      expect(output.includes(secret), 'a token or client secret in the output').toBe(false)
      expect(output.includes(Buffer.from(secret).toString('base64').slice(0, 16)), 'a base64 token in the output').toBe(false)
    }
  })
})
