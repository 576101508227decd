/**
 * Restore into the account's own server, then backup, again and again (issue 11 item 1): the
 * backup downloads the copies the restore made, under new UIDs, and must recognise them as
 * copies of what it already holds; a restore must never append a message the destination
 * already holds. Before the fix, each cycle doubled the restored message once more (6 messages
 * of 5 distinct after two cycles, on Dovecot, Cyrus and Courier), and a restore to another
 * account copied the doubles too.
 *
 * The invariant (docs/upload-maps.md, U7): a destination never holds more copies of a message
 * than the backup holds, where a restored copy the backup downloaded and the entry it was
 * restored from are one message. Each test checks it by content on the server: every message
 * of the folder exactly once, after every run.
 *
 * The real CLI against a real server, which the suite takes as a parameter (`ImapServer`), with
 * a loopback proxy in front of it for counting APPENDs and for the kill -9 case.
 */
import {readFile, rm} from 'node:fs/promises'
import {describe, expect, it} from 'vitest'
import {capabilitiesWithout} from '../imap/helpers.js'
import {serverKinds, startServer} from '../support/servers.js'
import {expunge, listUids} from '../support/mail-seed.js'
import {folderFiles} from '../cli/helpers.js'
import {appends} from '../transfer/helpers.js'
import {killDuringUpload} from '../transfer/kill.js'
import {backupContent, cli, CYCLE_SERVERS, cycleHome, expectEachOnce, seededFolder, serverState, useServer, type CycleServer} from './cycle.js'

const SERVERS: CycleServer[] = [
  ...CYCLE_SERVERS,
  // Without APPENDUID every restored copy is found again by size, date and bytes.
  ...(serverKinds().includes('dovecot') ? [{name: 'dovecot without UIDPLUS', start: () => startServer('dovecot', {dovecot: {capabilities: capabilitiesWithout('UIDPLUS')}})}] : []),
]

interface Report {
  folders: Array<{source: string; destination: string; uploaded: number; alreadyPresent: number; adopted: number}>
}

const folderReport = (report: Report, folder: string): Report['folders'][number] => report.folders.find((r) => r.source === folder)!

describe.each(SERVERS)('restore into its own server, then backup, repeatedly ($name)', (testServer) => {
  const world = useServer(testServer)

  /** A folder of five messages, backed up, one expunged on the server, backed up again. */
  async function scenario(name: string, seed: number, lose: readonly number[]) {
    const {server, viaProxy} = world
    const account = await cycleHome(viaProxy, [0, 1, 2])
    const alice = account.user
    const {folder, contents} = await seededFolder(server, account, name, seed)
    const uids = await listUids(server, alice, folder)
    await expunge(
      server,
      alice,
      folder,
      lose.map((i) => uids[i]!),
    )
    await cli(account.home, ['backup', '-a', alice.user])
    return {account, alice, folder, contents}
  }

  it('keeps every message once on the server, recognises the restored copies, and a restore elsewhere gets each once', async () => {
    const {server, proxy} = world
    const {account, alice, folder, contents} = await scenario('Cycle', 100, [2])
    const bob = server.users[1]!

    for (let cycle = 1; cycle <= 2; cycle++) {
      proxy.resetStats()
      const restored = await cli<Report>(account.home, ['restore', alice.user])
      const f = folderReport(restored, folder)
      expect(f.destination).toBe(folder)
      // The first restore puts back the expunged message; later ones find everything there.
      expect(f.uploaded, `cycle ${cycle}: ${JSON.stringify(f)}`).toBe(cycle === 1 ? 1 : 0)
      expect(appends(proxy)).toBe(cycle === 1 ? 1 : 0)
      await expectEachOnce(server, alice, folder, contents)
      await cli(account.home, ['backup', '-a', alice.user])
    }

    // The backup holds every message; the restored copy it downloaded is recognised as one.
    expect(new Set((await backupContent(account.root, folder)).keys())).toEqual(contents)
    const meta = JSON.parse(await readFile(folderFiles(account.root, folder).imap, 'utf8')) as {mailkeep_restored?: unknown}
    expect(meta.mailkeep_restored).toHaveLength(1)

    // A restore to another account gets each message once, not the backup's two entries of one.
    await cli(account.home, ['restore', alice.user, '--to', bob.user])
    await expectEachOnce(server, bob, folder, contents)

    // A fixed point: one more cycle changes nothing on the server or in the backup.
    const before = await serverState(server, alice, folder)
    const files = folderFiles(account.root, folder)
    const backupBefore = [await readFile(files.mbox), await readFile(files.imap)]
    proxy.resetStats()
    const again = await cli<Report>(account.home, ['restore', alice.user])
    expect(folderReport(again, folder)).toMatchObject({uploaded: 0, adopted: 0})
    await cli(account.home, ['backup', '-a', alice.user])
    expect(appends(proxy)).toBe(0)
    expect(await serverState(server, alice, folder)).toEqual(before)
    expect([await readFile(files.mbox), await readFile(files.imap)]).toEqual(backupBefore)

    // The backup itself knows: with the restore map lost (docs/upload-maps.md, "A lost map"),
    // neither the own server nor a new account gets the message twice.
    await rm(`${files.imap.slice(0, -'.imap'.length)}.restore`)
    proxy.resetStats()
    expect(folderReport(await cli<Report>(account.home, ['restore', alice.user]), folder).uploaded).toBe(0)
    expect(appends(proxy)).toBe(0)
    await expectEachOnce(server, alice, folder, contents)
    await rm(`${files.imap.slice(0, -'.imap'.length)}.restore`)
    const carol = server.users[2]!
    expect(folderReport(await cli<Report>(account.home, ['restore', alice.user, '--to', carol.user]), folder).uploaded).toBe(contents.size)
    await expectEachOnce(server, carol, folder, contents)
  })

  // Found by the sequence soak (seed 510608653 on Cyrus): the backup downloaded the copy the
  // killed restore had made, and nothing yet said it was a copy (only the restore's pending
  // intent names it), so a mirror to another account before the restore's rerun appended the copy
  // and its original. The backup now resolves the pending intent by bytes (pending-copies.ts).
  it('after a kill -9 between APPEND and its record and a backup, a mirror to another account before any rerun: every message once there', async () => {
    const {server, proxy} = world
    const {account, alice, folder, contents} = await scenario('KilledMirror', 400, [1, 3])
    const killed = await killDuringUpload(account.home, ['restore', alice.user, '--folders', folder], proxy, {append: 2})
    expect(killed.appends).toBe(2)
    const before = new Set(await listUids(server, alice, folder))
    await cli(account.home, ['backup', '-a', alice.user])
    // Each copy the killed run made (one or two: the second APPEND may have landed) is recorded,
    // and with the message it was restored from: the expunged ones are UIDs 2 and 4.
    const meta = JSON.parse(await readFile(folderFiles(account.root, folder).imap, 'utf8')) as {mailkeep_restored?: Array<[number, number]>}
    const made = [...before].filter((uid) => uid > 5)
    expect(made.length).toBeGreaterThanOrEqual(1)
    expect(meta.mailkeep_restored?.map(([c]) => c).sort((a, b) => a - b), 'the downloaded copies recorded as restored').toEqual(made)
    expect(meta.mailkeep_restored?.every(([, o]) => o === 2 || o === 4)).toBe(true)
    const bob = server.users[1]!
    await cli(account.home, ['mirror', alice.user, bob.user])
    await expectEachOnce(server, bob, folder, contents)
    // The rerun agrees with what the backup recorded: nothing appended twice on the own server.
    await cli(account.home, ['restore', alice.user, '--folders', folder])
    await expectEachOnce(server, alice, folder, contents)
  })

  it('after a kill -9 between APPEND and its record, a backup, and a rerun: every message once', async () => {
    const {server, proxy} = world
    const {account, alice, folder, contents} = await scenario('Killed', 300, [1, 3])
    // Killed when the second APPEND goes out: the first message is on the server, its UID not
    // yet recorded (only the batch's intent is).
    const killed = await killDuringUpload(account.home, ['restore', alice.user, '--folders', folder], proxy, {append: 2})
    expect(killed.appends).toBe(2)
    // The backup downloads that copy before any restore knew its UID.
    await cli(account.home, ['backup', '-a', alice.user])
    await cli(account.home, ['restore', alice.user, '--folders', folder])
    await expectEachOnce(server, alice, folder, contents)
    await cli(account.home, ['backup', '-a', alice.user])
    proxy.resetStats()
    expect(folderReport(await cli<Report>(account.home, ['restore', alice.user, '--folders', folder]), folder).uploaded).toBe(0)
    expect(appends(proxy)).toBe(0)
    await expectEachOnce(server, alice, folder, contents)
    // The copies downloaded were recognised (the one found after the crash included), so a new
    // account gets each message once.
    const bob = server.users[1]!
    await cli(account.home, ['restore', alice.user, '--to', bob.user, '--folders', folder])
    await expectEachOnce(server, bob, folder, contents)
  })
})
