import {chmod, mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {parseConfig, type AccountFile} from '../../config/index.js'
import {testTempDir} from '../../../test/support/temp-dir.js'
import {applyImport, planImport} from './import.js'
import {SetupState} from './setup-state.js'

async function writePrivate(path: string, content: unknown): Promise<string> {
  await mkdir(join(path, '..'), {recursive: true, mode: 0o700})
  await writeFile(path, JSON.stringify(content), {mode: 0o600})
  await chmod(path, 0o600)
  return path
}

const account = (username: string, localPath: string, extra: Partial<AccountFile> = {}): AccountFile => ({username, password: `pw-${username}`, local_path: localPath, ...extra})

describe('import of an imap-backup config', () => {
  it('adds new accounts with relative paths made absolute, skips known usernames and used paths', async () => {
    const dir = await testTempDir('mailkeep-import-')
    const source = await writePrivate(join(dir, 'ib', 'config.json'), {
      version: '2.2',
      accounts: [
        account('known@example.com', '/b/other'),
        account('new@example.com', 'backups/new', {connection_options: {ssl: {ca_file: 'ca.pem'}}, folders: [{name: 'INBOX'}]}),
        account('clash@example.com', '/b/mine'),
      ],
      download_strategy: 'direct',
    })
    const state = SetupState.fromConfig(parseConfig({accounts: [account('known@example.com', '/b/mine')]}, join(dir, 'mk', 'config.json')))
    const plan = await planImport(state, source)
    expect(plan.skipped).toEqual([
      {username: 'known@example.com', reason: 'already configured'},
      {username: 'clash@example.com', reason: "its backup path '/b/mine' is used by known@example.com"},
    ])
    expect(plan.accounts).toHaveLength(1)
    expect(plan.accounts[0]).toMatchObject({
      username: 'new@example.com',
      local_path: join(dir, 'ib', 'backups', 'new'),
      connection_options: {ssl: {ca_file: join(dir, 'ib', 'ca.pem')}},
      folders: ['INBOX'],
    })
    // The config being edited has accounts: its strategy stays.
    expect(plan.downloadStrategy).toBeUndefined()
    expect(applyImport(state, plan)).toEqual([])
    expect(state.accounts.map((a) => a.username)).toEqual(['known@example.com', 'new@example.com'])
    expect(state.downloadStrategy).toBe('delay_metadata')
  })

  it('takes the download strategy into an empty config, and refuses to import the config being edited', async () => {
    const dir = await testTempDir('mailkeep-import-')
    const source = await writePrivate(join(dir, 'config.json'), {accounts: [account('a@example.com', '/b/a')], download_strategy: 'direct'})
    const empty = SetupState.empty(join(dir, 'mk', 'config.json'))
    const plan = await planImport(empty, source)
    expect(plan.downloadStrategy).toBe('direct')
    applyImport(empty, plan)
    expect(empty.downloadStrategy).toBe('direct')
    await expect(planImport(SetupState.empty(source), source)).rejects.toThrow(/is the config being edited/)
  })
})
