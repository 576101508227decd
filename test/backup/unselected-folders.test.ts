// Issue 11 item 5: a folder created on the server after `folders` was written is not backed up,
// and must not be left out silently. Every run's summary, its --json report and `stats` name the
// server folders that exist but are not selected, those new since the last run first; --quiet
// prints only the new ones (so cron mails about each once). "All folders" (no `folders` key)
// takes a folder created later. Through the real CLI, against each real server of the harness.
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {defaultConfigPath, makeHome, mailkeep, writeConfig} from '../cli/helpers.js'
import {accountEntry} from '../support/account.js'
import {appendMessages, createFolder, folderName, seedMessage} from '../support/mail-seed.js'
import {serverKinds, startServer, type ServerKind, type TestServer} from '../support/servers.js'
import {readLocalFolder} from './helpers.js'

interface Report {
  exitCode: number
  accounts: Array<{folders: Array<{folder: string; outcome: string; new: number}>; unselected: Array<{folder: string; new: boolean}>}>
}

describe.each(serverKinds())('%s', (kind: ServerKind) => {
  let instance: TestServer

  beforeAll(async () => {
    instance = await startServer(kind)
  })
  afterAll(async () => {
    await instance?.stop()
  })

  it('a fixed folder list: folders left out are named in the report, the summary and stats, new ones first and once', async () => {
    const user = instance.users[0]!
    const work = folderName(instance, 'Work')
    const projects = folderName(instance, 'Projects')
    const extra = folderName(instance, 'Extra')
    await createFolder(instance, user, work)
    await appendMessages(instance, user, 'INBOX', [seedMessage(1)])
    const home = await makeHome()
    const root = join(home, 'backup')
    await writeConfig(defaultConfigPath(home), {version: '2.2', accounts: [accountEntry(instance, user, root, {folders: ['INBOX']})]})

    // First run: no record of the server's folders yet, so what is left out is new.
    const first = await mailkeep(home, ['backup', '--json'])
    expect(first.code, first.stderr).toBe(0)
    const report1 = JSON.parse(first.stdout) as Report
    expect(report1.accounts[0]!.folders.map((f) => f.folder)).toEqual(['INBOX'])
    expect(report1.accounts[0]!.unselected).toEqual([{folder: work, new: true}])
    expect(first.stderr).toMatch(new RegExp(`WARN .*not selected for backup, new on the server since the last run: '${work}'`))

    // Second run: Work is known now; the text summary still names it.
    const second = await mailkeep(home, ['backup'])
    expect(second.code, second.stderr).toBe(0)
    expect(second.stdout).toContain(`  not backed up (not selected): ${work}\n`)
    expect(second.stderr).not.toMatch(/new on the server since the last run/)

    // A folder created on the server: named first, as new; --quiet prints only that, once.
    await createFolder(instance, user, projects)
    await appendMessages(instance, user, projects, [seedMessage(2)])
    const third = await mailkeep(home, ['backup', '--quiet'])
    expect(third.code, third.stderr).toBe(0)
    expect(third.stdout).toBe(`${user.user}: ok, 1 folder, none changed\n  not backed up (not selected): ${projects} (new)\n`)
    const fourth = await mailkeep(home, ['backup', '--quiet'])
    expect(fourth.code, fourth.stderr).toBe(0)
    expect(fourth.stdout).toBe('')
    const fifth = JSON.parse((await mailkeep(home, ['backup', '--json'])).stdout) as Report
    expect(fifth.accounts[0]!.unselected.map((f) => f.folder).sort()).toEqual([projects, work].sort())
    expect(fifth.accounts[0]!.unselected.every((f) => !f.new)).toBe(true)

    // stats: the table as imap-backup prints it, then the folders left out; --json keeps
    // imap-backup's rows, and the new folder is named in a warning on stderr.
    await createFolder(instance, user, extra)
    const stats = await mailkeep(home, ['stats', user.user])
    expect(stats.code, stats.stderr).toBe(0)
    const last = stats.stdout.trimEnd().split('\n').at(-1)!
    expect(last).toMatch(new RegExp(`^not backed up \\(not selected\\): ${extra} \\(new\\), `))
    expect(last).toContain(work)
    expect(last).toContain(projects)
    const json = await mailkeep(home, ['stats', user.user, '--json'])
    expect(json.code, json.stderr).toBe(0)
    expect((JSON.parse(json.stdout) as Array<{folder: string}>).map((r) => r.folder)).toEqual(['INBOX'])
    expect(json.stderr).toMatch(new RegExp(`new on the server since the last run: '${extra}'`))
  })

  it('"all folders" (no folders key): a folder created later is backed up, and nothing is reported left out', async () => {
    const user = instance.users[1]!
    await appendMessages(instance, user, 'INBOX', [seedMessage(1)])
    const home = await makeHome()
    const root = join(home, 'backup')
    await writeConfig(defaultConfigPath(home), {version: '2.2', accounts: [accountEntry(instance, user, root)]})
    expect((await mailkeep(home, ['backup'])).code).toBe(0)
    const later = folderName(instance, 'Later')
    await createFolder(instance, user, later)
    await appendMessages(instance, user, later, [seedMessage(3), seedMessage(4)])
    const r = await mailkeep(home, ['backup', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const report = JSON.parse(r.stdout) as Report
    expect(report.accounts[0]!.unselected).toEqual([])
    expect(report.accounts[0]!.folders.find((f) => f.folder === later)).toMatchObject({outcome: 'ok', new: 2})
    expect((await readLocalFolder(root, later)).messages).toHaveLength(2)
  })
})
