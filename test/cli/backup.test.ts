/**
 * `mailkeep backup` end to end: the real CLI (bin/run.js → dist/), with HOME pointed at a
 * temporary directory and the config at its default place. What depends on the server (a backup
 * that equals the server, its summary and report, a second run that finds nothing new, a login
 * the server refuses) on each server of serverKinds(); the CLI's own options and output (quiet,
 * log format, progress line, config errors, --accounts, the account lock) against a Dovecot.
 */
import {spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {BackupReport} from '../../src/engine/backup/types.js'
import {loadCorpus} from '../fixtures/corpus.js'
import {CLI_PATH} from '../support/cli.js'
import {startDovecot, type DovecotInstance, type TestUser} from '../support/dovecot.js'
import {encodeFolderPath} from '../../src/store/folder-path.js'
import {appendMessages, ensureFolder, folderName, seedFolder} from '../support/mail-seed.js'
import {serverKinds, startServer, type ServerKind, type TestServer} from '../support/servers.js'
import {startProxy, type TcpProxy} from '../support/tcp-proxy.js'
import {
  accountEntry,
  allOutput,
  recordOutput,
  defaultConfigPath,
  expectBackupEqualsServer,
  listTree,
  mailkeep,
  makeHome,
  show,
  snapshot,
  spawnMailkeep,
  writeConfig,
} from './helpers.js'

let dovecot: DovecotInstance
let alice: TestUser
let bob: TestUser
const ALICE_FOLDERS = ['INBOX', 'Work', 'Work/Projects']
const BOB_FOLDERS = ['INBOX']

beforeAll(async () => {
  dovecot = await startDovecot()
  ;[alice, bob] = dovecot.users as [TestUser, TestUser]
  const corpus = loadCorpus()
  await appendMessages(dovecot, alice, 'INBOX', corpus.map((m) => ({raw: m.raw, flags: ['\\Seen']})))
  await seedFolder(dovecot, alice, 'Work', 30)
  await ensureFolder(dovecot, alice, 'Work/Projects')
  await seedFolder(dovecot, alice, 'Work/Projects', 5)
  await seedFolder(dovecot, bob, 'INBOX', 12)
})

afterAll(async () => {
  await dovecot?.stop()
})

async function aliceConfig(home: string, extra: Record<string, unknown> = {}): Promise<{config: string; root: string}> {
  const root = join(home, 'backup', 'alice')
  const config = await writeConfig(defaultConfigPath(home), {version: '2.2', accounts: [accountEntry(dovecot, alice, root)], ...extra})
  return {config, root}
}

describe.each(serverKinds())('mailkeep backup against %s', (kind: ServerKind) => {
  let server: TestServer
  let alice: TestUser
  let bob: TestUser
  let folders: string[]
  let inbox = 0
  let total = 0

  beforeAll(async () => {
    server = await startServer(kind)
    ;[alice, bob] = server.users as [TestUser, TestUser]
    const corpus = loadCorpus().filter((m) => server.facts.stored(m.raw) !== undefined)
    const work = folderName(server, 'Work')
    const projects = folderName(server, 'Work', 'Projects')
    folders = ['INBOX', work, projects]
    await appendMessages(server, alice, 'INBOX', corpus.map((m) => ({raw: m.raw, flags: ['\\Seen']})))
    await seedFolder(server, alice, work, 30)
    await ensureFolder(server, alice, projects)
    await seedFolder(server, alice, projects, 5)
    inbox = corpus.length
    total = corpus.length + 30 + 5
    await seedFolder(server, bob, 'INBOX', 12)
  })
  afterAll(async () => {
    await server?.stop()
  })

  async function config(home: string): Promise<string> {
    const root = join(home, 'backup', 'alice')
    await writeConfig(defaultConfigPath(home), {version: '2.2', accounts: [accountEntry(server, alice, root)]})
    return root
  }
  const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')

  it('backs up a seeded account, prints a summary, and a second run finds nothing new', async () => {
    const home = await makeHome()
    const root = await config(home)
    const [, work, projects] = folders as [string, string, string]

    const first = await mailkeep(home, ['backup'])
    expect(first.code, show(first)).toBe(0)
    expect(first.stdout).toMatch(/^alice@example\.test: ok, 3 of 3 folders changed$/m)
    expect(first.stdout).toMatch(new RegExp(`^ {2}INBOX +${inbox} new \\(`, 'm'))
    expect(first.stdout).toMatch(new RegExp(`^ {2}${escape(work)} +30 new \\(`, 'm'))
    expect(first.stdout).toMatch(new RegExp(`^ {2}${escape(projects)} +5 new \\(`, 'm'))
    expect(first.stdout).toMatch(new RegExp(`^total: ${total} new messages \\(.*\\) in .*msg/s`, 'm'))
    expect(first.stdout).not.toMatch(/^exit /m)
    // Logs go to stderr (imap-backup's INFO line about new messages, compat §6.9).
    expect(first.stderr).toMatch(new RegExp(`\\[INBOX\\] ${inbox} new messages|INBOX.*${inbox} new messages`))
    expect(first.stderr).not.toContain('\r')
    // One .imap and one .mbox per folder; a '/' in a name is a directory (docs/design.md).
    const files = folders.flatMap((f) => [`${encodeFolderPath(f)}.imap`, `${encodeFolderPath(f)}.mbox`])
    const directories = folders.filter((f) => encodeFolderPath(f).includes('/')).map((f) => `${encodeFolderPath(f).slice(0, encodeFolderPath(f).lastIndexOf('/'))}/`)
    expect(await listTree(root)).toEqual(expect.arrayContaining([...files, ...directories]))
    await expectBackupEqualsServer(server, alice, root, folders)

    const second = await mailkeep(home, [])
    expect(second.code, show(second)).toBe(0)
    expect(second.stdout).toMatch(/^alice@example\.test: ok, 3 folders, none changed$/m)
    expect(second.stdout).toMatch(/^total: 0 new messages in /m)
    expect(second.stderr).not.toMatch(/new messages/)
    await expectBackupEqualsServer(server, alice, root, folders)
  })

  it('--json prints the BackupReport, whose counts match the server', async () => {
    const home = await makeHome()
    const root = await config(home)
    const [, work, projects] = folders as [string, string, string]
    const result = await mailkeep(home, ['backup', '--json'])
    expect(result.code, show(result)).toBe(0)
    const report = JSON.parse(result.stdout) as BackupReport
    expect(report.exitCode).toBe(0)
    expect(report.accounts.map((a) => [a.account, a.outcome])).toEqual([[alice.user, 'ok']])
    const byName = Object.fromEntries(report.accounts[0]!.folders.map((f) => [f.folder, f]))
    expect(Object.keys(byName).sort()).toEqual([...folders].sort())
    expect(byName['INBOX']!.new).toBe(inbox)
    expect(byName[work]!.new).toBe(30)
    expect(byName[projects]!.new).toBe(5)
    for (const f of Object.values(byName)) {
      expect(f.outcome).toBe('ok')
      expect(f.failedMessages).toEqual([])
      expect(f.bytes).toBeGreaterThan(0)
    }
    expect(typeof report.seconds).toBe('number')
    await expectBackupEqualsServer(server, alice, root, folders)

    const again = JSON.parse((await mailkeep(home, ['backup', '--json'])).stdout) as BackupReport
    expect(again.accounts[0]!.folders.reduce((n, f) => n + f.new, 0)).toBe(0)
  })

  it('exits 111 when the first of two accounts cannot log in, and still backs up the second', async () => {
    const home = await makeHome()
    const aliceRoot = join(home, 'backup', 'alice')
    const bobRoot = join(home, 'backup', 'bob')
    await writeConfig(defaultConfigPath(home), {
      accounts: [accountEntry(server, {...alice, password: 'wrong-Pw-0c7e1d'}, aliceRoot), accountEntry(server, bob, bobRoot)],
    })
    const result = await mailkeep(home, ['backup'])
    expect(result.code, show(result)).toBe(111)
    expect(result.stdout).toMatch(/^alice@example\.test: failed/m)
    expect(result.stdout).toMatch(/^bob@example\.test: ok/m)
    expect(result.stdout).toMatch(/^exit 111 \(CONNECTION\): Could not connect to the server or log in/m)
    await expectBackupEqualsServer(server, bob, bobRoot, ['INBOX'])
    expect(result.stdout + result.stderr).not.toContain('wrong-Pw-0c7e1d')

    const json = JSON.parse((await mailkeep(home, ['backup', '--json'])).stdout) as BackupReport
    expect(json.exitCode).toBe(111)
    expect(json.accounts.map((a) => a.outcome)).toEqual(['failed', 'ok'])
  })
})

describe('mailkeep backup', () => {
  it('--quiet prints nothing when all went well', async () => {
    const home = await makeHome()
    const {root} = await aliceConfig(home)
    const result = await mailkeep(home, ['backup', '--quiet'])
    expect(result.code, show(result)).toBe(0)
    expect(result.stdout).toBe('')
    expect(result.stderr).toBe('')
    await expectBackupEqualsServer(dovecot, alice, root, ALICE_FOLDERS)
  })

  it('--log-format json (or log_format in the config) writes one JSON object per log line', async () => {
    const jsonLines = (stderr: string): unknown[] => {
      const lines = stderr.split('\n').filter((l) => l !== '')
      expect(lines.length).toBeGreaterThan(0)
      return lines.map((line) => JSON.parse(line) as unknown)
    }
    const home = await makeHome()
    await aliceConfig(home)
    const flag = await mailkeep(home, ['backup', '--log-format', 'json'])
    expect(flag.code, show(flag)).toBe(0)
    expect(jsonLines(flag.stderr)).toContainEqual(expect.objectContaining({level: 'info', account: alice.user, msg: `Running backup of account '${alice.user}'`}))

    const other = await makeHome()
    await aliceConfig(other, {log_format: 'json'})
    const config = await mailkeep(other, ['backup'])
    expect(config.code, show(config)).toBe(0)
    jsonLines(config.stderr)
    // The command line wins over the config.
    const text = await mailkeep(other, ['backup', '--log-format', 'text'])
    expect(text.stderr).toMatch(/^\S+Z INFO {2}\[account=alice@example\.test\] Running backup/m)
  })

  it.skipIf(!existsSync('/usr/bin/script'))('draws a progress line on a terminal, with log lines above it, and erases it before the summary', async () => {
    const home = await makeHome()
    await aliceConfig(home)
    const typescript = join(home, 'terminal.out')
    // util-linux script(1) runs the CLI on a pseudo-terminal and records what it wrote there.
    const env: NodeJS.ProcessEnv = {...process.env, HOME: home}
    delete env['MAILKEEP_CONFIG']
    const ran = spawnSync('/usr/bin/script', ['-qfec', `'${process.execPath}' '${CLI_PATH}' backup`, typescript], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 60_000,
    })
    expect(ran.status, ran.stderr.toString()).toBe(0)
    const screen = await readFile(typescript, 'utf8')
    recordOutput({stdout: screen, stderr: ''})
    const ERASE = '\r\x1b[2K'
    expect(screen).toContain(`${ERASE}alice@example.test: INBOX `)
    // The folder's position, and the messages of the whole run so far (INBOX's 28 among them).
    expect(screen).toMatch(/alice@example\.test: INBOX +\d\/3 folders +\d+\/(28|3[35]|63) msgs/)
    // Every log line starts on a cleared line, and the summary comes after the last erase.
    const logLines = [...screen.matchAll(/\d{4}-\d\d-\d\dT[\d:.]+Z (INFO|WARN|ERROR)/g)]
    expect(logLines.length).toBeGreaterThan(0)
    for (const match of logLines) {
      const before = screen.slice(0, match.index)
      expect(before.endsWith('\n') || before.endsWith(ERASE), `log line written into the progress line: ${JSON.stringify(before.slice(-80))}`).toBe(true)
    }
    const summary = screen.indexOf('alice@example.test: ok')
    expect(summary).toBeGreaterThan(screen.lastIndexOf(ERASE))
    expect(screen.slice(screen.lastIndexOf(ERASE) + ERASE.length, summary).trim()).toBe('')
  })

  it('refuses a config readable by others with exit 3 and the chmod fix, writing nothing', async () => {
    const home = await makeHome()
    const root = join(home, 'backup', 'alice')
    const config = await writeConfig(defaultConfigPath(home), {accounts: [accountEntry(dovecot, alice, root)]}, 0o644)
    const result = await mailkeep(home, ['backup'])
    expect(result.code, show(result)).toBe(3)
    expect(result.stderr).toContain(`Permissions on '${config}' should be 0600, not 0644`)
    expect(result.stderr).toContain(`chmod 600 '${config}'`)
    expect(result.stdout).toBe('')
    expect(existsSync(root)).toBe(false)
  })

  it('reports a missing config file with exit 3', async () => {
    const home = await makeHome()
    const result = await mailkeep(home, ['backup'])
    expect(result.code, show(result)).toBe(3)
    expect(result.stderr).toContain(`Configuration file '${defaultConfigPath(home)}' not found`)
  })

  it('--accounts restricts the run; an unknown account is a config error', async () => {
    const home = await makeHome()
    const aliceRoot = join(home, 'backup', 'alice')
    const bobRoot = join(home, 'backup', 'bob')
    await writeConfig(defaultConfigPath(home), {accounts: [accountEntry(dovecot, alice, aliceRoot), accountEntry(dovecot, bob, bobRoot)]})
    const result = await mailkeep(home, ['backup', '-a', bob.user])
    expect(result.code, show(result)).toBe(0)
    expect(result.stdout).not.toContain(alice.user)
    expect(existsSync(aliceRoot)).toBe(false)
    await expectBackupEqualsServer(dovecot, bob, bobRoot, BOB_FOLDERS)

    const unknown = await mailkeep(home, ['backup', '--accounts', 'nobody@example.test'])
    expect(unknown.code, show(unknown)).toBe(3)
    expect(unknown.stderr).toContain('nobody@example.test is not a configured account')
  })

  describe('two runs on one account', () => {
    let proxy: TcpProxy

    beforeAll(async () => {
      await seedFolder(dovecot, 'carol@example.test', 'INBOX', 3000)
      proxy = await startProxy({targetPort: dovecot.port})
    })

    afterAll(async () => {
      await proxy?.close()
    })

    it('the second exits 5 at once, naming the pid of the first, and touches nothing', async () => {
      const carol = dovecot.users.find((u) => u.user === 'carol@example.test')!
      const home = await makeHome()
      const root = join(home, 'backup', 'carol')
      await writeConfig(defaultConfigPath(home), {accounts: [accountEntry({host: dovecot.host, port: proxy.port}, carol, root)]})
      // Slow enough (about 1 MB at 100 KB/s) that the first run is surely still busy.
      proxy.throttle(100_000)
      const first = spawnMailkeep(home, ['backup'])
      try {
        await first.waitForLine('stderr', /new messages/, 60_000)
        // Hold the first run still, so that any change on disk would be the second run's.
        proxy.stall(Infinity)
        await new Promise((resolve) => setTimeout(resolve, 300))
        const before = await snapshot(root)
        const second = await mailkeep(home, ['backup'])
        expect(second.code, show(second)).toBe(5)
        expect(second.stdout + second.stderr).toContain(`pid ${first.pid}`)
        expect(second.stdout).toMatch(/^exit 5 \(LOCKED\): /m)
        expect(await snapshot(root)).toEqual(before)
      } finally {
        proxy.resume()
        proxy.throttle(null)
      }
      const done = await first.exited
      expect(done.code, show(done)).toBe(0)
      await expectBackupEqualsServer(dovecot, carol, root, ['INBOX'])
    })
  })
})

// Last: everything the CLI printed in this file, with every test password in it.
describe('secrets', () => {
  it('never printed a password', () => {
    const output = allOutput()
    expect(output.length).toBeGreaterThan(0)
    for (const user of dovecot.users) expect(output).not.toContain(user.password)
    expect(output).not.toContain('wrong-Pw-0c7e1d')
  })
})
