import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {parseConfig, type AccountFile} from '../../config/index.js'
import {canonicalJson, SetupState} from './setup-state.js'

const PATH = '/tmp/mailkeep-unit/config.json'

function loaded(accounts: AccountFile[]): SetupState {
  return SetupState.fromConfig(parseConfig({version: '2.2', accounts}, PATH))
}

const alice: AccountFile = {username: 'alice@example.com', password: 'pw-alice-1', local_path: '/b/alice', server: 'imap.example.com'}

describe('SetupState', () => {
  it('a missing file starts empty and unmodified; adding then deleting an account is no change', () => {
    const state = SetupState.empty(PATH)
    expect(state.existed).toBe(false)
    expect(state.isModified()).toBe(false)
    const account: AccountFile = {username: 'new@example.com', password: ''}
    expect(state.addAccount(account)).toEqual({warnings: []})
    expect(state.isModified()).toBe(true)
    expect(state.isAccountModified(account)).toBe(true)
    state.removeAccount(account)
    expect(state.isModified()).toBe(false)
  })

  it('modified is the content compared with the start: toggling twice, or another key order, is no change', () => {
    const state = loaded([alice])
    const account = state.accounts[0]!
    expect(state.isAccountModified(account)).toBe(false)
    state.update(account, (d) => (d.mirror_mode = true))
    expect(state.isAccountModified(account)).toBe(true)
    state.update(account, (d) => delete d.mirror_mode)
    expect(state.isAccountModified(account)).toBe(false)
    state.update(account, (d) => {
      const server = d.server
      delete d.server
      d.server = server
    })
    expect(state.isModified()).toBe(false)
  })

  it('refuses a change the loader would refuse, with its message, and keeps the account as it was', () => {
    const state = loaded([alice, {...alice, username: 'bob@example.com', local_path: '/b/bob'}])
    const account = state.accounts[0]!
    const result = state.update(account, (d) => (d.multi_fetch_size = true as unknown as number))
    expect(result.error).toMatch(/^accounts\[0\]\.multi_fetch_size \(alice@example\.com\): must be a positive whole number, not true; /)
    expect(account.multi_fetch_size).toBe(100)
    expect(state.update(account, (d) => (d.local_path = '/b/bob')).error).toMatch(/is also the backup directory of accounts\[0\] \(alice@example\.com\)/)
    expect(state.isModified()).toBe(false)
  })

  it('reports the warnings a change causes, once', () => {
    const state = loaded([alice])
    const result = state.update(state.accounts[0]!, (d) => (d.connection_options = {port: 993, verify_hostname: false}))
    expect(result.warnings).toEqual(['accounts[0].connection_options.verify_hostname (alice@example.com): not used by mailkeep, ignored'])
    expect(state.update(state.accounts[0]!, (d) => (d.multi_fetch_size = 5)).warnings).toEqual([])
  })

  it('shows the warnings of loading as notices, once', () => {
    const state = SetupState.fromConfig(parseConfig({accounts: [{...alice, download_strategy: 'direct'}]}, PATH))
    expect(state.takeNotices()).toEqual([
      'warning: accounts[0].download_strategy (alice@example.com): ignored, the top-level download_strategy applies to every account (as in imap-backup)',
    ])
    expect(state.takeNotices()).toEqual([])
  })

  it('knows the config directory and the strategy', () => {
    const state = SetupState.empty(PATH)
    expect(state.configDir).toBe(join('/tmp', 'mailkeep-unit'))
    state.setDownloadStrategy('direct')
    expect(state.downloadStrategy).toBe('direct')
    expect(state.isModified()).toBe(true)
  })
})

describe('canonicalJson', () => {
  it('ignores key order at every level but not array order', () => {
    expect(canonicalJson({b: 1, a: {d: 1, c: [2, 1]}})).toBe(canonicalJson({a: {c: [2, 1], d: 1}, b: 1}))
    expect(canonicalJson({a: [1, 2]})).not.toBe(canonicalJson({a: [2, 1]}))
  })
})
