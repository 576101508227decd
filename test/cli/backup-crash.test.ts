/**
 * SIGKILL in the middle of a folder (as the OOM killer or a power cut would stop it): the next
 * `mailkeep backup` finds the uncommitted tail, removes it, and completes the backup, which is
 * then consistent and equal to the server.
 */
import {existsSync} from 'node:fs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {allOutput, folderFiles, mailkeep, show} from './helpers.js'
import {MidFolderServer} from './mid-folder.js'

let server: MidFolderServer

beforeAll(async () => {
  server = await MidFolderServer.start()
})

afterAll(async () => {
  await server?.stop()
})

describe('SIGKILL in the middle of a folder', () => {
  it.each(['delay_metadata', 'direct'])('a rerun repairs the tail and completes the backup (%s)', async (strategy) => {
    const {home, root} = await server.setUp(strategy)
    const run = await server.startMidFolder(home, root)
    run.kill('SIGKILL')
    const result = await run.exited
    expect(result.signal, show(result)).toBe('SIGKILL')
    // Killed inside the transaction: its journal is still there for the next run to recover.
    expect(existsSync(folderFiles(root, 'INBOX').journal)).toBe(true)

    await server.rerunCompletes(home, root)
    const again = await mailkeep(home, ['backup', '--json'])
    expect(again.code, show(again)).toBe(0)
    expect(again.stdout).not.toMatch(/"new": [1-9]/)
  })
})

describe('secrets', () => {
  it('never printed a password', () => {
    const output = allOutput()
    expect(output.length).toBeGreaterThan(0)
    for (const user of server.dovecot.users) expect(output).not.toContain(user.password)
  })
})
