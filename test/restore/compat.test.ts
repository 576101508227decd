/**
 * imap-backup's restore acceptance checks (compat §9.2 items 50–65), with a backup written by
 * imap-backup itself (no exactness records): local folder `stuff-to-restore`, UIDVALIDITY 1234,
 * msg1 `[Flagged]`, msg2 `[Draft, $NON_SYSTEM_FLAG]`. On each server of serverKinds() with '.'
 * as delimiter: Dovecot shaped like imap-backup's test server (no prefix), Cyrus and Courier with
 * their `INBOX.`, under which the folder is restored (`INBOX.stuff-to-restore`, the prefix put in
 * front as for any restore) and under which the explicit `--prefix` of items 63–65 is given.
 *
 * Deliberately different (compat "deliberately differs" item 8):
 * - 52, 53, 55, 60: imap-backup rewrites the LOCAL backup (new UIDs, new UIDVALIDITY, renamed
 *   files). mailkeep never writes the backup during a restore: these items check instead that
 *   the files are byte for byte unchanged, and the UID pairing lives in `<folder>.restore`.
 * - 57: the local backup is not renamed to `stuff-to-restore-1234`; only the server side gets that
 *   name (59, 61 hold as they are).
 * - 51: keywords such as `$NON_SYSTEM_FLAG` are restored too (imap-backup drops them), since the
 *   server accepts them (PERMANENTFLAGS `\*`).
 */
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {TestUser} from '../support/dovecot.js'
import {appendMessages, createFolder, fetchMessages, folderName, folderStatus, listFolders} from '../support/mail-seed.js'
import {serverKinds, startServer, type ServerKind, type TestServer} from '../support/servers.js'
import {testTempDir} from '../support/temp-dir.js'
import {runCli} from '../support/cli.js'
import {accountFile, backupFiles, crlf, featureMessage, folderOf, makeConfig, restore, writeImapBackupFolder} from '../transfer/helpers.js'

const FOLDER = 'stuff-to-restore'
const MSG1 = featureMessage('Test 1', 'body 1\nHi')
const MSG2 = featureMessage('Test 2', 'body 2')
const MSG3 = featureMessage('Test 3', 'body 3')

describe.each(serverKinds())('restore (compat §9.2 items 50–65), %s', (kind: ServerKind) => {
  let dc: TestServer
  /** Where the local folder FOLDER is restored: under the server's prefix. */
  let dest: string

  beforeAll(async () => {
    dc = await startServer(kind, {separator: '.', dovecot: {prefix: ''}})
    dest = folderName(dc, FOLDER)
  })
  afterAll(async () => {
    await dc?.stop()
  })

  async function setUp(user: TestUser, uidValidity = 1234): Promise<{root: string; config: Awaited<ReturnType<typeof makeConfig>>; dir: string}> {
    const dir = await testTempDir()
    const root = join(dir, 'backup')
    await writeImapBackupFolder(root, FOLDER, uidValidity, [
      {uid: 123, text: MSG1, flags: ['Flagged']},
      {uid: 345, text: MSG2, flags: ['Draft', '$NON_SYSTEM_FLAG']},
    ])
    const config = await makeConfig(dir, [accountFile(dc, user, root)])
    return {root, config, dir}
  }

  const bodies = async (user: TestUser, folder: string): Promise<string[]> => (await fetchMessages(dc, user, folder)).map((m) => m.raw.toString('latin1'))

  it('50–53: a missing folder is created, bodies in order, \\Flagged restored; the backup is not changed', async () => {
    const user = dc.users[0]!
    const {root, config} = await setUp(user)
    const before = await backupFiles(root, FOLDER)
    const report = await restore(config, {account: user.user})
    expect(report.exitCode).toBe(0)
    expect(folderOf(report, FOLDER)).toMatchObject({destination: dest, created: true, uploaded: 2}) // 50
    expect(await bodies(user, dest)).toEqual([crlf(MSG1).toString('latin1'), crlf(MSG2).toString('latin1')]) // 50
    const messages = await fetchMessages(dc, user, dest)
    expect(messages[0]!.flags).toEqual(['\\Flagged']) // 51
    expect([...messages[1]!.flags].sort()).toEqual(['$NON_SYSTEM_FLAG', '\\Draft']) // 51 (keywords too)
    expect(await backupFiles(root, FOLDER)).toEqual(before) // 52, 53: differ on purpose
    const map = JSON.parse(await readFile(join(root, `${FOLDER}.restore`), 'utf8'))
    const status = await folderStatus(dc, user, dest)
    expect(map.destinations[user.user][dest]).toEqual({
      source_uid_validity: 1234,
      destination_uid_validity: status.uidValidity,
      map: {'123': messages[0]!.uid, '345': messages[1]!.uid},
    })
  })

  it('54: the folder exists with the same UIDVALIDITY and holds msg3: msg3, msg1, msg2', async () => {
    const user = dc.users[1]!
    await createFolder(dc, user, dest)
    await appendMessages(dc, user, dest, [{raw: crlf(MSG3)}])
    const {uidValidity} = await folderStatus(dc, user, dest)
    const {config} = await setUp(user, uidValidity)
    const report = await restore(config, {account: user.user})
    expect(folderOf(report, FOLDER)).toMatchObject({destination: dest, created: false, uploaded: 2})
    expect(await bodies(user, dest)).toEqual([MSG3, MSG1, MSG2].map((m) => crlf(m).toString('latin1')))
  })

  it('55–56: the folder exists, empty, with another UIDVALIDITY: the messages go there (the backup keeps its UIDVALIDITY)', async () => {
    const user = dc.users[2]!
    await createFolder(dc, user, dest)
    const {root, config} = await setUp(user)
    const before = await backupFiles(root, FOLDER)
    const report = await restore(config, {account: user.user})
    expect(folderOf(report, FOLDER)).toMatchObject({destination: dest, created: false, uploaded: 2})
    expect(await bodies(user, dest)).toEqual([MSG1, MSG2].map((m) => crlf(m).toString('latin1'))) // 56
    expect(await backupFiles(root, FOLDER)).toEqual(before) // 55 differs on purpose
  })

  it('57–61: the folder holds other mail with another UIDVALIDITY: left untouched, stuff-to-restore-1234 created and filled', async () => {
    const user = dc.users[3]!
    await createFolder(dc, user, dest)
    await appendMessages(dc, user, dest, [{raw: crlf(MSG3)}])
    const {root, config} = await setUp(user)
    const before = await backupFiles(root, FOLDER)
    const report = await restore(config, {account: user.user})
    const folder = folderOf(report, FOLDER)
    expect(folder).toMatchObject({destination: `${dest}-1234`, created: true, uploaded: 2, clash: {folder: dest}})
    expect(await backupFiles(root, FOLDER)).toEqual(before) // 57 differs: the backup is not renamed
    expect(await bodies(user, dest)).toEqual([crlf(MSG3).toString('latin1')]) // 58
    expect((await listFolders(dc, user)).map((f) => f.name)).toContain(`${dest}-1234`) // 59
    const map = JSON.parse(await readFile(join(root, `${FOLDER}.restore`), 'utf8'))
    expect(map.destinations[user.user][`${dest}-1234`].destination_uid_validity).toBe((await folderStatus(dc, user, `${dest}-1234`)).uidValidity) // 60, in the map
    expect(await bodies(user, `${dest}-1234`)).toEqual([MSG1, MSG2].map((m) => crlf(m).toString('latin1'))) // 61
  })

  it('62: an ISO-8859-1 8-bit body arrives byte for byte', async () => {
    const user = dc.users[0]!
    const dir = await testTempDir()
    const root = join(dir, 'backup')
    const latin = 'From: address@example.org\nSubject: 8-bit\nContent-Type: text/plain; charset=ISO-8859-1\n\nMa, perchè?\n\n'
    await writeImapBackupFolder(root, 'latin', 99, [{uid: 1, text: latin}])
    const config = await makeConfig(dir, [accountFile(dc, user, root)])
    expect((await restore(config, {account: user.user})).exitCode).toBe(0)
    const [message] = await fetchMessages(dc, user, folderName(dc, 'latin'))
    expect(message!.raw.equals(crlf(latin, 'latin1'))).toBe(true)
    expect(message!.raw.includes(Buffer.from([0xe8]))).toBe(true)
  })

  it('63: --prefix CIAO --delimiter . creates CIAO.stuff-to-restore (under the server prefix where there is one)', async () => {
    const user = dc.users[0]!
    const {config} = await setUp(user)
    const ciao = folderName(dc, 'CIAO')
    const report = await restore(config, {account: user.user, prefix: ciao, delimiter: '.'})
    expect(folderOf(report, FOLDER).destination).toBe(`${ciao}.${FOLDER}`)
    expect(await bodies(user, `${ciao}.${FOLDER}`)).toEqual([MSG1, MSG2].map((m) => crlf(m).toString('latin1')))
  })

  it('64–65: the CLI with --config exits 0 and restores the messages; --json is the report', async () => {
    const user = dc.users[1]!
    const {dir, root} = await setUp(user)
    const config = join(dir, 'config.json')
    const home = await testTempDir()
    const cli = folderName(dc, 'cli')
    const result = await runCli(['restore', user.user, '--config', config, '--folders', FOLDER, '--prefix', cli, '--json'], {env: {HOME: home}})
    expect(result.code, result.stderr).toBe(0)
    const report = JSON.parse(result.stdout)
    expect(report.folders[0]).toMatchObject({source: FOLDER, destination: `${cli}.${FOLDER}`, uploaded: 2, outcome: 'ok'})
    expect(await bodies(user, `${cli}.${FOLDER}`)).toEqual([MSG1, MSG2].map((m) => crlf(m).toString('latin1')))
    void root
    const text = await runCli(['restore', user.user, '--config', config, '--folders', FOLDER, '--prefix', cli], {env: {HOME: home}})
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toMatch(/total: 0 uploaded .*2 already there/)
  })
})
