/**
 * copy and mirror of a backup that holds a kept-aside folder (`<name>-<uidvalidity>`, issue 11
 * item 2) and restored copies it downloaded (item 1). Before the fix, copy and mirror created a
 * folder on the destination for every kept-aside level, and uploaded both entries of a message
 * that a restore had put back on the source server. Now the kept-aside backup goes into the
 * destination folder of `<name>`, deduplicated against it, and every message arrives once; a
 * second run changes nothing on the destination.
 *
 * The real CLI against a real server, which the suite takes as a parameter (`ImapServer`).
 */
import {describe, expect, it} from 'vitest'
import {addFlags, expunge, fetchMessages, listFolders, listUids} from '../support/mail-seed.js'
import {appends, sha256} from './helpers.js'
import {backupContent, cli, CYCLE_SERVERS, cycleHome, expectEachOnce, rebuildFolder, seededFolder, serverState, useServer} from '../restore/cycle.js'

interface Report {
  folders: Array<{source: string; destination: string; uploaded: number; adopted: number; deleted: number; flagsUpdated: number}>
}

describe.each(CYCLE_SERVERS)('copy and mirror of kept-aside backups and restored copies ($name)', (testServer) => {
  const world = useServer(testServer)

  it('puts every message once into the folder it belongs to (copy, mirror, migrate --reset), and a rerun changes nothing', async () => {
    const {server, proxy, viaProxy} = world
    const account = await cycleHome(viaProxy, [0, 1, 2, 3])
    const alice = account.user
    const {folder, contents, messages} = await seededFolder(server, account, 'Moved', 400)

    // The server rebuilds the folder (new UIDVALIDITY) and loses message 2; the backup keeps the
    // old copy aside. Then the server loses message 3 too, which the backup keeps.
    const {before} = await rebuildFolder(server, alice, folder, [2])
    const keptAside = `${folder}-${before}`
    // A flag set on the server after the change: the live folder's backup has it (downloaded
    // afresh next), the kept-aside one (the same message) not. The destination follows the live
    // folder, and a rerun changes no flag back and forth.
    await addFlags(server, alice, folder, [(await listUids(server, alice, folder))[0]!], ['\\Flagged'])
    await cli(account.home, ['backup', '-a', alice.user])
    const uids = await listUids(server, alice, folder)
    await expunge(server, alice, folder, [uids[2]!])
    await cli(account.home, ['backup', '-a', alice.user])
    // A restore into the own server and a backup: the backup now holds two entries of message 3
    // (the original and the restored copy) and message 2 in both folders.
    await cli(account.home, ['restore', alice.user])
    await cli(account.home, ['backup', '-a', alice.user])
    await expectEachOnce(server, alice, folder, contents)
    expect([...(await backupContent(account.root, folder)).values()].reduce((a, b) => a + b, 0)).toBe(6)

    // migrate --reset empties the destination folder once, not again for the kept-aside backup
    // that goes into it after the folder's own backup.
    for (const [command, index, options] of [
      ['copy', 1, []],
      ['mirror', 2, []],
      ['migrate', 3, ['--reset', '--yes']],
    ] as const) {
      const dest = server.users[index]!
      proxy.resetStats()
      const first = await cli<Report>(account.home, [command, alice.user, dest.user, ...options])
      expect(first.folders.filter((f) => f.source.startsWith(folder)).map((f) => [f.source, f.destination])).toEqual([
        [folder, folder],
        [keptAside, folder],
      ])
      expect(appends(proxy), command).toBe(contents.size)
      await expectEachOnce(server, dest, folder, contents)
      expect((await listFolders(server, dest)).map((f) => f.name).filter((n) => n.startsWith(folder)), command).toEqual([folder])

      const state = await serverState(server, dest, folder)
      proxy.resetStats()
      const again = await cli<Report>(account.home, [command, alice.user, dest.user])
      expect(again.folders.filter((f) => f.source.startsWith(folder)).map((f) => [f.uploaded, f.adopted, f.deleted, f.flagsUpdated]), command).toEqual([
        [0, 0, 0, 0],
        [0, 0, 0, 0],
      ])
      const flagged = (await fetchMessages(server, dest, folder)).filter((m) => m.flags.includes('\\Flagged'))
      if (command !== 'migrate') expect(flagged.map((m) => sha256(m.raw)), command).toEqual([sha256(messages[0]!.raw)])
      expect(appends(proxy), command).toBe(0)
      expect(await serverState(server, dest, folder)).toEqual(state)
    }
  })

  it('a copy made before a restore cycle gets no second copy, and follows the flags of the restored copy', async () => {
    const {server, proxy, viaProxy} = world
    const account = await cycleHome(viaProxy, [0, 1])
    const alice = account.user
    const bob = server.users[1]!
    const {folder, contents, messages} = await seededFolder(server, account, 'Early', 600)
    await expunge(server, alice, folder, [(await listUids(server, alice, folder))[2]!])
    await cli(account.home, ['backup', '-a', alice.user])
    await cli(account.home, ['copy', alice.user, bob.user])
    await expectEachOnce(server, bob, folder, contents)

    // Restored on the source and backed up: the backup holds message 2 twice, one message.
    await cli(account.home, ['restore', alice.user])
    await cli(account.home, ['backup', '-a', alice.user])
    // The user flags the restored copy on the source server.
    const restoredUid = (await listUids(server, alice, folder)).pop()!
    await addFlags(server, alice, folder, [restoredUid], ['\\Flagged'])

    proxy.resetStats()
    await cli(account.home, ['copy', alice.user, bob.user])
    expect(appends(proxy)).toBe(0)
    await expectEachOnce(server, bob, folder, contents)
    const flagged = (await fetchMessages(server, bob, folder)).filter((m) => m.flags.includes('\\Flagged'))
    expect(flagged.map((m) => sha256(m.raw))).toEqual([sha256(messages[2]!.raw)])
    const again = await cli<Report>(account.home, ['copy', alice.user, bob.user])
    expect(again.folders.find((f) => f.source === folder)).toMatchObject({uploaded: 0, flagsUpdated: 0})
  })
})
