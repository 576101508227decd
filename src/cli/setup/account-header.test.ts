import {describe, expect, it} from 'vitest'
import {accountHeader, describePassword, formatRows} from './account-header.js'

describe('accountHeader', () => {
  it('shows every setting, the password masked with a fixed width', () => {
    const text = accountHeader(
      {username: 'me@example.com', password: 'a-long-secret-password', local_path: '/b/me', server: 'imap.example.com', connection_options: {port: 143, ssl: false}, multi_fetch_size: 5},
      false,
    )
    expect(text).toBe(
      [
        'mailkeep - Account',
        '',
        'login        me@example.com',
        'password     ********',
        'server       imap.example.com',
        'connection   port 143, plain IMAP (not encrypted)',
        'mode         keep all emails',
        'path         /b/me',
        'include      (all folders)',
        'multi-fetch  5',
        '',
      ].join('\n'),
    )
    expect(text).not.toContain('secret')
  })

  it('marks a modified account, and shows unset values, provider servers, exclusions, status and extensions', () => {
    const text = accountHeader(
      {username: 'me@icloud.com', password_env: 'MAIL_PW', folders: ['Spam', {name: 'Trash'}], folder_blacklist: true, mirror_mode: true, reset_seen_flags_after_fetch: true, status: 'offline'},
      true,
    )
    expect(text).toMatch(/^mailkeep - Account\*$/m)
    expect(text).toMatch(/^password +from the environment variable MAIL_PW$/m)
    expect(text).toMatch(/^server +imap\.mail\.me\.com \(the provider's server\)$/m)
    expect(text).toMatch(/^mode +mirror emails$/m)
    expect(text).toMatch(/^path +\(unset\)$/m)
    expect(text).toMatch(/^exclude +Spam, Trash$/m)
    expect(text).toMatch(/^multi-fetch +100$/m)
    expect(text).toMatch(/^connection +port 993, TLS, certificate verified$/m)
    expect(text).toMatch(/^unread flags +changes to unread flags will be reset after download$/m)
    expect(text).toMatch(/^status +offline/m)
    expect(text).toMatch(/^note +uses mailkeep extensions \(password_env\): imap-backup cannot read this config$/m)
  })

  it('describes every password source without a secret', () => {
    expect(describePassword({username: 'a@b.c', password: ''})).toBe('(unset)')
    expect(describePassword({username: 'a@b.c', password_command: 'pass show mail'})).toBe('from the command: pass show mail')
    expect(describePassword({username: 'a@b.c', password_file: '~/pw'})).toBe('from the file ~/pw')
    expect(describePassword({username: 'a@b.c', oauth2_token_command: 'oama access a@b.c', auth_mechanism: 'oauthbearer'})).toBe(
      'OAuth2 token (oauthbearer) from the command: oama access a@b.c',
    )
  })

  it('shows a Windows path with backslashes as it is (compat §9.2 100)', () => {
    expect(accountHeader({username: 'me@example.com', password: '', local_path: 'C:\\Users\\me\\mail'}, false)).toMatch(/^path +C:\\Users\\me\\mail$/m)
  })

  it('shows control characters of names as ?', () => {
    expect(formatRows([['include', 'In\u001B[2Jbox']])).toBe('include  In?[2Jbox')
  })
})
