/**
 * The progress of `mailkeep backup` through the real CLI: one line for the whole run on a
 * terminal (a pseudo-terminal here), which keeps moving while one big message trickles in
 * through a throttled link; a progress log line every --progress-interval seconds when stderr
 * is not a terminal; nothing of either under --quiet.
 */
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {bigMessage} from '../fixtures/corpus.js'
import {startDovecot, type DovecotInstance, type TestUser} from '../support/dovecot.js'
import {appendMessages, createFolder, seedFolder, seedMessage} from '../support/mail-seed.js'
import {startProxy, type TcpProxy} from '../support/tcp-proxy.js'
import {Terminal} from '../setup/terminal.js'
import {accountEntry, defaultConfigPath, mailkeep, makeHome, show, writeConfig} from './helpers.js'

vi.setConfig({testTimeout: 180_000})

const MB = 1024 * 1024
/** The link's speed: the big message takes about 4 s. */
const RATE = 1.5 * MB

let dovecot: DovecotInstance
let proxy: TcpProxy
let alice: TestUser
let bob: TestUser

beforeAll(async () => {
  dovecot = await startDovecot()
  proxy = await startProxy({targetPort: dovecot.port})
  ;[alice, bob] = dovecot.users as [TestUser, TestUser]
  await createFolder(dovecot, alice, 'Big')
  await appendMessages(dovecot, alice, 'Big', [seedMessage(1), {raw: bigMessage(6 * MB, {seed: 3})}])
  await seedFolder(dovecot, alice, 'INBOX', 20)
  await seedFolder(dovecot, bob, 'INBOX', 10)
}, 120_000)

afterAll(async () => {
  await proxy?.close()
  await dovecot?.stop()
})

/** Two accounts, both through the throttling proxy; big messages are streamed from 1 MiB on. */
async function twoAccounts(): Promise<string> {
  const home = await makeHome()
  const at = {host: dovecot.host, port: proxy.port}
  await writeConfig(defaultConfigPath(home), {
    version: '2.2',
    accounts: [accountEntry(at, alice, join(home, 'alice')), accountEntry(at, bob, join(home, 'bob'))],
    large_message_bytes: MB,
  })
  return home
}

/** Each state of the progress line: what stood on the line before each erase-and-redraw. */
function progressLines(raw: string): string[] {
  return raw
    .split('\r\x1b[2K')
    .map((part) => part.replace(/\r?\n[\s\S]*$/, '').trim())
    .filter((line) => / msgs /.test(line))
}

describe('progress', () => {
  it('on a terminal: one line for the run that moves every second during a big message', async () => {
    const home = await twoAccounts()
    proxy.throttle(RATE)
    try {
      const t = Terminal.start(['backup'], {env: {HOME: home, MAILKEEP_CONFIG: undefined}, columns: 200})
      const {code} = await t.exited
      expect(code, t.text()).toBe(0)
      const lines = progressLines(t.raw())
      // Where the run is: accounts and folders out of how many.
      expect(lines.some((l) => /^alice@example\.test: Big +1\/2 accounts 1\/2 folders /.test(l)), lines.join('\n')).toBe(true)
      expect(lines.some((l) => /^bob@example\.test: INBOX +2\/2 accounts /.test(l)), lines.join('\n')).toBe(true)
      // During the big message (its folder's second message): the bytes grow while it is
      // still 1 of 2, and the clock, rates and time left are shown.
      const during = lines.filter((l) => /^alice@example\.test: Big .* 1\/2 msgs /.test(l))
      const bytesSeen = new Set(during.map((l) => /msgs +([\d.]+ [KM]iB)/.exec(l)?.[1]))
      expect(bytesSeen.size, during.join('\n')).toBeGreaterThanOrEqual(3)
      const clocks = new Set(during.map((l) => /(\d+:\d\d)$/.exec(l)?.[1]))
      expect(clocks.size, during.join('\n')).toBeGreaterThanOrEqual(3)
      expect(during.some((l) => /[KM]iB\/s +\d+:\d\d$/.test(l)), during.join('\n')).toBe(true)
      // The time left, once it rests on enough messages (not during the one big message).
      expect(lines.some((l) => /^alice@example\.test: INBOX .* ETA \d+:\d\d +\d+:\d\d$/.test(l)), lines.join('\n')).toBe(true)
      // The summary replaces the line at the end.
      expect(t.text()).toMatch(/total: 32 new messages/)
    } finally {
      proxy.throttle(null)
    }
  })

  it('without a terminal: a progress log line at INFO every --progress-interval seconds; none under --quiet', async () => {
    const home = await twoAccounts()
    proxy.throttle(RATE)
    try {
      const result = await mailkeep(home, ['backup', '--progress-interval', '1'])
      expect(result.code, show(result)).toBe(0)
      const progress = result.stderr.split('\n').filter((l) => / INFO {2}progress: /.test(l))
      expect(progress.length, result.stderr).toBeGreaterThanOrEqual(2)
      expect(progress.some((l) => /progress: alice@example\.test: Big, account 1 of 2, folder 1 of 2, 1 of 2 messages, [\d.]+ MiB, .* so far$/.test(l)), progress.join('\n')).toBe(true)
      expect(result.stderr).not.toContain('\r')

      const home2 = await twoAccounts()
      const quiet = await mailkeep(home2, ['backup', '--progress-interval', '1', '--quiet'])
      expect(quiet.code, show(quiet)).toBe(0)
      expect(quiet.stderr).toBe('')
      expect(quiet.stdout).toBe('')
    } finally {
      proxy.throttle(null)
    }
  })
})
