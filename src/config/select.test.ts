import {describe, expect, it} from 'vitest'
import {ConfigError} from '../shared/errors.js'
import {parseConfig} from './parse-config.js'
import {selectAccounts, selectFolders} from './select.js'

const SERVER = ['INBOX', 'Sent', 'Archive', 'Drafts', 'inbox']

describe('selectFolders (compat §6.2)', () => {
  it.each([
    // folder_blacklist, folders, result
    [false, [], SERVER],
    [false, ['Drafts', 'INBOX', 'Missing'], ['INBOX', 'Drafts']],
    [true, [], SERVER],
    [true, ['Drafts', 'INBOX', 'Missing'], ['Sent', 'Archive', 'inbox']],
  ])('blacklist %s, folders %j → %j', (folderBlacklist, folders, expected) => {
    expect(selectFolders(SERVER, {folderBlacklist, folders})).toEqual(expected)
  })

  it('treats an unset folders key as empty', () => {
    const config = parseConfig({accounts: [{username: 'a@x.org', password: 'p'}, {username: 'b@x.org', password: 'p', folder_blacklist: true}]}, '/c/config.json')
    expect(selectFolders(SERVER, config.accounts[0]!)).toEqual(SERVER)
    expect(selectFolders(SERVER, config.accounts[1]!)).toEqual(SERVER)
  })

  it('keeps server order and compares names exactly (case-sensitive, no delimiter normalisation)', () => {
    expect(selectFolders(['a/b', 'A', 'a.b', 'a'], {folderBlacklist: false, folders: ['a', 'a/b']})).toEqual(['a/b', 'a'])
    expect(selectFolders(['Sent', 'sent'], {folderBlacklist: true, folders: ['sent']})).toEqual(['Sent'])
  })
})

describe('selectAccounts', () => {
  const config = parseConfig(
    {
      accounts: [
        {username: 'a@x.org', password: 'p'},
        {username: 'b@x.org', password: 'p', status: 'archived'},
        {username: 'c@x.org', password: 'p', status: 'offline'},
      ],
    },
    '/c/config.json',
  )

  it('returns every account, whatever its status, when no names are given', () => {
    expect(selectAccounts(config).map((a) => a.username)).toEqual(['a@x.org', 'b@x.org', 'c@x.org'])
    expect(selectAccounts(config, []).map((a) => a.username)).toEqual(['a@x.org', 'b@x.org', 'c@x.org'])
  })

  it('returns the named accounts in config order', () => {
    expect(selectAccounts(config, ['c@x.org', 'a@x.org']).map((a) => a.username)).toEqual(['a@x.org', 'c@x.org'])
  })

  it('refuses an unknown name with the compat wording', () => {
    let error: unknown
    try {
      selectAccounts(config, ['a@x.org', 'A@x.org'])
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).message).toBe('A@x.org is not a configured account')
    expect((error as ConfigError).hint).toBe("accounts in '/c/config.json': a@x.org, b@x.org, c@x.org")
  })
})
