/**
 * An imap-backup config with values imap-backup silently replaces loads in every command, with
 * one warning per replaced value on stderr (docs/config.md, "Compatibility with imap-backup");
 * a value mailkeep will not guess about is still exit 3. Through the real built CLI.
 */
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {mailkeep, makeHome, show, writeConfig} from './helpers.js'

const ACCOUNT = {username: 'me@example.com', password: 'Compat-Pw-41c9', local_path: '/nonexistent/mailkeep-compat', server: 'imap.example.com'}

describe('an imap-backup config with values imap-backup replaces', () => {
  it('loads, and every command says what it used instead', async () => {
    const home = await makeHome()
    const config = await writeConfig(join(home, 'imap-backup', 'config.json'), {
      version: '2.2',
      accounts: [{...ACCOUNT, multi_fetch_size: 0, folder_blacklist: 'true'}],
      download_strategy: 'delay',
    })
    for (const args of [['local', 'accounts'], ['local', 'check', '--json']]) {
      const result = await mailkeep(home, [...args, '--config', config])
      expect(result.code, show(result)).toBe(0)
      expect(result.stdout).toContain('me@example.com')
      const warnings = result.stderr.split('\n').filter((line) => / WARN +Config file /.test(line))
      expect(warnings, show(result)).toHaveLength(3)
      expect(result.stderr).toContain(`Config file '${config}': download_strategy: "delay" is not one of "delay_metadata", "direct", "delay_all"; using "delay_metadata" instead`)
      expect(result.stderr).toContain('accounts[0].multi_fetch_size (me@example.com): 0 is not a positive whole number; using 1 instead, as imap-backup does')
      expect(result.stderr).toContain('accounts[0].folder_blacklist (me@example.com): "true" is not true or false; using true instead')
      expect(result.stdout + result.stderr).not.toContain(ACCOUNT.password)
    }
  })

  it('a boolean written as "false" (imap-backup reads true) is still a config error, exit 3', async () => {
    const home = await makeHome()
    const config = await writeConfig(join(home, 'config.json'), {version: '2.2', accounts: [{...ACCOUNT, mirror_mode: 'false'}]})
    const result = await mailkeep(home, ['local', 'accounts', '--config', config])
    expect(result.code, show(result)).toBe(3)
    expect(result.stderr).toContain(`accounts[0].mirror_mode (me@example.com): must be true or false, not "false", which imap-backup reads as true`)
    expect(result.stdout).toBe('')
  })
})
