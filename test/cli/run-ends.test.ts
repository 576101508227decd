/**
 * Every run ends (issue 11, items 13–15), end to end with the built CLI:
 *
 * - a password_command that leaves a background process holding its stdout (item 13): the run
 *   goes on at once and that process is ended (before: 120 s, then a wait for the process);
 * - a wrong port (an SSH server there; item 15): exit 111 within the connect timeout, with a
 *   message that says what answered, also under --quiet (before: about 3½ minutes of retries,
 *   "Maybe should use TLS?");
 * - a server that trickles bytes or sends endless untagged lines (item 14): the inactivity timeout
 *   counts progress, not bytes; `--max-duration` stops a run at a savepoint with exit 4, and the
 *   next run continues.
 */
import {existsSync} from 'node:fs'
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startDovecot, type DovecotInstance, type TestUser} from '../support/dovecot.js'
import {isRunning} from '../support/processes.js'
import {SSH_BANNER, startListener, type Listener} from '../support/listeners.js'
import {listUids, seedFolder, serverAt} from '../support/mail-seed.js'
import {startProxy, type TcpProxy} from '../support/tcp-proxy.js'
import type {BackupReport} from '../../src/engine/backup/types.js'
import {folder as modelFolder, MODEL_PASSWORD, startModelServer, type ModelServer} from '../reliability/lib/model-server.js'
import {accountEntry, defaultConfigPath, expectAtSavepoint, expectBackupEqualsServer, folderFiles, mailkeep, makeHome, show, writeConfig} from './helpers.js'

let dovecot: DovecotInstance
let alice: TestUser
let bob: TestUser
let carol: TestUser
/** About 10 KB each: at the proxy's throttle, a few per second. */
const SLOW_MESSAGES = 120

beforeAll(async () => {
  dovecot = await startDovecot({separator: '/'})
  ;[alice, bob, carol] = dovecot.users as [TestUser, TestUser, TestUser]
  await seedFolder(dovecot, alice, 'INBOX', 5)
  await seedFolder(dovecot, bob, 'INBOX', 3)
  await seedFolder(dovecot, carol, 'Big', SLOW_MESSAGES, (i) => Buffer.from(`Subject: slow ${i}\r\nMessage-ID: <slow-${i}@example.test>\r\n\r\n${'0123456789abcdef'.repeat(600)}\r\n`))
  await seedFolder(dovecot, carol, 'INBOX', 2)
})

afterAll(async () => {
  await dovecot?.stop()
})


describe('a password_command that leaves a background process holding its output (item 13)', () => {
  it('the backup runs at once and that process is ended', async () => {
    const home = await makeHome()
    const root = join(home, 'backup')
    const pidFile = join(home, 'bg.pid')
    // The password file is 0600; the command prints it and leaves `sleep` holding stdout.
    const entry = accountEntry(dovecot, alice, root, {password: undefined, password_command: `cat '${join(home, 'pw')}'; sleep 300 & echo $! > '${pidFile}'`})
    await writeFile(join(home, 'pw'), `${alice.password}\n`, {mode: 0o600})
    await writeConfig(defaultConfigPath(home), {version: '2.2', accounts: [entry]})
    // Before: the password was "not ready" until the 120 s timeout, and the process then waited
    // for `sleep` to end; the CLI runner's 60 s limit fails that.
    const result = await mailkeep(home, ['backup'], {timeoutMs: 60_000})
    expect(result.code, show(result)).toBe(0)
    await expectBackupEqualsServer(dovecot, alice, root, ['INBOX'])
    const pid = Number(await readFile(pidFile, 'utf8'))
    await expect.poll(() => isRunning(pid), {timeout: 10_000}).toBe(false)
  })
})

describe('a wrong port (item 15)', () => {
  let ssh: Listener

  beforeAll(async () => {
    ssh = await startListener(SSH_BANNER)
  })
  afterAll(async () => {
    await ssh?.close()
  })

  it.each([
    ['plain', {ssl: false}],
    ['TLS', {}],
  ])('an SSH server, %s configured: exit 111 within the default connect timeout, saying so, under --quiet too', async (_what, security) => {
    const home = await makeHome()
    await writeConfig(defaultConfigPath(home), {
      version: '2.2',
      accounts: [accountEntry(dovecot, bob, join(home, 'backup'), {connection_options: {port: ssh.port, ...security}})],
    })
    // Before: six attempts of 30 s each plus the backoff between them (about 3½ minutes).
    const result = await mailkeep(home, ['backup', '--quiet'], {timeoutMs: 60_000})
    expect(result.code, show(result)).toBe(111)
    const all = result.stdout + result.stderr
    expect(all).toContain(`cannot connect to 127.0.0.1:${ssh.port}: the server there is not an IMAP server (an SSH server): it sent '${SSH_BANNER}'`)
    expect(all).not.toMatch(/Maybe should use TLS|retrying/)
  })
})

describe('no overall deadline, a server that makes no progress (item 14)', () => {
  let model: ModelServer
  const timers = new Set<NodeJS.Timeout>()
  const raw = Buffer.from('From: a@example.test\r\nSubject: kept\r\n\r\nbody\r\n')

  beforeAll(async () => {
    model = await startModelServer([modelFolder('INBOX', 42, [{uid: 1, flags: [], raw}])])
  })
  afterAll(async () => {
    for (const t of timers) clearInterval(t)
    await model?.close()
  })

  it.each([
    ['trickles a message one byte at a time', (c: {send(d: string): void}) => {
      c.send(`* 1 FETCH (UID 1 FLAGS () RFC822.SIZE 100000 BODY[] {100000}\r\n`)
      return () => c.send('x')
    }],
    ['sends untagged status lines without end', (c: {send(d: string): void}) => () => c.send('* OK still searching\r\n')],
  ])('a server that %s on the first connection: cut off after the timeout, the folder is done on the next connection', async (_what, start) => {
    let armed = true // the first body FETCH of this run only
    model.hooks.before = (command, conn) => {
      if (!armed || command.name !== 'UID FETCH' || !/BODY/i.test(command.args)) return false
      armed = false
      const tick = start(conn)
      const timer = setInterval(() => (conn.socket.destroyed ? clearInterval(timer) : tick()), 100)
      timers.add(timer)
      return true
    }
    const home = await makeHome()
    const root = join(home, 'backup')
    await writeConfig(defaultConfigPath(home), {
      version: '2.2',
      accounts: [{username: 'model@example.test', password: MODEL_PASSWORD, local_path: root, server: model.host, connection_options: {port: model.port, ssl: false, timeout: 1}}],
    })
    // Before: every byte reset the inactivity timeout, and the run never ended.
    const result = await mailkeep(home, ['backup', '--json'], {timeoutMs: 60_000})
    model.hooks.before = undefined
    expect(result.code, show(result)).toBe(0)
    expect(result.stderr).toMatch(/no progress from 127\.0\.0\.1:\d+ for 1000 ms during UID FETCH/)
    expect(await expectAtSavepoint(root, 'INBOX')).toEqual([1])
  })
})

describe('--max-duration (item 14)', () => {
  let proxy: TcpProxy

  beforeAll(async () => {
    proxy = await startProxy({targetPort: dovecot.port})
  })
  afterAll(async () => {
    await proxy?.close()
  })

  it('stops at a savepoint when the time is up (exit 4), keeps what it saved, and the next run continues', async () => {
    const home = await makeHome()
    const root = join(home, 'backup', 'carol')
    const other = join(home, 'backup', 'alice')
    await writeConfig(defaultConfigPath(home), {
      version: '2.2',
      // Savepoints often, so that the stop finds one close by; a second account after it.
      savepoint_messages: 5,
      accounts: [accountEntry(serverAt(dovecot, proxy.port), carol, root, {folders: ['Big', 'INBOX']}), accountEntry(dovecot, alice, other)],
    })
    // About 20 KB/s: the folder's 1.2 MB would take about a minute.
    proxy.throttle(20_000)
    const started = Date.now()
    let result
    try {
      result = await mailkeep(home, ['backup', '--json', '--max-duration', '4s'], {timeoutMs: 120_000})
    } finally {
      proxy.throttle(null)
    }
    const took = Date.now() - started
    expect(result.code, show(result)).toBe(4)
    // It ended near its limit, not when the work was done (a loose bound: a loaded machine is slow
    // to start, but nowhere near the minute the folder needs).
    expect(took).toBeLessThan(40_000)
    const report = JSON.parse(result.stdout) as BackupReport
    const [first, second] = report.accounts
    const big = first!.folders.find((f) => f.folder === 'Big')!
    expect(big).toMatchObject({outcome: 'failed', error: {name: 'DeadlineError', exitCode: 4}})
    expect(big.error!.message).toBe('the run reached its maximum duration (--max-duration 4s) and stopped at a savepoint')
    expect(first!.folders.find((f) => f.folder === 'INBOX')).toMatchObject({outcome: 'failed', error: {name: 'NotAttempted', exitCode: 4}})
    expect(second).toMatchObject({account: alice.user, outcome: 'skipped', error: {exitCode: 4}})
    expect(existsSync(other)).toBe(false)
    // What it saved is committed (no journal, the mbox ends at the last entry) and counted.
    const kept = await expectAtSavepoint(root, 'Big')
    expect(kept.length).toBe(big.new)
    expect(kept.length).toBeGreaterThan(0)
    expect(kept.length).toBeLessThan(SLOW_MESSAGES)
    expect(existsSync(folderFiles(root, 'Big').journal)).toBe(false)

    // The next run continues where it stopped: nothing twice, everything in the end.
    const rest = await mailkeep(home, ['backup', '--json'])
    expect(rest.code, show(rest)).toBe(0)
    const again = JSON.parse(rest.stdout) as BackupReport
    expect(again.accounts[0]!.folders.find((f) => f.folder === 'Big')!.new).toBe(SLOW_MESSAGES - kept.length)
    await expectBackupEqualsServer(dovecot, carol, root, ['Big', 'INBOX'])
    expect(await listUids(dovecot, carol, 'Big')).toHaveLength(SLOW_MESSAGES)
  })

  it('max_duration_seconds in the config does the same; --max-duration that is not a duration is a usage error', async () => {
    const home = await makeHome()
    const root = join(home, 'backup')
    await writeConfig(defaultConfigPath(home), {version: '2.2', max_duration_seconds: 3, savepoint_messages: 5, accounts: [accountEntry(serverAt(dovecot, proxy.port), carol, root, {folders: ['Big']})]})
    proxy.throttle(20_000)
    let result
    try {
      result = await mailkeep(home, ['backup'], {timeoutMs: 120_000})
    } finally {
      proxy.throttle(null)
    }
    expect(result.code, show(result)).toBe(4)
    expect(result.stdout + result.stderr).toContain('the run reached its maximum duration (max_duration_seconds 3) and stopped at a savepoint')
    const bad = await mailkeep(home, ['backup', '--max-duration', 'soon'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--max-duration "soon" is not a duration')
  })
})
