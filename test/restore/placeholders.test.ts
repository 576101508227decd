/**
 * ignore-history's placeholders are never uploaded (docs/commands/utils.md): they stand for mail
 * the backup does not hold, they are not mail. restore, restore --to, copy, mirror and migrate
 * upload the real messages of a folder that holds them, count the placeholders in the report
 * (`placeholders`) and exit 0; a second run does the same and appends nothing.
 *
 * On each server of serverKinds(). Before the fix, Cyrus refused every placeholder (its bytes
 * end lines with a bare LF: "Message contains bare newlines"), so each of these runs ended
 * incomplete (exit 4); Dovecot and Courier stored them, and the destination account then held
 * "Message <uid> not backed up" messages that were never mail.
 */
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ignoreHistory} from '../../src/engine/backup/ignore-history.js'
import {silentContext} from '../../src/shared/context.js'
import {appendMessages, folderName, listFolders, seedFolder, serverAt} from '../support/mail-seed.js'
import {serverKinds, startServer, type ServerKind, type TestServer} from '../support/servers.js'
import {startProxy, type TcpProxy} from '../support/tcp-proxy.js'
import {makeTempDir, removeTempDir} from '../support/temp-dir.js'
import {accountFile, appends, backup, backupItems, destinationItems, expectSameMail, folderOf, makeConfig, restore, transfer} from '../transfer/helpers.js'

describe.each(serverKinds())('%s', (kind: ServerKind) => {
  let server: TestServer
  let proxy: TcpProxy
  let dir: string
  let work: string

  beforeAll(async () => {
    server = await startServer(kind)
    proxy = await startProxy({targetPort: server.port})
    dir = await makeTempDir('mailkeep-placeholders-')
    work = folderName(server, 'Work')
  })

  afterAll(async () => {
    await proxy?.close()
    await server?.stop()
    if (dir !== undefined) await removeTempDir(dir)
  })

  it('restore --to, copy and mirror upload the real messages and skip the placeholders, and say so', async () => {
    const [alice, bob, carol] = server.users
    const via = serverAt(server, proxy.port)
    const root = join(dir, 'alice')
    const cfg = await makeConfig(dir, [accountFile(via, alice!, root, {folders: [work]}), accountFile(via, bob!, join(dir, 'bob')), accountFile(via, carol!, join(dir, 'carol'))])
    await seedFolder(server, alice!, work, 3)
    const ignored = await ignoreHistory({config: cfg, email: alice!.user}, silentContext())
    expect(ignored.folders.find((f) => f.folder === work)).toMatchObject({ignored: 3})
    await appendMessages(server, alice!, work, [{raw: Buffer.from('Subject: real mail, after ignore-history\r\n\r\nkept\r\n'), flags: ['\\Seen']}])
    expect((await backup(cfg)).exitCode).toBe(0)
    const stored = await backupItems(root, work)
    expect(stored).toHaveLength(4)
    const real = stored.filter((m) => m.uid === 4)

    proxy.resetStats()
    const restored = await restore(cfg, {account: alice!.user, to: bob!.user, folders: [work]})
    expect(restored.exitCode, JSON.stringify(restored.folders)).toBe(0)
    expect(folderOf(restored, work)).toMatchObject({outcome: 'ok', uploaded: 1, placeholders: 3, skipped: []})
    expect(appends(proxy)).toBe(1)
    expectSameMail(await destinationItems(server, bob!, work), real)
    proxy.resetStats()
    const again = await restore(cfg, {account: alice!.user, to: bob!.user, folders: [work]})
    expect(folderOf(again, work)).toMatchObject({outcome: 'ok', uploaded: 0, alreadyPresent: 1, placeholders: 3})
    expect(appends(proxy)).toBe(0)

    for (const command of ['copy', 'mirror'] as const) {
      proxy.resetStats()
      const copied = await transfer(cfg, {command, source: alice!.user, destination: carol!.user})
      expect(copied.exitCode, `${command}: ${JSON.stringify(copied.folders)}`).toBe(0)
      expect(folderOf(copied, work)).toMatchObject({outcome: 'ok', placeholders: 3, skipped: []})
      expect(appends(proxy)).toBe(command === 'copy' ? 1 : 0) // mirror finds copy's copy in the map
      expect((await listFolders(server, carol!)).map((f) => f.name)).toContain(work)
      expectSameMail(await destinationItems(server, carol!, work), real)
    }
  })
})
