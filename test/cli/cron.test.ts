/**
 * Running from cron, through the real CLI: `--skip-locked` lets a run that overlaps a long one
 * end quietly (exit 0, nothing printed under --quiet), and a config typo that would change what
 * the backup does is an error that --quiet does not hide, while imap-backup's own config still
 * loads.
 */
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {acquireAccountLock} from '../../src/store/lock.js'
import {startDovecot, type DovecotInstance, type TestUser} from '../support/dovecot.js'
import {seedFolder} from '../support/mail-seed.js'
import {accountEntry, defaultConfigPath, mailkeep, makeHome, show, writeConfig} from './helpers.js'

let dovecot: DovecotInstance
let alice: TestUser
let bob: TestUser

beforeAll(async () => {
  dovecot = await startDovecot()
  ;[alice, bob] = dovecot.users as [TestUser, TestUser]
  await seedFolder(dovecot, alice, 'INBOX', 3)
  await seedFolder(dovecot, bob, 'INBOX', 2)
})

afterAll(async () => {
  await dovecot?.stop()
})

describe('an overlapping run', () => {
  it('with --skip-locked --quiet: the busy account is left alone, nothing is printed, exit 0; the other account is backed up', async () => {
    const home = await makeHome()
    const aliceRoot = join(home, 'alice')
    await writeConfig(defaultConfigPath(home), {version: '2.2', accounts: [accountEntry(dovecot, alice, aliceRoot), accountEntry(dovecot, bob, join(home, 'bob'))]})
    // A first run made the directory; then "another run" (this test) holds alice's lock.
    expect((await mailkeep(home, ['backup', '--quiet'])).code).toBe(0)
    await seedFolder(dovecot, bob, 'INBOX', 1)
    const lock = await acquireAccountLock(aliceRoot, 'exclusive')
    try {
      const quiet = await mailkeep(home, ['backup', '--quiet', '--skip-locked'])
      expect(quiet, show(quiet)).toMatchObject({code: 0, stdout: '', stderr: ''})

      const told = await mailkeep(home, ['backup', '--skip-locked'])
      expect(told.code, show(told)).toBe(0)
      expect(told.stdout).toContain(`alice@example.test: not backed up: another mailkeep is using it (pid ${process.pid})`)
      expect(told.stdout).toMatch(/^bob@example\.test: ok/m)

      // Without the flag: exit 5 and the two lines cron would mail every time.
      const plain = await mailkeep(home, ['backup', '--quiet'])
      expect(plain.code, show(plain)).toBe(5)
      expect(plain.stdout).toContain('another mailkeep is already running on this account')
      expect(plain.stdout).toContain('exit 5 (LOCKED)')
    } finally {
      await lock.release()
    }
  })
})

describe('config typos', () => {
  it('a misspelt top-level key is an error that --quiet does not hide (exit 3), naming the right spelling; nothing is backed up', async () => {
    const home = await makeHome()
    const config = await writeConfig(defaultConfigPath(home), {version: '2.2', accounts: [accountEntry(dovecot, alice, join(home, 'alice'))], savepoint_mesages: 10})
    const result = await mailkeep(home, ['backup', '--quiet'])
    expect(result.code, show(result)).toBe(3)
    expect(result.stderr).toBe(
      `mailkeep: error: Config file '${config}': savepoint_mesages: is not a key of mailkeep or imap-backup; did you mean "savepoint_messages"?; rename it to "savepoint_messages" (as it is, the setting would be ignored)\n`,
    )
  })

  it('a misspelt connection option or download_strategy is an error too', async () => {
    const home = await makeHome()
    await writeConfig(defaultConfigPath(home), {version: '2.2', accounts: [accountEntry(dovecot, alice, join(home, 'alice'), {connection_options: {prot: dovecot.port, ssl: false}})]})
    const option = await mailkeep(home, ['backup', '--quiet'])
    expect(option.code, show(option)).toBe(3)
    expect(option.stderr).toContain('connection_options.prot (alice@example.test): is not an option mailkeep knows; did you mean "port"?')

    await writeConfig(defaultConfigPath(home), {version: '2.2', accounts: [accountEntry(dovecot, alice, join(home, 'alice'))], download_strategy: 'drect'})
    const strategy = await mailkeep(home, ['backup', '--quiet'])
    expect(strategy.code, show(strategy)).toBe(3)
    expect(strategy.stderr).toContain('download_strategy: "drect" is not one of "delay_metadata", "direct", "delay_all"; did you mean "direct"?')
  })

  it("imap-backup's own config (as its setup writes it) still loads and backs up", async () => {
    const home = await makeHome()
    await writeConfig(defaultConfigPath(home), {
      version: '2.2',
      accounts: [
        {
          username: alice.user,
          password: alice.password,
          local_path: join(home, 'alice'),
          folders: [{name: 'INBOX'}],
          mirror_mode: false,
          server: dovecot.host,
          connection_options: JSON.stringify({port: dovecot.port, ssl: false}),
          multi_fetch_size: 1,
          reset_seen_flags_after_fetch: false,
        },
      ],
      download_strategy: 'delay_metadata',
    })
    const result = await mailkeep(home, ['backup', '--quiet'])
    expect(result, show(result)).toMatchObject({code: 0, stdout: '', stderr: ''})
  })
})
