// Which folders a backup takes, on each server of serverKinds(): a \Noselect folder (a hierarchy
// level that holds no mail, RFC 3501 §7.2.2) is skipped without being examined and without a
// failure; its children are backed up; a folder with a non-ASCII name (modified UTF-7 on the
// wire, RFC 3501 §5.1.3) is stored under its decoded name. Whether the parent of a nested folder
// is such a level or a folder of its own is the server's choice (createMakesParentFolders): Cyrus
// makes it a folder, which is then backed up like any other.
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createFolder, folderName, listFolders, seedFolder, serverAt} from '../support/mail-seed.js'
import {serverKinds, startServer, type ServerKind, type TestServer} from '../support/servers.js'
import {startProxy, type TcpProxy} from '../support/tcp-proxy.js'
import {testTempDir} from '../support/temp-dir.js'
import {accountFile, backup, commandSummary, expectBackupEqualsServer, makeConfig} from './helpers.js'

/** How each server lists `Parent` after CREATE `Parent<sep>Child` (the harness's setup). */
const PARENT_FLAG: Record<ServerKind, string | undefined> = {
  // Maildir with LAYOUT=fs: `Parent` is a directory that is not a mailbox.
  dovecot: '\\Noselect',
  // A folder of its own (createMakesParentFolders).
  cyrus: undefined,
  // Maildir++ keeps only `.Parent.Child`; `INBOX.Parent` is listed as a level of the hierarchy.
  courier: '\\Noselect',
}

describe.each(serverKinds())('folder selection, %s', (kind: ServerKind) => {
  let dc: TestServer
  let proxy: TcpProxy

  beforeAll(async () => {
    dc = await startServer(kind, {dovecot: {storage: 'maildir'}})
    proxy = await startProxy({targetPort: dc.port})
  })
  afterAll(async () => {
    await proxy?.close()
    await dc?.stop()
  })

  it('skips a \\Noselect folder without examining it, backs up its child and a non-ASCII folder', async () => {
    const user = dc.users[0]!
    const parent = folderName(dc, 'Parent')
    const child = folderName(dc, 'Parent', 'Child')
    const drafts = folderName(dc, 'Entwürfe')
    await createFolder(dc, user.user, child)
    await seedFolder(dc, user, child, 3)
    await seedFolder(dc, user, drafts, 2)
    await seedFolder(dc, user, 'INBOX', 1)
    const listed = await listFolders(dc, user.user)
    const parentFlag = PARENT_FLAG[kind]
    if (parentFlag === undefined) {
      expect(dc.facts.createMakesParentFolders).toBe(true)
      expect(listed.find((f) => f.name === parent)?.flags).not.toContain('\\Noselect')
    } else {
      expect(dc.facts.createMakesParentFolders).toBe(false)
      expect(listed.find((f) => f.name === parent)?.flags).toContain(parentFlag)
    }

    const dir = await testTempDir()
    const root = join(dir, 'backup')
    const config = await makeConfig(dir, [accountFile(serverAt(dc, proxy.port), user, root)])
    proxy.resetStats()
    const report = await backup(config)
    expect(report.exitCode).toBe(0)
    const folders = report.accounts.flatMap((a) => a.folders)
    expect(folders.map((f) => f.folder).sort()).toEqual([drafts, 'INBOX', child, ...(parentFlag === undefined ? [parent] : [])].sort())
    expect(folders.every((f) => f.outcome === 'ok')).toBe(true)
    const examined = proxy.commands.filter((c) => c.name === 'EXAMINE' || c.name === 'SELECT').map((c) => c.line)
    expect(examined.some((line) => line.includes(`"${parent}"`)), commandSummary(proxy)).toBe(parentFlag === undefined)
    // On the wire the name is modified UTF-7 (RFC 3501 §5.1.3).
    expect(examined.some((line) => line.includes(`"${folderName(dc, 'Entw&APw-rfe')}"`)), commandSummary(proxy)).toBe(true)
    await expectBackupEqualsServer(dc, user, root, child)
    await expectBackupEqualsServer(dc, user, root, drafts)
    if (parentFlag === undefined) await expectBackupEqualsServer(dc, user, root, parent)
  })
})
