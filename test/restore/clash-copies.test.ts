/**
 * U7 across accounts (docs/commands/restore.md, "Folder clashes"): `copy` puts A's messages into
 * B's folder that also holds B's own mail; a later `restore A --to B` meets that folder as a
 * clash (other mail) and must not upload A's messages into `<name>-<uidvalidity>` again: they
 * are in the folder that clashed already. Only what it lacks goes into the clash folder.
 *
 * On each server of serverKinds(). Before the fix, the restore created `Work-<uv>` and uploaded
 * every backed-up message into it: B held each of A's messages twice (the sequence test's
 * `restore-clash` plan `append; b-append; backup; migrate; restore-to-b`).
 */
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {appendMessages, ensureFolder, expunge, folderName, listFolders, listUids, seedFolder, serverAt} from '../support/mail-seed.js'
import {serverKinds, startServer, type ServerKind, type TestServer} from '../support/servers.js'
import {startProxy, type TcpProxy} from '../support/tcp-proxy.js'
import {makeTempDir, removeTempDir} from '../support/temp-dir.js'
import {accountFile, appends, backup, backupItems, destinationItems, expectSameMail, folderOf, makeConfig, restore, transfer} from '../transfer/helpers.js'

describe.each(serverKinds())('%s', (kind: ServerKind) => {
  let server: TestServer
  let proxy: TcpProxy
  let dir: string

  beforeAll(async () => {
    server = await startServer(kind)
    proxy = await startProxy({targetPort: server.port})
    dir = await makeTempDir('mailkeep-clash-copies-')
  })

  afterAll(async () => {
    await proxy?.close()
    await server?.stop()
    if (dir !== undefined) await removeTempDir(dir)
  })

  it("restore --to B after copy into B's folder that holds B's own mail: the copies there count, nothing is doubled", async () => {
    const [alice, bob] = server.users
    const work = folderName(server, 'Work')
    const via = serverAt(server, proxy.port)
    const root = join(dir, 'alice')
    const cfg = await makeConfig(dir, [accountFile(via, alice!, root, {folders: [work]}), accountFile(via, bob!, join(dir, 'bob'), {folders: [work]})])
    await seedFolder(server, alice!, work, 4)
    await ensureFolder(server, bob!, work)
    await appendMessages(server, bob!, work, [{raw: Buffer.from("Subject: B's own mail\r\n\r\nnot from A\r\n")}]) // the folder will clash
    expect((await backup(cfg, {accounts: [alice!.user]})).exitCode).toBe(0)
    const backedUp = await backupItems(root, work)

    const copied = await transfer(cfg, {command: 'copy', source: alice!.user, destination: bob!.user})
    expect(copied.exitCode, JSON.stringify(copied.folders)).toBe(0)
    expect(folderOf(copied, work)).toMatchObject({uploaded: 4})
    const own = (await destinationItems(server, bob!, work)).filter((m) => !backedUp.some((b) => b.sha === m.sha))
    expect(own).toHaveLength(1)

    // Every message of the backup is in B's Work: no clash folder at all.
    const foldersBefore = (await listFolders(server, bob!)).map((f) => f.name).sort()
    proxy.resetStats()
    const first = await restore(cfg, {account: alice!.user, to: bob!.user, folders: [work]})
    expect(first.exitCode, JSON.stringify(first.folders)).toBe(0)
    expect(folderOf(first, work)).toMatchObject({destination: work, uploaded: 0, adopted: 4, clash: {folder: work, present: 4}})
    expect(appends(proxy)).toBe(0)
    expect((await listFolders(server, bob!)).map((f) => f.name).sort()).toEqual(foldersBefore)
    expectSameMail(await destinationItems(server, bob!, work), backedUp, {extra: 1})

    // B deletes one of the copies: the next restore puts that one, and only it, into the clash folder.
    const gone = (await listUids(server, bob!, work)).slice(-1)
    await expunge(server, bob!, work, gone)
    proxy.resetStats()
    const second = await restore(cfg, {account: alice!.user, to: bob!.user, folders: [work]})
    expect(second.exitCode, JSON.stringify(second.folders)).toBe(0)
    const report = folderOf(second, work)
    expect(report).toMatchObject({created: true, uploaded: 1, clash: {folder: work, present: 3}})
    expect(report.destination).not.toBe(work)
    expect(appends(proxy)).toBe(1)
    const all = [...(await destinationItems(server, bob!, work)), ...(await destinationItems(server, bob!, report.destination))]
    expectSameMail(all, backedUp, {extra: 1})

    // A third run appends nothing.
    proxy.resetStats()
    const third = await restore(cfg, {account: alice!.user, to: bob!.user, folders: [work]})
    expect(folderOf(third, work)).toMatchObject({destination: report.destination, uploaded: 0, alreadyPresent: 4})
    expect(appends(proxy)).toBe(0)
  })
})
