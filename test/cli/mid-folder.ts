/**
 * The set-up shared by the signal and crash tests: a Dovecot with one big folder behind a
 * throttling proxy, so that "the middle of a folder" lasts long enough to be hit every time, and
 * a config with small savepoints (`savepoint_messages`), so that some are committed before the
 * signal arrives.
 */
import {join} from 'node:path'
import {expect} from 'vitest'
import type {BackupReport} from '../../src/engine/backup/types.js'
import {startDovecot, type DovecotInstance, type TestUser} from '../support/dovecot.js'
import {listUids, seedFolder} from '../support/mail-seed.js'
import {startProxy, type TcpProxy} from '../support/tcp-proxy.js'
import {accountEntry, defaultConfigPath, expectBackupEqualsServer, journalSavepoints, mailkeep, makeHome, show, spawnMailkeep, waitFor, writeConfig} from './helpers.js'
import type {SpawnedCli} from '../support/cli.js'

export const MESSAGES = 6_000
export const SAVEPOINT_MESSAGES = 250
export const FOLDERS = ['INBOX', 'Sent']

export class MidFolderServer {
  private constructor(
    readonly dovecot: DovecotInstance,
    readonly proxy: TcpProxy,
    readonly user: TestUser,
    /** The UIDs of INBOX on the server, ascending. */
    readonly inboxUids: number[],
  ) {}

  static async start(): Promise<MidFolderServer> {
    const dovecot = await startDovecot()
    try {
      const user = dovecot.users[0]!
      await seedFolder(dovecot, user, 'INBOX', MESSAGES)
      await seedFolder(dovecot, user, 'Sent', 40)
      const uids = await listUids(dovecot, user, 'INBOX')
      const proxy = await startProxy({targetPort: dovecot.port})
      return new MidFolderServer(dovecot, proxy, user, uids)
    } catch (error) {
      await dovecot.stop()
      throw error
    }
  }

  async stop(): Promise<void> {
    await this.proxy.close()
    await this.dovecot.stop()
  }

  /** A HOME with a config for the user, through the proxy, with small savepoints. */
  async setUp(strategy: string): Promise<{home: string; root: string}> {
    const home = await makeHome()
    const root = join(home, 'backup', 'user')
    await writeConfig(defaultConfigPath(home), {
      version: '2.2',
      accounts: [accountEntry({host: this.dovecot.host, port: this.proxy.port}, this.user, root, {folders: FOLDERS})],
      download_strategy: strategy,
      savepoint_messages: SAVEPOINT_MESSAGES,
    })
    return {home, root}
  }

  /** Starts a slow backup and resolves once INBOX is past two savepoints. */
  async startMidFolder(home: string, root: string): Promise<SpawnedCli> {
    // ~330-byte messages at 150 KB/s: about 450 a second, so 6,000 take far longer than we wait.
    this.proxy.throttle(150_000)
    const run = spawnMailkeep(home, ['backup'])
    await run.waitForLine('stderr', /new messages/, 60_000)
    await waitFor('two savepoints in INBOX', async () => (await journalSavepoints(root, 'INBOX')) >= 2, 60_000)
    return run
  }

  /** Runs the backup again at full speed: it fetches only what is missing and ends equal to the server. */
  async rerunCompletes(home: string, root: string, alreadyStored?: number): Promise<void> {
    this.proxy.throttle(null)
    const rerun = await mailkeep(home, ['backup', '--json'])
    expect(rerun.code, show(rerun)).toBe(0)
    const report = JSON.parse(rerun.stdout) as BackupReport
    const inbox = report.accounts[0]!.folders.find((f) => f.folder === 'INBOX')!
    if (alreadyStored !== undefined) expect(inbox.new).toBe(MESSAGES - alreadyStored)
    await expectBackupEqualsServer(this.dovecot, this.user, root, FOLDERS)
  }
}
