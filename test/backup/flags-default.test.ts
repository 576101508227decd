// Issue 11 item 10: flags went stale by default. Now a plain `mailkeep backup` brings flag
// changes over wherever the server makes it cheap (CONDSTORE, RFC 7162: one round trip), keeps
// imap-backup's behaviour (flags as downloaded unless --refresh) where it does not, and the
// top-level `freeze_flags: true` restores imap-backup's behaviour everywhere. Through the real
// CLI, against each real server of the harness (Courier has no CONDSTORE), and Dovecot with
// CONDSTORE hidden.
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {toStoredFlags} from '../../src/store/flags.js'
import {defaultConfigPath, makeHome, mailkeep, writeConfig} from '../cli/helpers.js'
import {accountEntry} from '../support/account.js'
import {fetchMessages, folderName, seedFolder, setFlags, withSession} from '../support/mail-seed.js'
import type {TestUser} from '../support/dovecot.js'
import {readLocalFolder} from './helpers.js'
import {serverKinds, startServer, type ServerKind, type ServerOptions, type TestServer} from '../support/servers.js'

/** Dovecot 2.3's list without CONDSTORE and QRESYNC (Dovecot still answers them: only the announcement changes). */
const WITHOUT_CONDSTORE = 'IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT MULTIAPPEND UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED ESEARCH LITERAL+ LIST-STATUS'

const CASES: Array<{title: string; kind: ServerKind; options: ServerOptions}> = [
  ...serverKinds().map((kind) => ({title: kind, kind, options: {}})),
  ...(serverKinds().includes('dovecot') ? [{title: 'dovecot without CONDSTORE', kind: 'dovecot' as const, options: {dovecot: {capabilities: WITHOUT_CONDSTORE}}}] : []),
]

interface Report {
  exitCode: number
  accounts: Array<{folders: Array<{folder: string; outcome: string; flagUpdates: number}>}>
}

const sorted = (flags: readonly string[]): string[] => [...flags].sort()

describe.each(CASES)('$title', ({kind, options}) => {
  let instance: TestServer
  /** Whether this server announces CONDSTORE (the Dovecot case with an override does not). */
  let condstore: boolean

  beforeAll(async () => {
    instance = await startServer(kind, options)
    condstore = await withSession(instance, instance.users[0]!, async (c) => (await c.refreshCapabilities()).has('CONDSTORE'))
  })
  afterAll(async () => {
    await instance?.stop()
  })

  async function setUp(user: TestUser, name: string, top: Record<string, unknown> = {}): Promise<{home: string; root: string; folder: string; uids: number[]}> {
    const folder = folderName(instance, name)
    const uids = await seedFolder(instance, user, folder, 6)
    const home = await makeHome()
    const root = join(home, 'backup')
    await writeConfig(defaultConfigPath(home), {version: '2.2', accounts: [accountEntry(instance, user, root, {folders: [folder]})], ...top})
    const first = await mailkeep(home, ['backup'])
    expect(first.code, first.stderr).toBe(0)
    return {home, root, folder, uids}
  }

  async function backupJson(home: string, ...flags: string[]): Promise<Report['accounts'][number]['folders'][number]> {
    const r = await mailkeep(home, ['backup', '--json', ...flags])
    expect(r.code, r.stderr).toBe(0)
    return (JSON.parse(r.stdout) as Report).accounts[0]!.folders[0]!
  }

  async function localFlags(root: string, folder: string): Promise<Record<number, string[]>> {
    return Object.fromEntries((await readLocalFolder(root, folder)).messages.map((m) => [m.uid, sorted(m.flags)]))
  }

  async function serverFlags(user: TestUser, folder: string): Promise<Record<number, string[]>> {
    return Object.fromEntries((await fetchMessages(instance, user, folder)).map((m) => [m.uid, sorted(toStoredFlags(m.flags))]))
  }

  it('a plain backup brings flag changes over with CONDSTORE; without it they wait for --refresh', async () => {
    const user = instance.users[0]!
    const {home, root, folder, uids} = await setUp(user, 'FlagsDefault')
    const before = await localFlags(root, folder)
    await setFlags(instance, user, folder, [uids[0]!, uids[3]!], ['\\Flagged', '\\Answered'])
    const plain = await backupJson(home)
    if (condstore) {
      expect(plain).toMatchObject({outcome: 'ok', flagUpdates: 2})
      expect(await localFlags(root, folder)).toEqual(await serverFlags(user, folder))
    } else {
      expect(plain.flagUpdates).toBe(0)
      expect(await localFlags(root, folder)).toEqual(before)
      expect(await backupJson(home, '--refresh')).toMatchObject({outcome: 'ok', flagUpdates: 2})
      expect(await localFlags(root, folder)).toEqual(await serverFlags(user, folder))
    }
    // Nothing left to do: with CONDSTORE the folder is not even examined again.
    expect((await backupJson(home)).flagUpdates).toBe(0)
  })

  it('freeze_flags: true keeps the flags as downloaded until --refresh (imap-backup)', async () => {
    const user = instance.users[1]!
    const {home, root, folder, uids} = await setUp(user, 'FlagsFrozen', {freeze_flags: true})
    const before = await localFlags(root, folder)
    await setFlags(instance, user, folder, [uids[1]!], ['\\Seen', '$Label2'])
    expect(await backupJson(home)).toMatchObject({outcome: 'unchanged', flagUpdates: 0})
    expect(await localFlags(root, folder)).toEqual(before)
    expect(await backupJson(home, '--refresh')).toMatchObject({outcome: 'ok', flagUpdates: 1})
    expect(await localFlags(root, folder)).toEqual(await serverFlags(user, folder))
  })
})
