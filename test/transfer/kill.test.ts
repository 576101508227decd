/**
 * kill -9 of `mailkeep copy` while it uploads (many messages, some large), at several points one
 * after the other, then a rerun: the destination holds every backed-up message exactly once, and
 * the message that existed only on the destination is still there. The `.mirror` map (imap-backup's
 * format) is valid JSON after every kill: it is only ever replaced atomically, and the journal
 * carries what happened since.
 */
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {bigMessage} from '../fixtures/corpus.js'
import {startDovecot, type DovecotInstance} from '../support/dovecot.js'
import {appendMessages, createFolder, seedFolder, seedMessage, serverAt} from '../support/mail-seed.js'
import {startProxy, type TcpProxy} from '../support/tcp-proxy.js'
import {accountEntry, defaultConfigPath, mailkeep, makeHome, show, writeConfig} from '../cli/helpers.js'
import {appends, backupItems, destinationItems, expectSameMail, sha256} from './helpers.js'
import {killDuringUpload, type KillPoint} from './kill.js'

const BIG_AT = new Set([20, 70, 140])

let a: DovecotInstance
let b: DovecotInstance
let proxy: TcpProxy

beforeAll(async () => {
  ;[a, b] = await Promise.all([startDovecot({separator: '/'}), startDovecot({separator: '.', prefix: 'INBOX.'})])
  proxy = await startProxy({targetPort: b.port})
  const alice = a.users[0]!
  await seedFolder(a, alice, 'Work', 200, (i) => (BIG_AT.has(i) ? {raw: bigMessage(3 * 1024 * 1024, {seed: `w${i}`}), flags: ['\\Flagged']} : seedMessage(i)))
  await seedFolder(a, alice, 'Lists/rust', 60, (i) => seedMessage(1000 + i))
}, 300_000)

afterAll(async () => {
  await proxy?.close()
  await a?.stop()
  await b?.stop()
})

const KILLS: KillPoint[] = [{append: 2}, {append: 37}, {literalAbove: 1_000_000, afterMs: 250}, {append: 51}, {append: 37}]

describe('kill -9 of copy', () => {
  it('leaves no duplicate and nothing missing after several kills and a rerun; destination-only mail survives', async () => {
    const home = await makeHome()
    const alice = a.users[0]!
    const bob = b.users[1]!
    const root = join(home, 'alice')
    await createFolder(b, bob, 'INBOX.Work')
    const own = Buffer.from('Subject: only on the destination\r\n\r\nkeep\r\n')
    await appendMessages(b, bob, 'INBOX.Work', [{raw: own}])
    await writeConfig(defaultConfigPath(home), {
      version: '2.2',
      accounts: [accountEntry(a, alice, root), accountEntry(serverAt(b, proxy.port), bob, join(home, 'bob'))],
    })
    const args = ['copy', alice.user, bob.user, '--automatic-namespaces']
    proxy.throttle(4 * 1024 * 1024)
    for (const point of KILLS) {
      await killDuringUpload(home, args, proxy, point)
      // The imap-backup-compatible map is never half-written.
      const text = await readFile(join(root, 'Work.mirror'), 'utf8').catch(() => '{}')
      expect(() => JSON.parse(text)).not.toThrow()
    }
    proxy.throttle(null)

    const done = await mailkeep(home, args)
    expect(done.code, show(done)).toBe(0)
    const work = await destinationItems(b, bob, 'INBOX.Work')
    expectSameMail(work, await backupItems(root, 'Work'), {extra: 1})
    expect(work.map((m) => m.sha)).toContain(sha256(own))
    expectSameMail(await destinationItems(b, bob, 'INBOX.Lists.rust'), await backupItems(root, 'Lists/rust'))

    proxy.resetStats()
    const again = await mailkeep(home, args)
    expect(again.code, show(again)).toBe(0)
    expect(appends(proxy)).toBe(0)
  })
})
