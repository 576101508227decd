/**
 * SIGINT and SIGTERM in the middle of a folder: `mailkeep backup` rolls the folder back to its
 * last savepoint, releases the lock and exits 130/143; a rerun fetches only the rest and ends
 * equal to the server.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {allOutput, expectAtSavepoint, show} from './helpers.js'
import {MESSAGES, MidFolderServer, SAVEPOINT_MESSAGES} from './mid-folder.js'

let server: MidFolderServer

beforeAll(async () => {
  server = await MidFolderServer.start()
})

afterAll(async () => {
  await server?.stop()
})

describe.each([
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const)('%s in the middle of a folder', (signal, code) => {
  it.each(['delay_metadata', 'direct'])(`rolls back to the last savepoint, exits ${code}, frees the lock; a rerun completes (%s)`, async (strategy) => {
    const {home, root} = await server.setUp(strategy)
    const run = await server.startMidFolder(home, root)
    run.kill(signal)
    const result = await run.exited
    server.proxy.throttle(null)
    expect(result.code, show(result)).toBe(code)
    expect(result.stderr).toContain(`received ${signal}`)
    expect(result.stdout + result.stderr).toMatch(new RegExp(`^exit ${code} \\(${signal}\\): .*Rerun to continue\\.$`, 'm'))

    // The folder ends exactly at a savepoint: no journal, mbox size == sum of the lengths.
    const kept = await expectAtSavepoint(root, 'INBOX')
    // Two savepoints were committed before the signal (direct: every message is one).
    expect(kept.length).toBeGreaterThanOrEqual(strategy === 'direct' ? 2 : 2 * SAVEPOINT_MESSAGES)
    expect(kept.length).toBeLessThan(MESSAGES)
    expect(kept).toEqual(server.inboxUids.slice(0, kept.length))

    // The lock is free (the rerun would exit 5 otherwise), and the rerun fetches only the rest.
    await server.rerunCompletes(home, root, kept.length)
  })
})

describe('secrets', () => {
  it('never printed a password', () => {
    const output = allOutput()
    expect(output.length).toBeGreaterThan(0)
    for (const user of server.dovecot.users) expect(output).not.toContain(user.password)
  })
})
