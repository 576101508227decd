/**
 * The read-only `local` commands while `mailkeep backup` is writing the account (they used to be
 * refused with exit 5): each reads the last committed state, says that a backup is writing, and
 * neither waits for the backup nor makes it fail. Real CLI, real Dovecot, a throttled link so
 * the backup runs for a while with savepoints every few messages.
 */
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {startDovecot, type DovecotInstance, type TestUser} from '../support/dovecot.js'
import {createFolder, listUids, seedFolder} from '../support/mail-seed.js'
import {startProxy, type TcpProxy} from '../support/tcp-proxy.js'
import {accountEntry, defaultConfigPath, mailkeep, makeHome, show, spawnMailkeep, writeConfig} from '../cli/helpers.js'

vi.setConfig({testTimeout: 240_000})

let dovecot: DovecotInstance
let proxy: TcpProxy
let alice: TestUser

beforeAll(async () => {
  dovecot = await startDovecot()
  proxy = await startProxy({targetPort: dovecot.port})
  alice = dovecot.users[0]!
  await seedFolder(dovecot, alice, 'INBOX', 400)
  await createFolder(dovecot, alice, 'Work')
  await seedFolder(dovecot, alice, 'Work', 40)
}, 120_000)

afterAll(async () => {
  await proxy?.close()
  await dovecot?.stop()
})

describe('local commands during a backup', () => {
  it('list, show, folders and check read what the running backup has committed; the backup completes', async () => {
    const home = await makeHome()
    const root = join(home, 'backup')
    await writeConfig(defaultConfigPath(home), {
      version: '2.2',
      accounts: [accountEntry({host: dovecot.host, port: proxy.port}, alice, root, {multi_fetch_size: 5})],
      savepoint_messages: 5,
    })
    const serverInbox = await listUids(dovecot, alice, 'INBOX')
    proxy.throttle(10 * 1024)
    const backup = spawnMailkeep(home, ['backup'])
    try {
      // Wait until the first savepoint is on disk.
      const deadline = Date.now() + 60_000
      let listed: Array<{uid: number}> = []
      while (Date.now() < deadline) {
        const list = await mailkeep(home, ['local', 'list', alice.user, 'INBOX', '--json'])
        if (list.code === 0) listed = JSON.parse(list.stdout) as Array<{uid: number}>
        else expect(list.stdout, show(list)).toContain("Folder 'INBOX' not found") // before the folder exists
        if (listed.length > 0) break
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
      expect(listed.length).toBeGreaterThan(0)

      const rounds: number[] = []
      for (let round = 0; round < 3; round++) {
        const list = await mailkeep(home, ['local', 'list', alice.user, 'INBOX', '--json'])
        expect(list.code, show(list)).toBe(0)
        expect(list.stderr).toContain(`a backup (pid ${backup.pid}) is writing this account`)
        const uids = (JSON.parse(list.stdout) as Array<{uid: number}>).map((m) => m.uid)
        // A committed prefix of the server's UIDs, in order, each once.
        expect(uids).toEqual(serverInbox.slice(0, uids.length))
        rounds.push(uids.length)

        const last = uids.at(-1)!
        const shown = await mailkeep(home, ['local', 'show', alice.user, 'INBOX', String(last)])
        expect(shown.code, show(shown)).toBe(0)
        expect(shown.stdout).toMatch(/^[\s\S]*Subject: /m)

        const check = await mailkeep(home, ['local', 'check', '--json'])
        expect(check.code, show(check)).toBe(0)
        const checked = JSON.parse(check.stdout) as Array<{folders: Array<{name: string; result: string; findings: Array<{severity: string; message: string}>}>}>
        for (const folder of checked[0]!.folders) {
          expect(folder.result, `${folder.name}: ${JSON.stringify(folder.findings)}`).toBe('OK')
          for (const finding of folder.findings) expect(finding.message).not.toMatch(/interrupted run/)
        }

        const folders = await mailkeep(home, ['local', 'folders', alice.user])
        expect(folders.code, show(folders)).toBe(0)
        expect(folders.stdout).toContain('"INBOX"')
        await new Promise((resolve) => setTimeout(resolve, 500))
      }
      // The backup went on meanwhile: later reads saw more.
      expect(rounds.at(-1)!).toBeGreaterThan(rounds[0]!)
    } finally {
      proxy.throttle(null)
    }
    const done = await backup.exited
    expect(done.code, show(done)).toBe(0)
    const all = await mailkeep(home, ['local', 'list', alice.user, 'INBOX', '--json'])
    expect((JSON.parse(all.stdout) as Array<{uid: number}>).map((m) => m.uid)).toEqual(serverInbox)
  })

  it('a reader creates no lock file in a backup directory that has none', async () => {
    const home = await makeHome()
    const root = join(home, 'backup')
    await writeConfig(defaultConfigPath(home), {version: '2.2', accounts: [accountEntry(dovecot, alice, root)]})
    expect((await mailkeep(home, ['backup', '--quiet'])).code).toBe(0)
    const {rm} = await import('node:fs/promises')
    await rm(join(root, '.mailkeep.lock'))
    for (const args of [['local', 'list', alice.user, 'INBOX'], ['local', 'folders', alice.user], ['local', 'check'], ['local', 'show', alice.user, 'INBOX', '1']]) {
      const result = await mailkeep(home, args)
      expect(result.code, show(result)).toBe(0)
    }
    expect(existsSync(join(root, '.mailkeep.lock'))).toBe(false)
  })
})
