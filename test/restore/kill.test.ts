/**
 * kill -9 of `mailkeep restore` in the middle (many messages, some large), at several points one
 * after the other, then a rerun that completes: the destination holds every backed-up message
 * exactly once — no duplicate, nothing missing — on a server with UIDPLUS and on one without.
 *
 * Kill points (APPENDs counted per run, batches of 50 messages per intent):
 *  - the first APPEND of a run (the kill races the command to the server);
 *  - APPEND 37 of a run: 36 messages were appended whose UIDs are not durable yet (only the
 *    batch's intent is), so the rerun must find them on the server;
 *  - APPEND 75: the first batch is recorded, the second half done;
 *  - in the middle of a 3 MB literal (throttled link): the server never completes that APPEND.
 */
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {bigMessage} from '../fixtures/corpus.js'
import {capabilitiesWithout} from '../imap/helpers.js'
import {startDovecot, type DovecotInstance} from '../support/dovecot.js'
import {seedFolder, seedMessage, serverAt} from '../support/mail-seed.js'
import {startProxy, type TcpProxy} from '../support/tcp-proxy.js'
import {makeTempDir, removeTempDir} from '../support/temp-dir.js'
import {accountEntry, defaultConfigPath, mailkeep, makeHome, show, writeConfig} from '../cli/helpers.js'
import {accountFile, appends, backup, backupItems, destinationItems, expectSameMail, makeConfig} from '../transfer/helpers.js'
import {killDuringUpload, type KillPoint} from '../transfer/kill.js'

const SMALL = 260
const BIG_AT = new Set([30, 90, 160, 230])
const BIG_SIZE = 3 * 1024 * 1024

let source: DovecotInstance
let dir: string
let root: string

beforeAll(async () => {
  source = await startDovecot({separator: '/'})
  dir = await makeTempDir('mailkeep-restore-kill-')
  root = join(dir, 'alice')
  const alice = source.users[0]!
  await seedFolder(source, alice, 'INBOX', SMALL, (i) => (BIG_AT.has(i) ? {raw: bigMessage(BIG_SIZE, {seed: i}), flags: ['\\Seen'], internalDate: new Date(Date.UTC(2023, 5, 1, 0, i))} : seedMessage(i)))
  await seedFolder(source, alice, 'Archive/2023', 90)
  expect((await backup(await makeConfig(dir, [accountFile(source, alice, root)]))).exitCode).toBe(0)
}, 300_000)

afterAll(async () => {
  await source?.stop()
  if (dir !== undefined) await removeTempDir(dir)
})

const KILLS: KillPoint[] = [{append: 1}, {append: 37}, {append: 75}, {literalAbove: 1_000_000, afterMs: 250}, {append: 37}]

describe.each([
  {title: 'with UIDPLUS', capabilities: undefined},
  {title: 'without UIDPLUS', capabilities: capabilitiesWithout('UIDPLUS')},
])('kill -9 of restore, destination $title', ({capabilities}) => {
  let dest: DovecotInstance
  let proxy: TcpProxy

  beforeAll(async () => {
    dest = await startDovecot({separator: '.', prefix: 'INBOX.', ...(capabilities === undefined ? {} : {capabilities})})
    proxy = await startProxy({targetPort: dest.port})
  })
  afterAll(async () => {
    await proxy?.close()
    await dest?.stop()
  })

  it('leaves no duplicate and nothing missing after several kills and a rerun', async () => {
    const home = await makeHome()
    const alice = source.users[0]!
    const bob = dest.users[1]!
    await writeConfig(defaultConfigPath(home), {
      version: '2.2',
      accounts: [accountEntry(source, alice, root), accountEntry(serverAt(dest, proxy.port), bob, join(home, 'bob'))],
    })
    const args = ['restore', alice.user, '--to', bob.user]
    proxy.throttle(4 * 1024 * 1024)
    const runs: Array<{appends: number; stderr: string}> = []
    for (const point of KILLS) runs.push(await killDuringUpload(home, args, proxy, point))
    proxy.throttle(null)

    const done = await mailkeep(home, [...args, '--json'])
    expect(done.code, show(done)).toBe(0)
    const report = JSON.parse(done.stdout) as {folders: Array<{source: string; uploaded: number; adopted: number; alreadyPresent: number}>}
    const inbox = report.folders.find((f) => f.source === 'INBOX')!
    expect(inbox.uploaded + inbox.adopted + inbox.alreadyPresent).toBe(SMALL)

    expectSameMail(await destinationItems(dest, bob, 'INBOX'), await backupItems(root, 'INBOX'))
    expectSameMail(await destinationItems(dest, bob, 'INBOX.Archive.2023'), await backupItems(root, 'Archive/2023'))

    proxy.resetStats()
    const again = await mailkeep(home, args)
    expect(again.code, show(again)).toBe(0)
    expect(appends(proxy)).toBe(0)
    // The kills were really in the middle: each run appended, and later runs found messages that
    // a killed run had appended without recording them (the intent path), also without UIDPLUS.
    expect(runs.every((r) => r.appends >= 1)).toBe(true)
    const recovered = [...runs.slice(1).map((r) => r.stderr), done.stderr].map((t) => Number(/found (\d+) message\(s\) that an interrupted run had uploaded/.exec(t)?.[1] ?? 0))
    expect(recovered.reduce((n, x) => n + x, 0)).toBeGreaterThanOrEqual(36)
  })
})
