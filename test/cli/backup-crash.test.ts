/**
 * SIGKILL in the middle of a folder (as the OOM killer or a power cut would stop it): the next
 * `mailkeep backup` finds the uncommitted tail, removes it, and completes the backup, which is
 * then consistent and equal to the server.
 */
import {existsSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {BackupReport} from '../../src/engine/backup/types.js'
import {parseJournal} from '../../src/store/journal.js'
import {allOutput, folderFiles, mailkeep, show} from './helpers.js'
import {FOLDERS, MESSAGES, MidFolderServer, SAVEPOINT_MESSAGES} from './mid-folder.js'

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
    const files = folderFiles(root, 'INBOX')
    expect(existsSync(files.journal)).toBe(true)
    const committed = await committedMessages(files)
    // Two savepoints were committed before the kill (direct: every message is one).
    expect(committed).toBeGreaterThanOrEqual(strategy === 'direct' ? 2 : 2 * SAVEPOINT_MESSAGES)
    expect(committed).toBeLessThan(MESSAGES)

    // The rerun recovers what was committed, drops the tail and downloads exactly the rest.
    await server.rerunCompletes(home, root, committed)
    const again = await mailkeep(home, ['backup', '--json'])
    expect(again.code, show(again)).toBe(0)
    const report = JSON.parse(again.stdout) as BackupReport
    expect(report.exitCode).toBe(0)
    expect(report.accounts.map((a) => a.outcome)).toEqual(['ok'])
    // Nothing left to fetch: every folder is 'ok' or 'unchanged' (STATUS) with no new message.
    expect(report.accounts[0]!.folders.map((f) => [f.folder, f.new]).sort()).toEqual(FOLDERS.map((folder) => [folder, 0]).sort())
    for (const folder of report.accounts[0]!.folders) expect(['ok', 'unchanged']).toContain(folder.outcome)
  })
})

/** Messages a recovery keeps: those of `.imap` plus those the journal committed at a savepoint. */
async function committedMessages(files: {imap: string; journal: string}): Promise<number> {
  const meta = JSON.parse(await readFile(files.imap, 'utf8')) as {messages: unknown[]; mailkeep?: {journal?: string}}
  const journal = parseJournal(await readFile(files.journal, 'utf8'), files.journal)
  // A journal the .imap names was folded into it already (docs/design.md, I4).
  if (journal === undefined || journal.header.id === meta.mailkeep?.journal) return meta.messages.length
  return meta.messages.length + journal.committed.filter((r) => r.t === 'a').length
}

describe('secrets', () => {
  it('never printed a password', () => {
    const output = allOutput()
    expect(output.length).toBeGreaterThan(0)
    for (const user of server.dovecot.users) expect(output).not.toContain(user.password)
  })
})
