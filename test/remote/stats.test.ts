/**
 * `mailkeep stats` end to end (compat §9.2 110–112): text and JSON before and after a backup,
 * after an expunge and new mail and a UIDVALIDITY change (on each server), folder selection, the '.' flavour with a
 * public namespace; one `UID SEARCH` per folder (counted with the TCP proxy); the backup is read
 * and never changed.
 */
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {startDovecot, type DovecotInstance} from '../support/dovecot.js'
import {appendMessages, ensureFolder, expunge, folderName, forceUidValidityChange, seedFolder, seedMessage} from '../support/mail-seed.js'
import {serverKinds, startServer, type ServerKind, type TestServer} from '../support/servers.js'
import {startProxy, type TcpProxy} from '../support/tcp-proxy.js'
import {allOutput, defaultConfigPath, mailkeep, setupAccount, show, snapshot} from '../cli/helpers.js'

// Each test runs the CLI several times (a Node start each, seconds on a loaded machine).
vi.setConfig({testTimeout: 240_000})

let slash: DovecotInstance
let dot: DovecotInstance
let proxy: TcpProxy

const PUBLIC_NAMESPACE = ['namespace public {', '  type = public', '  separator = .', '  prefix = other_public.', '  location = mdbox:~/public', '  subscriptions = no', '}'].join('\n')

const HEADER = 'folder              |remote  |both    |local   \n--------------------|--------|--------|--------'

interface Row {
  folder: string
  remote: number
  both: number
  local: number
}

/** Rows come in the server's LIST order, which Dovecot does not keep alphabetical. */
function byFolder(json: string): Row[] {
  return (JSON.parse(json) as Row[]).sort((a, b) => (a.folder < b.folder ? -1 : 1))
}

/** The text table: header and dashes first, then the rows in any order. */
function expectTable(stdout: string, rows: string[]): void {
  const lines = stdout.split('\n')
  expect(lines.slice(0, 2).join('\n')).toBe(HEADER)
  expect(lines.at(-1)).toBe('')
  expect(lines.slice(2, -1).sort()).toEqual([...rows].sort())
}

beforeAll(async () => {
  ;[slash, dot] = await Promise.all([startDovecot(), startDovecot({separator: '.', prefix: '', extraConfig: PUBLIC_NAMESPACE})])
  proxy = await startProxy({targetPort: slash.port})
})

afterAll(async () => {
  await proxy?.close()
  await Promise.all([slash?.stop(), dot?.stop()])
})

describe('mailkeep stats', () => {
  it('before a backup: everything is remote (items 110, 111), and nothing is written', async () => {
    const s = await setupAccount(slash, 0, {folders: ['stats-stuff']})
    await seedFolder(slash, s.user, 'stats-stuff', 1)
    await seedFolder(slash, s.user, 'other', 2) // not selected

    const text = await mailkeep(s.home, ['stats', s.user.user])
    expect(text.code, show(text)).toBe(0)
    // Below the table: the server folders not selected, all new (no backup has listed them yet).
    const [table, left] = [text.stdout.split('\n').slice(0, 3).join('\n'), text.stdout.split('\n').slice(3).join('\n')]
    expect(table).toBe(`${HEADER}\nstats-stuff         |       1|       0|       0`)
    expect(left).toMatch(/^not backed up \(not selected\): (INBOX \(new\), other \(new\)|other \(new\), INBOX \(new\))\n$/)
    expect(text.stdout).toMatch(/stats-stuff\s+\|\s+1\|\s+0\|\s+0/)

    const json = await mailkeep(s.home, ['stats', s.user.user, '--json'])
    expect(json.code, show(json)).toBe(0)
    expect(json.stdout).toBe('[{"folder":"stats-stuff","remote":1,"both":0,"local":0}]\n')
    expect(await snapshot(s.root)).toEqual([])
  })

  it('one UID SEARCH per folder, and only EXAMINE (read-only)', async () => {
    const s = await setupAccount(slash, 2, {}, proxy.port)
    await seedFolder(slash, s.user, 'INBOX', 4)
    await seedFolder(slash, s.user, 'A', 2)
    await ensureFolder(slash, s.user, 'B')
    proxy.resetStats()
    const result = await mailkeep(s.home, ['stats', s.user.user, '--json'])
    expect(result.code, show(result)).toBe(0)
    const rows = JSON.parse(result.stdout) as Array<{folder: string}>
    expect(rows.map((r) => r.folder).sort()).toEqual(['A', 'B', 'INBOX'])
    const names = proxy.commandNames()
    // B is empty: EXAMINE says EXISTS 0, so it needs no search at all.
    expect(names.filter((n) => n === 'UID SEARCH')).toHaveLength(2)
    expect(names.filter((n) => n === 'EXAMINE')).toHaveLength(3)
    expect(names).not.toContain('SELECT')
    expect(names.filter((n) => /FETCH|STORE|APPEND|EXPUNGE/.test(n))).toEqual([])
  })

  it("blacklist selection, and folders missing on the server have no row", async () => {
    const s = await setupAccount(dot, 0, {folders: ['INBOX', 'Gone', 'other_public.ciao'], folder_blacklist: false})
    await seedFolder(dot, s.user, 'other_public.ciao', 1)
    await seedFolder(dot, s.user, 'Sent', 2)
    // item 112: --config and --quiet with a folder of the public namespace
    const config = defaultConfigPath(s.home)
    const result = await mailkeep(s.home, ['stats', s.user.user, '--config', config, '--quiet'])
    expect(result.code, show(result)).toBe(0)
    expectTable(result.stdout, ['INBOX               |       0|       0|       0', 'other_public.ciao   |       1|       0|       0', 'not backed up (not selected): Sent (new)'])
    expect(result.stderr).toBe('')

    const black = await setupAccount(dot, 0, {folders: ['INBOX'], folder_blacklist: true})
    const rows = JSON.parse((await mailkeep(black.home, ['stats', black.user.user, '--json'])).stdout) as Array<{folder: string}>
    expect(rows.map((r) => r.folder).sort()).toEqual(['Sent', 'other_public.ciao'])
  })

  it('while a backup holds the account: exit 5, nothing read', async () => {
    const s = await setupAccount(slash, 0, {folders: ['stats-stuff']})
    const {acquireAccountLock} = await import('../../src/store/lock.js')
    const {mkdir} = await import('node:fs/promises')
    await mkdir(s.root, {recursive: true, mode: 0o700})
    const lock = await acquireAccountLock(s.root, 'exclusive')
    try {
      const result = await mailkeep(s.home, ['stats', s.user.user])
      expect(result.code, show(result)).toBe(5)
    } finally {
      await lock.release()
    }
  })
})

describe.each(serverKinds())('mailkeep stats on %s', (kind: ServerKind) => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer(kind)
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('after a backup all are in both; after an expunge and new mail: remote, both and local', async () => {
    const s = await setupAccount(server, 1)
    const work = folderName(server, 'Work')
    const uids = await seedFolder(server, s.user, 'INBOX', 5)
    await seedFolder(server, s.user, work, 3)
    const backup = await mailkeep(s.home, ['backup'])
    expect(backup.code, show(backup)).toBe(0)

    const after = await mailkeep(s.home, ['stats', s.user.user, '--json'])
    expect(after.code, show(after)).toBe(0)
    expect(byFolder(after.stdout)).toEqual([
      {folder: 'INBOX', remote: 0, both: 5, local: 0},
      {folder: work, remote: 0, both: 3, local: 0},
    ])

    await expunge(server, s.user, 'INBOX', uids.slice(0, 2))
    await appendMessages(server, s.user, 'INBOX', [seedMessage(100), seedMessage(101), seedMessage(102)])
    const before = await snapshot(s.root)
    const changed = await mailkeep(s.home, ['stats', s.user.user])
    expect(changed.code, show(changed)).toBe(0)
    expectTable(changed.stdout, ['INBOX               |       3|       3|       2', `${work.padEnd(20)}|       0|       3|       0`])
    expect(await snapshot(s.root), 'stats changed the backup').toEqual(before)

    // The next backup downloads exactly the 3 remote ones (keep-all mode keeps the 2 local).
    const again = await mailkeep(s.home, ['backup', '--json'])
    expect(again.code, show(again)).toBe(0)
    const final = await mailkeep(s.home, ['stats', s.user.user, '--json'])
    expect(byFolder(final.stdout)).toEqual([
      {folder: 'INBOX', remote: 0, both: 6, local: 2},
      {folder: work, remote: 0, both: 3, local: 0},
    ])
  })

  it('a changed UIDVALIDITY: the stored UIDs name other messages, so none is in both', async () => {
    const renumbered = folderName(server, 'Renumbered')
    const s = await setupAccount(server, 3, {folders: [renumbered]})
    await seedFolder(server, s.user, renumbered, 3)
    expect((await mailkeep(s.home, ['backup'])).code).toBe(0)
    await forceUidValidityChange(server, s.user, renumbered)
    const result = await mailkeep(s.home, ['stats', s.user.user, '--json'])
    expect(result.code, show(result)).toBe(0)
    expect(JSON.parse(result.stdout)).toEqual([{folder: renumbered, remote: 3, both: 0, local: 3}])
  })
})

describe('output', () => {
  it('never shows a password', () => {
    const output = allOutput()
    for (const server of [slash, dot]) for (const user of server.users) expect(output.includes(user.password), `password of ${user.user} in the output`).toBe(false)
  })
})
