// Mirror mode removes the local copy of a folder the server no longer has only once every selected
// folder is backed up (docs/backup.md, step 2; B1). Found by the sequence soak on Courier (suite
// seed 20261207, sequences 160 and 261): the removal came first, so a run killed before the
// folder that now held the same mail (renamed, or a copy a restore made) was backed up left the
// backup without mail the server still had. Here the run is stopped at the moment the renamed
// folder is opened: the old copy must still be there, and the next run completes the move.
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {InterruptedError} from '../../src/shared/errors.js'
import {silentContext} from '../../src/shared/context.js'
import {appendMessages, createFolder, folderName, renameFolder, serverAt} from '../support/mail-seed.js'
import {serverKinds, startServer, type ServerKind, type TestServer} from '../support/servers.js'
import {startProxy} from '../support/tcp-proxy.js'
import {testTempDir} from '../support/temp-dir.js'
import {accountFile} from '../support/account.js'
import {backup, expectBackupEqualsServer, folderReport, makeConfig, readLocalFolder} from './helpers.js'

const msg = (n: number): Buffer => Buffer.from(`From: address@example.org\r\nSubject: Moved ${n}\r\n\r\nbody ${n}\r\n`)

describe.each(serverKinds())('%s', (kind: ServerKind) => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer(kind)
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('a folder renamed on the server: its old backup stays until the new name is backed up', async () => {
    const user = server.users[0]!
    const before = folderName(server, 'Before')
    const after = folderName(server, 'After')
    await createFolder(server, user, before)
    await appendMessages(server, user, before, [1, 2, 3].map((n) => ({raw: msg(n)})))
    const proxy = await startProxy({targetPort: server.port})
    try {
      const dir = await testTempDir()
      const root = join(dir, 'backup')
      const config = await makeConfig(dir, [accountFile(serverAt(server, proxy.port), user, root, {folders: [before, after], mirror_mode: true})])
      expect((await backup(config)).exitCode).toBe(0)
      expect((await readLocalFolder(root, before)).messages).toHaveLength(3)

      await renameFolder(server, user, before, after)
      const controller = new AbortController()
      const stop = proxy.onCommand((c) => {
        if ((c.name === 'EXAMINE' || c.name === 'SELECT') && c.line.includes('After')) controller.abort(new InterruptedError('SIGINT'))
      })
      await expect(backup(config, {}, silentContext({signal: controller.signal}))).rejects.toBeInstanceOf(InterruptedError)
      stop()
      // Stopped before 'After' was backed up: the mail is still in the backup, under the old name.
      expect((await readLocalFolder(root, before)).messages).toHaveLength(3)

      const report = await backup(config)
      expect(report.exitCode).toBe(0)
      expect(folderReport(report, before).outcome).toBe('removed')
      expect(folderReport(report, after)).toMatchObject({outcome: 'ok', new: 3})
      await expectBackupEqualsServer(server, user, root, after)
    } finally {
      await proxy.close()
    }
  })
})
