/**
 * imap-backup's copy, mirror and migrate acceptance checks (compat §9.2 items 20–49), on each
 * server of serverKinds() with '.' as delimiter. Dovecot is shaped like imap-backup's test
 * servers: A = '.' without prefix, B = '.' with personal prefix `other_public.`. Cyrus and Courier
 * have one prefix, `INBOX.`, on both: there the folders of A are `INBOX.<name>` (so copy and
 * mirror take `--source-prefix INBOX.` off, and uploads to A put `--destination-prefix INBOX.` on,
 * as their users would), and B's prefix is `INBOX.` where Dovecot's is `other_public.`.
 *
 * Deliberately different (compat "deliberately differs" item 8, §12 improve items 5–6):
 * - 35, 38: mirror never deletes what it cannot prove is a copy. imap-backup empties the
 *   destination folder on the first run and deletes every unmapped destination message; mailkeep
 *   keeps them (msg2, msg3 survive) and deletes only copies whose source message is gone.
 * - 43, 45: imap-backup splits local names on '/' whatever the source server's delimiter, so its
 *   tests use local directories (`my_sub/migrate-folder`) that no backup of a '.' server has.
 *   mailkeep splits the stored (server) name on the source delimiter: the same checks with the
 *   names a backup of a '.' server really holds (`my_sub.migrate-folder`).
 * - 46: `--automatic-namespaces` asks NAMESPACE of both servers, so the source must be reachable:
 *   the check uses a source account on B.
 * - migrate is idempotent (imap-backup issue #188): a second run appends nothing.
 * - 24, 34: the `.mirror` entry has imap-backup's keys plus a `mailkeep` object (folder, pending
 *   intent), which imap-backup keeps when it rewrites the file.
 */
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {encodeFolderPath} from '../../src/store/folder-path.js'
import type {TestUser} from '../support/dovecot.js'
import {appendMessages, createFolder, fetchMessages, listFolders, listUids, setFlags} from '../support/mail-seed.js'
import {serverKinds, startServer, type ServerKind, type TestServer} from '../support/servers.js'
import {startProxy, type TcpProxy} from '../support/tcp-proxy.js'
import {runCli} from '../support/cli.js'
import {makeTempDir, removeTempDir, testTempDir} from '../support/temp-dir.js'
import {accountFile, appends, crlf, featureMessage, folderOf, makeConfig, transfer, writeImapBackupFolder} from './helpers.js'

const MSG1 = featureMessage('Test 1', 'body 1\nHi')
const MSG2 = featureMessage('Test 2', 'body 2')
const MSG3 = featureMessage('Test 3', 'body 3')
const ENTRY1 = `From address@example.org\n${MSG1}`

describe.each(serverKinds())('%s', (kind: ServerKind) => {
  let a: TestServer
  let b: TestServer
  let proxyB: TcpProxy
  let dir: string
  /** A's and B's folder names; B's prefix without its delimiter (`--destination-prefix`). */
  const aName = (name: string): string => a.prefix + name
  const bName = (name: string): string => b.prefix + name
  const bPrefix = (): string => b.prefix.slice(0, -1)
  /** Naming options that take A's prefix off a name of A, and that put it on a name for A. */
  const fromA = (): {sourcePrefix?: string} => (a.prefix === '' ? {} : {sourcePrefix: a.prefix})
  const toA = (): {destinationPrefix?: string} => (a.prefix === '' ? {} : {destinationPrefix: a.prefix})

  beforeAll(async () => {
    ;[a, b] = await Promise.all([startServer(kind, {separator: '.', dovecot: {prefix: ''}}), startServer(kind, {separator: '.', dovecot: {prefix: 'other_public.'}})])
    proxyB = await startProxy({targetPort: b.port})
    dir = await makeTempDir('mailkeep-transfer-compat-')
  })
  afterAll(async () => {
    await proxyB?.close()
    await a?.stop()
    await b?.stop()
    if (dir !== undefined) await removeTempDir(dir)
  })

  const bodies = async (server: TestServer, user: TestUser, folder: string): Promise<string[]> => (await fetchMessages(server, user, folder)).map((m) => m.raw.toString('latin1'))
  const text = (...messages: string[]): string[] => messages.map((m) => crlf(m).toString('latin1'))

  describe.each(['copy', 'mirror'] as const)('%s (compat §9.2 items 20–39)', (command) => {
    const sourceUser = (): TestUser => a.users[command === 'copy' ? 0 : 2]!
    const destUser = (): TestUser => b.users[command === 'copy' ? 1 : 3]!
    const root = (): string => join(dir, `${command}-source`)
    const config = (): ReturnType<typeof makeConfig> =>
      makeConfig(dir, [accountFile(a, sourceUser(), root(), {folders: [aName('my_folder')]}), accountFile({host: b.host, port: proxyB.port}, destUser(), join(dir, `${command}-dest`))])
    const options = (): Omit<Parameters<typeof transfer>[1], 'source' | 'destination'> => ({command, destinationPrefix: bPrefix(), destinationDelimiter: '.', ...fromA()})
    const run = async (): Promise<Awaited<ReturnType<typeof transfer>>> => transfer(await config(), {...options(), source: sourceUser().user, destination: destUser().user})

    it('20–24, 30–34: backs up, creates the folder, uploads the CRLF body with \\Seen, writes the .mirror map', async () => {
      await createFolder(a, sourceUser(), aName('my_folder'))
      const [srcUid] = await appendMessages(a, sourceUser(), aName('my_folder'), [{raw: crlf(MSG1), flags: ['\\Seen']}])
      const report = await run()
      expect(report.exitCode).toBe(0)
      expect(await readFile(join(root(), `${encodeFolderPath(aName('my_folder'))}.mbox`), 'utf8')).toBe(ENTRY1) // 20
      expect(folderOf(report, aName('my_folder'))).toMatchObject({destination: bName('my_folder'), created: true, uploaded: 1}) // 21
      expect((await listFolders(b, destUser())).map((f) => f.name)).toContain(bName('my_folder'))
      const [message] = await fetchMessages(b, destUser(), bName('my_folder'))
      expect(message!.raw.equals(crlf(MSG1))).toBe(true) // 22
      expect(message!.flags).toEqual(['\\Seen']) // 23
      const map = JSON.parse(await readFile(join(root(), `${encodeFolderPath(aName('my_folder'))}.mirror`), 'utf8'))
      expect(map).toMatchObject({[destUser().user]: {map: {[String(srcUid)]: message!.uid}}}) // 24
    })

    it(`25, 35: a message already on the destination is kept (${command === 'mirror' ? 'deliberately: imap-backup empties the folder on its first mirror run' : 'as imap-backup'})`, async () => {
      const other = b.users[command === 'copy' ? 2 : 0]!
      await createFolder(b, other, bName('my_folder'))
      await appendMessages(b, other, bName('my_folder'), [{raw: crlf(MSG2)}])
      const cfg = await makeConfig(dir, [accountFile(a, sourceUser(), root(), {folders: [aName('my_folder')]}), accountFile(b, other, join(dir, `${command}-other`))])
      const report = await transfer(cfg, {...options(), source: sourceUser().user, destination: other.user})
      expect(folderOf(report, aName('my_folder'))).toMatchObject({uploaded: 1, deleted: 0})
      expect(await bodies(b, other, bName('my_folder'))).toEqual(text(MSG2, MSG1))
    })

    it('26–28, 36–38: with a map, only the new message is appended, flags follow the backup, an unmapped message is kept', async () => {
      await appendMessages(b, destUser(), bName('my_folder'), [{raw: crlf(MSG3)}]) // 28/38: unmapped
      const [destMsg1] = await listUids(b, destUser(), bName('my_folder'))
      await setFlags(b, destUser(), bName('my_folder'), [destMsg1!], ['\\Draft']) // 27/37
      await appendMessages(a, sourceUser(), aName('my_folder'), [{raw: crlf(MSG2), flags: ['\\Seen']}]) // 26/36
      proxyB.resetStats()
      const report = await run()
      expect(report.exitCode).toBe(0)
      expect(folderOf(report, aName('my_folder'))).toMatchObject({uploaded: 1, adopted: 0, alreadyPresent: 1, flagsUpdated: 1, deleted: 0})
      expect(appends(proxyB)).toBe(1) // 26/36: only msg2
      expect(await bodies(b, destUser(), bName('my_folder'))).toEqual(text(MSG1, MSG3, MSG2)) // 28/38 (mirror: kept, deliberately)
      expect((await fetchMessages(b, destUser(), bName('my_folder')))[0]!.flags).toEqual(['\\Seen']) // 27/37
      // A third run changes nothing.
      proxyB.resetStats()
      const again = await run()
      expect(folderOf(again, aName('my_folder'))).toMatchObject({uploaded: 0, adopted: 0, flagsUpdated: 0, alreadyPresent: 2})
      expect(appends(proxyB)).toBe(0)
    })

    it('29, 39: --config works (the CLI)', async () => {
      await config()
      const sourcePrefix = a.prefix === '' ? [] : ['--source-prefix', a.prefix]
      const result = await runCli([command, sourceUser().user, destUser().user, '--config', join(dir, 'config.json'), '--destination-prefix', bPrefix(), '--destination-delimiter', '.', ...sourcePrefix], {
        env: {HOME: await testTempDir()},
      })
      expect(result.code, result.stderr).toBe(0)
      expect(result.stdout).toMatch(/total: 0 uploaded/)
    })
  })

  describe('migrate (compat §9.2 items 40–49)', () => {
    const LOCAL = 'me@example.com'
    const CIAO = 'From: sender@example.com\nSubject: Ciao\n\nbody\n\n'
    /** A source account that exists only locally (its server cannot be reached). */
    async function localOnly(folder: string, extra: {version?: 2 | 3} = {}): Promise<{root: string}> {
      const root = await testTempDir()
      await writeImapBackupFolder(root, folder, 42, [{uid: 1, text: CIAO, flags: ['Draft', '$CUSTOM']}], extra)
      return {root}
    }
    const unreachable = {host: '127.0.0.1', port: 1}

    it('40–42: --config exits 0; the body and \\Draft arrive; a second run appends nothing (#188)', async () => {
      const {root} = await localOnly('migrate-folder')
      const dest = a.users[0]!
      await makeConfig(dir, [{...accountFile(unreachable, {user: LOCAL, password: 'x'}, root)}, accountFile(a, dest, join(dir, 'unused'))])
      const args = ['migrate', LOCAL, dest.user, '--config', join(dir, 'config.json'), '--json', ...(a.prefix === '' ? [] : ['--destination-prefix', a.prefix])]
      const result = await runCli(args, {env: {HOME: await testTempDir()}})
      expect(result.code, result.stderr).toBe(0) // 40
      const [message] = await fetchMessages(a, dest, aName('migrate-folder'))
      expect(message!.raw.toString('latin1')).toBe('From: sender@example.com\r\nSubject: Ciao\r\n\r\nbody\r\n\r\n') // 41
      expect(message!.flags).toContain('\\Draft') // 42
      expect(message!.flags).toContain('$CUSTOM') // keywords too (imap-backup drops them)
      const again = await runCli(args, {env: {HOME: await testTempDir()}})
      expect(again.code, again.stderr).toBe(0)
      expect(JSON.parse(again.stdout).folders[0]).toMatchObject({uploaded: 0, alreadyPresent: 1})
      expect(await listUids(a, dest, aName('migrate-folder'))).toHaveLength(1)
    })

    it('43 (deliberately on the server name): my_sub.migrate-folder, --source-prefix=my_sub --source-delimiter=. → migrate-folder', async () => {
      const {root} = await localOnly('my_sub.migrate-folder')
      const dest = a.users[1]!
      const config = await makeConfig(dir, [accountFile(unreachable, {user: LOCAL, password: 'x'}, root), accountFile(a, dest, join(dir, 'unused'))])
      const report = await transfer(config, {command: 'migrate', source: LOCAL, destination: dest.user, sourcePrefix: 'my_sub', sourceDelimiter: '.', ...toA()})
      expect(folderOf(report, 'my_sub.migrate-folder').destination).toBe(aName('migrate-folder'))
      expect(await bodies(a, dest, aName('migrate-folder'))).toEqual(text(CIAO))
    })

    it('44: --destination-prefix=my_sub --destination-delimiter=. → my_sub.migrate-folder', async () => {
      const {root} = await localOnly('migrate-folder')
      const dest = a.users[2]!
      const config = await makeConfig(dir, [accountFile(unreachable, {user: LOCAL, password: 'x'}, root), accountFile(a, dest, join(dir, 'unused'))])
      const report = await transfer(config, {command: 'migrate', source: LOCAL, destination: dest.user, destinationPrefix: aName('my_sub'), destinationDelimiter: '.'})
      expect(folderOf(report, 'migrate-folder').destination).toBe(aName('my_sub.migrate-folder'))
      expect(await bodies(a, dest, aName('my_sub.migrate-folder'))).toEqual(text(CIAO))
    })

    it('45, 46: a backup of B (other_public.migrate-folder) → migrate-folder on A, with explicit options or --automatic-namespaces', async () => {
      const sourceB = b.users[0]!
      const root = await testTempDir()
      await writeImapBackupFolder(root, bName('migrate-folder'), 42, [{uid: 1, text: CIAO, flags: ['Draft']}])
      const destA = a.users[3]!
      const config = await makeConfig(dir, [accountFile(b, sourceB, root), accountFile(a, destA, join(dir, 'unused'))])
      const explicit = await transfer(config, {command: 'migrate', source: sourceB.user, destination: destA.user, sourcePrefix: bPrefix(), sourceDelimiter: '.', ...toA()})
      expect(folderOf(explicit, bName('migrate-folder')).destination).toBe(aName('migrate-folder')) // 45
      const automatic = await transfer(config, {command: 'migrate', source: sourceB.user, destination: destA.user, automaticNamespaces: true})
      expect(folderOf(automatic, bName('migrate-folder'))).toMatchObject({destination: aName('migrate-folder'), uploaded: 0, alreadyPresent: 1}) // 46
      expect(await bodies(a, destA, aName('migrate-folder'))).toEqual(text(CIAO))
    })

    it('47, 48: destination B with --destination-prefix=other_public --destination-delimiter=. or --automatic-namespaces → other_public.migrate-folder', async () => {
      const source = a.users[0]!
      const root = await testTempDir()
      await writeImapBackupFolder(root, aName('migrate-folder'), 42, [{uid: 1, text: CIAO, flags: ['Draft']}])
      const destB = b.users[2]!
      const config = await makeConfig(dir, [accountFile(a, source, root), accountFile(b, destB, join(dir, 'unused'))])
      const explicit = await transfer(config, {command: 'migrate', source: source.user, destination: destB.user, destinationPrefix: bPrefix(), destinationDelimiter: '.', ...fromA()})
      expect(folderOf(explicit, aName('migrate-folder')).destination).toBe(bName('migrate-folder')) // 47
      const automatic = await transfer(config, {command: 'migrate', source: source.user, destination: destB.user, automaticNamespaces: true})
      expect(folderOf(automatic, aName('migrate-folder'))).toMatchObject({destination: bName('migrate-folder'), uploaded: 0}) // 48
      expect(await bodies(b, destB, bName('migrate-folder'))).toEqual(text(CIAO))
    })

    it('49: a version 2 .imap is read (migrated in memory, the backup untouched) and uploaded', async () => {
      const {root} = await localOnly('v2-folder', {version: 2})
      const before = await readFile(join(root, 'v2-folder.imap'), 'utf8')
      const dest = a.users[1]!
      const config = await makeConfig(dir, [accountFile(unreachable, {user: LOCAL, password: 'x'}, root), accountFile(a, dest, join(dir, 'unused'))])
      const report = await transfer(config, {command: 'migrate', source: LOCAL, destination: dest.user, ...toA()})
      expect(report.exitCode).toBe(0)
      expect(await bodies(a, dest, aName('v2-folder'))).toEqual(text(CIAO))
      expect(await readFile(join(root, 'v2-folder.imap'), 'utf8')).toBe(before)
    })

    it('--reset needs --yes, and then empties each destination folder first', async () => {
      const {root} = await localOnly('reset-folder')
      const dest = a.users[2]!
      await createFolder(a, dest, aName('reset-folder'))
      await appendMessages(a, dest, aName('reset-folder'), [{raw: crlf(MSG3)}, {raw: crlf(MSG2)}])
      const config = await makeConfig(dir, [accountFile(unreachable, {user: LOCAL, password: 'x'}, root), accountFile(a, dest, join(dir, 'unused'))])
      await expect(transfer(config, {command: 'migrate', source: LOCAL, destination: dest.user, reset: true, ...toA()})).rejects.toThrow(/--reset deletes every message/)
      const report = await transfer(config, {command: 'migrate', source: LOCAL, destination: dest.user, reset: true, confirmed: true, ...toA()})
      expect(folderOf(report, 'reset-folder')).toMatchObject({deleted: 2, uploaded: 1})
      expect(await bodies(a, dest, aName('reset-folder'))).toEqual(text(CIAO))
    })
  })
})
