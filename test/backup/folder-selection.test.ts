// Which folders a backup takes, against Dovecot: a \Noselect folder (a hierarchy level that holds
// no mail, RFC 3501 §7.2.2) is skipped without being examined and without a failure; its
// children are backed up; a folder with a non-ASCII name (modified UTF-7 on the wire, RFC 3501
// §5.1.3) is stored under its decoded name.
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startDovecot, type DovecotInstance} from '../support/dovecot.js'
import {createFolder, listFolders, seedFolder, serverAt} from '../support/mail-seed.js'
import {startProxy, type TcpProxy} from '../support/tcp-proxy.js'
import {testTempDir} from '../support/temp-dir.js'
import {accountFile, backup, commandSummary, expectBackupEqualsServer, makeConfig} from './helpers.js'

describe('folder selection', () => {
  let dc: DovecotInstance
  let proxy: TcpProxy

  beforeAll(async () => {
    // Maildir with LAYOUT=fs: creating `Parent/Child` leaves `Parent` a directory that is not a
    // mailbox, which Dovecot lists as \Noselect.
    dc = await startDovecot({storage: 'maildir', separator: '/'})
    proxy = await startProxy({targetPort: dc.port})
  })
  afterAll(async () => {
    await proxy?.close()
    await dc?.stop()
  })

  it('skips a \\Noselect folder without examining it, backs up its child and a non-ASCII folder', async () => {
    const user = dc.users[0]!
    await createFolder(dc, user.user, 'Parent/Child')
    await seedFolder(dc, user, 'Parent/Child', 3)
    await seedFolder(dc, user, 'Entwürfe', 2)
    await seedFolder(dc, user, 'INBOX', 1)
    const listed = await listFolders(dc, user.user)
    expect(listed.find((f) => f.name === 'Parent')?.flags).toContain('\\Noselect')

    const dir = await testTempDir()
    const root = join(dir, 'backup')
    const config = await makeConfig(dir, [accountFile(serverAt(dc, proxy.port), user, root)])
    proxy.resetStats()
    const report = await backup(config)
    expect(report.exitCode).toBe(0)
    const folders = report.accounts.flatMap((a) => a.folders)
    expect(folders.map((f) => f.folder).sort()).toEqual(['Entwürfe', 'INBOX', 'Parent/Child'])
    expect(folders.every((f) => f.outcome === 'ok')).toBe(true)
    const examined = proxy.commands.filter((c) => c.name === 'EXAMINE' || c.name === 'SELECT').map((c) => c.line)
    expect(examined.some((line) => /"Parent"/.test(line)), commandSummary(proxy)).toBe(false)
    // On the wire the name is modified UTF-7 (RFC 3501 §5.1.3).
    expect(examined.some((line) => line.includes('"Entw&APw-rfe"')), commandSummary(proxy)).toBe(true)
    await expectBackupEqualsServer(dc, user, root, 'Parent/Child')
    await expectBackupEqualsServer(dc, user, root, 'Entwürfe')
  })
})
