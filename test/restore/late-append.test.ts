/**
 * An APPEND of a dead connection that the server completes late. kill -9 (or a dropped link) can
 * leave a whole message in the server's socket buffer, or a proxy's; the server then stores it a
 * moment after the client is gone, possibly after the next run has looked for it. The next run
 * must not append it again at once: it looks again after `pendingGraceMs` (docs/upload-maps.md,
 * "After a crash"). Found by the kill -9 reliability suite (a duplicate in CI, seed 1578589503).
 *
 * Here the interrupted run is made exactly: the map records messages 1 … 19, an intent names 20,
 * and the destination has no copy of 20 yet. While the rerun works, a separate connection
 * appends 20 (as the dead connection would have), just after the rerun's first look.
 */
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {readUploadMessage} from '../../src/engine/uploader-message.js'
import {silentLogger} from '../../src/shared/logger.js'
import {FolderStore} from '../../src/store/folder-store.js'
import {UploadMap} from '../../src/store/upload-map.js'
import {startDovecot, type DovecotInstance} from '../support/dovecot.js'
import {appendMessages, expunge, folderStatus, listUids, seedFolder, serverAt} from '../support/mail-seed.js'
import {startProxy, type TcpProxy} from '../support/tcp-proxy.js'
import {makeTempDir, removeTempDir} from '../support/temp-dir.js'
import {accountFile, appends, backup, backupItems, destinationItems, expectSameMail, folderOf, makeConfig, restore} from '../transfer/helpers.js'

let source: DovecotInstance
let dest: DovecotInstance
let proxy: TcpProxy
let dir: string
let root: string

beforeAll(async () => {
  ;[source, dest] = await Promise.all([startDovecot({separator: '/'}), startDovecot({separator: '/'})])
  proxy = await startProxy({targetPort: dest.port})
  dir = await makeTempDir('mailkeep-late-append-')
  root = join(dir, 'alice')
  await seedFolder(source, source.users[0]!, 'Work', 20)
  expect((await backup(await makeConfig(dir, [accountFile(source, source.users[0]!, root)]))).exitCode).toBe(0)
})

afterAll(async () => {
  await proxy?.close()
  await source?.stop()
  await dest?.stop()
  if (dir !== undefined) await removeTempDir(dir)
})

describe('restore after a run whose last APPEND the server completes late', () => {
  it('looks again before appending: the late copy is found, nothing is appended twice', async () => {
    const alice = source.users[0]!
    const bob = dest.users[1]!
    const cfg = await makeConfig(dir, [accountFile(source, alice, root), accountFile(serverAt(dest, proxy.port), bob, join(dir, 'unused'))])
    expect((await restore(cfg, {account: alice.user, to: bob.user})).exitCode).toBe(0)

    // The state a kill -9 during the APPEND of message 20 leaves: its intent, no copy, no pair.
    const restoreFile = JSON.parse(await readFile(join(root, 'Work.restore'), 'utf8')) as {destinations: Record<string, Record<string, {map: Record<string, number>}>>}
    const [destFolder] = Object.keys(restoreFile.destinations[bob.user]!)
    const copyOf20 = restoreFile.destinations[bob.user]![destFolder!]!.map['20']!
    await expunge(dest, bob, destFolder!, [copyOf20])
    const {uidNext} = await folderStatus(dest, bob, destFolder!)
    const map = await UploadMap.open(join(root, 'Work'), 'restore', silentLogger)
    map.forget(bob.user, destFolder!, [20])
    await map.intend(bob.user, destFolder!, {from: uidNext, uids: [20]})
    await map.close()

    // What the dead connection had sent: message 20 exactly as the uploader sends it.
    const folder = await FolderStore.open(root, 'Work', {mode: 'read', logger: silentLogger})
    const late = await readUploadMessage(folder, 20)
    await folder.close()

    proxy.resetStats()
    // The rerun's first look is its UID SEARCH after SELECT; the late APPEND lands right after.
    const lateAppend = proxy.waitForCommand(/^\S+ UID SEARCH/i).then(async () => {
      await new Promise((resolve) => setTimeout(resolve, 150))
      await appendMessages(dest, bob, destFolder!, [{raw: late.bytes, flags: ['\\Seen'], ...(late.internalDate === null ? {} : {internalDate: late.internalDate})}])
    })
    const report = await restore(cfg, {account: alice.user, to: bob.user})
    await lateAppend
    expect(report.exitCode).toBe(0)
    expect(appends(proxy)).toBe(0)
    expect(folderOf(report, 'Work').adopted).toBe(1)
    expect(await listUids(dest, bob, destFolder!)).toHaveLength(20)
    expectSameMail(await destinationItems(dest, bob, destFolder!), await backupItems(root, 'Work'), {flags: false})
  })
})
