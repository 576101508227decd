// Issue 11 item 3: a folder switched to mirror mode after keep-all runs. A keep-all run that
// opens the folder after an expunge moves the stored HIGHESTMODSEQ past it without removing
// anything (keep-all never does), so QRESYNC's VANISHED since that point (and the STATUS fast
// path) no longer tell mirror mode about the expunge. Mirror mode must compare with the server's
// full UID set whenever its own last comparison is older than the stored state: the message is
// removed, `stats` shows nothing only local, and from then on the cheap path applies again.
// Through the real CLI, against each real server of the harness (QRESYNC: Dovecot, Cyrus; none
// of it: Courier, where the same end state must hold).
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {defaultConfigPath, makeHome, mailkeep, writeConfig} from '../cli/helpers.js'
import {accountEntry} from '../support/account.js'
import type {TestUser} from '../support/dovecot.js'
import {appendMessages, createFolder, expunge, folderName, listUids, seedMessage, type ImapServer} from '../support/mail-seed.js'
import {SERVER_FACTS, serverKinds, startServer, type ServerKind, type TestServer} from '../support/servers.js'
import {startProxy, type TcpProxy} from '../support/tcp-proxy.js'

interface Row {
  folder: string
  remote: number
  both: number
  local: number
}

describe.each(serverKinds())('%s', (kind: ServerKind) => {
  let server: TestServer
  let proxy: TcpProxy
  /** The server as the CLI reaches it: through the proxy, which counts the commands. */
  let via: ImapServer
  /** The server announces CONDSTORE: HIGHESTMODSEQ tells changes, so unchanged folders are skipped. */
  const condstore = SERVER_FACTS[kind].capabilities.has('CONDSTORE')

  beforeAll(async () => {
    server = await startServer(kind)
    proxy = await startProxy({targetPort: server.port})
    via = {...server, port: proxy.port}
  })
  afterAll(async () => {
    await proxy?.close()
    await server?.stop()
  })

  async function setUp(user: TestUser, folder: string): Promise<{home: string; root: string; uids: number[]; writeMode: (mirror: boolean) => Promise<void>}> {
    await createFolder(server, user, folder)
    const uids = await appendMessages(server, user, folder, [seedMessage(1), seedMessage(2), seedMessage(3), seedMessage(4), seedMessage(5)])
    const home = await makeHome()
    const root = join(home, 'backup')
    const writeMode = async (mirror: boolean): Promise<void> => {
      await writeConfig(defaultConfigPath(home), {version: '2.2', accounts: [accountEntry(via, user, root, {folders: [folder], ...(mirror ? {mirror_mode: true} : {})})]})
    }
    await writeMode(false)
    const first = await mailkeep(home, ['backup', '--json'])
    expect(first.code, first.stderr).toBe(0)
    return {home, root, uids, writeMode}
  }

  async function storedUids(root: string, folder: string): Promise<number[]> {
    const meta = JSON.parse(await readFile(join(root, `${folder}.imap`), 'utf8')) as {messages: Array<{uid: number}>}
    return meta.messages.map((m) => m.uid)
  }

  async function stats(home: string, user: TestUser, folder: string): Promise<Row | undefined> {
    const r = await mailkeep(home, ['stats', user.user, '--json'])
    expect(r.code, r.stderr).toBe(0)
    return (JSON.parse(r.stdout) as Row[]).find((row) => row.folder === folder)
  }

  async function mirrorRun(home: string, folder: string): Promise<{deleted: number; outcome: string}> {
    const r = await mailkeep(home, ['backup', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const report = JSON.parse(r.stdout) as {accounts: Array<{folders: Array<{folder: string; deleted: number; outcome: string}>}>}
    return report.accounts[0]!.folders.find((f) => f.folder === folder)!
  }

  // Each way a keep-all run opens the folder after the expunge and records the state past it.
  it.each([
    {how: 'new mail arrives', keepAll: ['backup'], newMail: true, n: 1},
    {how: '--refresh', keepAll: ['backup', '--refresh'], newMail: false, n: 2},
    {how: 'nothing else: flags follow by default, so the changed HIGHESTMODSEQ opens it', keepAll: ['backup'], newMail: false, n: 3},
  ])('a message expunged before a keep-all run ($how) is removed by the first mirror run', async ({keepAll, newMail, n}) => {
    const user = server.users[0]!
    const folder = folderName(server, `Switch${n}`)
    const {home, root, uids, writeMode} = await setUp(user, folder)
    await expunge(server, user, folder, [uids[1]!])
    if (newMail) await appendMessages(server, user, folder, [seedMessage(6)])

    proxy.resetStats()
    const kept = await mailkeep(home, keepAll)
    expect(kept.code, kept.stderr).toBe(0)
    // The keep-all run opened the folder (that is what moves the state on) and kept the message.
    // Without CONDSTORE nothing but new mail or --refresh opens it (flags stay as downloaded).
    const opens = proxy.commandNames().filter((name) => name === 'EXAMINE' || name === 'SELECT').length
    if (condstore || newMail || keepAll.includes('--refresh')) expect(opens, proxy.commandNames().join(' ')).toBeGreaterThan(0)
    expect(await storedUids(root, folder)).toContain(uids[1])
    expect((await stats(home, user, folder))?.local).toBe(1)

    await writeMode(true)
    const first = await mirrorRun(home, folder)
    expect(first).toMatchObject({outcome: 'ok', deleted: 1})
    const onServer = await listUids(server, user, folder)
    expect(await storedUids(root, folder)).toEqual(onServer)
    expect(await stats(home, user, folder)).toMatchObject({remote: 0, local: 0, both: onServer.length})

    // From now on mirror mode's own checkpoint is current: with CONDSTORE an unchanged folder is
    // skipped again (without it, mirror mode always examines it, and finds nothing to do).
    proxy.resetStats()
    const next = await mirrorRun(home, folder)
    expect(next).toMatchObject({outcome: condstore ? 'unchanged' : 'ok', deleted: 0})
    if (condstore) expect(proxy.commandNames().filter((name) => name === 'EXAMINE' || name === 'SELECT'), proxy.commandNames().join(' ')).toEqual([])
  })
})
