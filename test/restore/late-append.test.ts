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
import {describe, expect, it} from 'vitest'
import {readUploadMessage} from '../../src/engine/upload/message.js'
import {silentLogger} from '../../src/shared/logger.js'
import {FolderStore} from '../../src/store/folder-store.js'
import {UploadMap} from '../../src/store/upload-map.js'
import {appendMessages, expunge, folderStatus, listUids, serverAt} from '../support/mail-seed.js'
import {useTwoServers} from './two-servers.js'
import {accountFile, appends, backupItems, destinationItems, expectSameMail, folderOf, makeConfig, restore} from '../transfer/helpers.js'

const w = useTwoServers('mailkeep-late-append-', 'Work', 20)

describe('restore after a run whose last APPEND the server completes late', () => {
  it('looks again before appending: the late copy is found, nothing is appended twice', async () => {
    const alice = w.source.users[0]!
    const bob = w.dest.users[1]!
    const cfg = await makeConfig(w.dir, [accountFile(w.source, alice, w.root), accountFile(serverAt(w.dest, w.proxy.port), bob, join(w.dir, 'unused'))])
    expect((await restore(cfg, {account: alice.user, to: bob.user})).exitCode).toBe(0)

    // The state a kill -9 during the APPEND of message 20 leaves: its intent, no copy, no pair.
    const restoreFile = JSON.parse(await readFile(join(w.root, 'Work.restore'), 'utf8')) as {destinations: Record<string, Record<string, {map: Record<string, number>}>>}
    const [destFolder] = Object.keys(restoreFile.destinations[bob.user]!)
    const copyOf20 = restoreFile.destinations[bob.user]![destFolder!]!.map['20']!
    await expunge(w.dest, bob, destFolder!, [copyOf20])
    const {uidNext} = await folderStatus(w.dest, bob, destFolder!)
    const map = await UploadMap.open(join(w.root, 'Work'), 'restore', silentLogger)
    map.forget(bob.user, destFolder!, [20])
    await map.intend(bob.user, destFolder!, {from: uidNext, uids: [20]})
    await map.close()

    // What the dead connection had sent: message 20 exactly as the uploader sends it.
    const folder = await FolderStore.open(w.root, 'Work', {mode: 'read', logger: silentLogger})
    const late = await readUploadMessage(folder, 20)
    await folder.close()

    w.proxy.resetStats()
    // The rerun's first look is its UID SEARCH after SELECT; the late APPEND lands right after.
    const lateAppend = w.proxy.waitForCommand(/^\S+ UID SEARCH/i).then(async () => {
      await new Promise((resolve) => setTimeout(resolve, 150))
      await appendMessages(w.dest, bob, destFolder!, [{raw: late.bytes, flags: ['\\Seen'], ...(late.internalDate === null ? {} : {internalDate: late.internalDate})}])
    })
    const report = await restore(cfg, {account: alice.user, to: bob.user})
    await lateAppend
    expect(report.exitCode).toBe(0)
    expect(appends(w.proxy)).toBe(0)
    expect(folderOf(report, 'Work').adopted).toBe(1)
    expect(await listUids(w.dest, bob, destFolder!)).toHaveLength(20)
    expectSameMail(await destinationItems(w.dest, bob, destFolder!), await backupItems(w.root, 'Work'), {flags: false})
  })
})
