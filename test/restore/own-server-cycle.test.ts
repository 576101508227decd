/**
 * Restore into the account's own server, then backup, again and again (issue 11 item 1): the
 * backup downloads the copies the restore made, under new UIDs, and must recognise them as
 * copies of what it already holds; a restore must never append a message the destination
 * already holds. Before the fix, each cycle doubled the restored message once more (6 messages
 * of 5 distinct after two cycles, on Dovecot, Cyrus and Courier), and a restore to another
 * account copied the doubles too.
 *
 * The real CLI against a real server, which the suite takes as a parameter (`ImapServer`).
 */
import {readFile} from 'node:fs/promises'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startDovecot, type DovecotInstance} from '../support/dovecot.js'
import {expunge, folderName, listUids, seedFolder, seedMessage, type ImapServer} from '../support/mail-seed.js'
import {folderFiles} from '../cli/helpers.js'
import {sha256} from '../transfer/helpers.js'
import {backupContent, cli, cycleHome, expectEachOnce, serverState} from './cycle.js'

interface Server {
  name: string
  start(): Promise<ImapServer & {stop(): Promise<void>}>
}

const SERVERS: Server[] = [{name: 'Dovecot', start: (): Promise<DovecotInstance> => startDovecot({separator: '/'})}]

interface Report {
  folders: Array<{source: string; destination: string; uploaded: number; alreadyPresent: number; adopted: number}>
}

describe.each(SERVERS)('restore into its own server, then backup, repeatedly ($name)', ({start}) => {
  let server: ImapServer & {stop(): Promise<void>}
  beforeAll(async () => {
    server = await start()
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('keeps every message once on the server, recognises the restored copies, and a restore elsewhere gets each once', async () => {
    const account = await cycleHome(server, [0, 1])
    const alice = account.user
    const bob = server.users[1]!
    const folder = folderName(server, 'Cycle')
    const messages = [0, 1, 2, 3, 4].map((i) => seedMessage(100 + i))
    const contents = new Set(messages.map((m) => sha256(m.raw)))
    await seedFolder(server, alice, folder, messages.length, (i) => messages[i]!)

    await cli(account.home, ['backup', '-a', alice.user])
    const uids = await listUids(server, alice, folder)
    await expunge(server, alice, folder, [uids[2]!])
    await cli(account.home, ['backup', '-a', alice.user])

    for (let cycle = 1; cycle <= 2; cycle++) {
      const restored = await cli<Report>(account.home, ['restore', alice.user])
      const f = restored.folders.find((r) => r.source === folder)!
      expect(f.destination).toBe(folder)
      // The first restore puts back the expunged message; later ones find everything there.
      expect(f.uploaded, `cycle ${cycle}: ${JSON.stringify(f)}`).toBe(cycle === 1 ? 1 : 0)
      await expectEachOnce(server, alice, folder, contents)
      await cli(account.home, ['backup', '-a', alice.user])
    }

    // The backup holds every message; the restored copy it downloaded is recognised as one.
    expect(new Set((await backupContent(account.root, folder)).keys())).toEqual(contents)

    // A restore to another account gets each message once, not the backup's two entries of one.
    await cli(account.home, ['restore', alice.user, '--to', bob.user])
    await expectEachOnce(server, bob, folder, contents)

    // A fixed point: one more cycle changes nothing on the server or in the backup.
    const before = await serverState(server, alice, folder)
    const files = folderFiles(account.root, folder)
    const backupBefore = [await readFile(files.mbox), await readFile(files.imap)]
    const again = await cli<Report>(account.home, ['restore', alice.user])
    expect(again.folders.find((r) => r.source === folder)).toMatchObject({uploaded: 0, adopted: 0})
    await cli(account.home, ['backup', '-a', alice.user])
    expect(await serverState(server, alice, folder)).toEqual(before)
    expect([await readFile(files.mbox), await readFile(files.imap)]).toEqual(backupBefore)
  })
})
