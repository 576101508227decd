import {describe, expect, it} from 'vitest'
import {parseConfig, type AccountFile} from '../../config/index.js'
import {describeForm, readForm, writeForm, type ConnectionForm} from './connection-form.js'

const base: AccountFile = {username: 'me@example.com', password: 'x', local_path: '/b/me', server: 'imap.example.com'}

/** What the loader makes of the written options: the proof that the form means what it says. */
function loaded(options: AccountFile['connection_options']) {
  const account = options === undefined ? base : {...base, connection_options: options}
  return parseConfig({version: '2.2', accounts: [account]}, '/c/config.json').accounts[0]!.connection!
}

describe('connection form', () => {
  it('reads the defaults from an account without options, and writes nothing back for them', () => {
    const form = readForm(base)
    expect(form).toEqual({port: undefined, security: 'tls', verify: true, caFile: undefined})
    expect(writeForm(base, form)).toBeUndefined()
    expect(describeForm(form)).toBe('port 993, TLS, certificate verified')
  })

  it.each<[ConnectionForm, object, object]>([
    [{port: 143, security: 'starttls', verify: true, caFile: undefined}, {starttls: true}, {port: 143, security: 'starttls', verifyCertificate: true}],
    [{port: 1143, security: 'plain', verify: true, caFile: undefined}, {port: 1143, ssl: false}, {port: 1143, security: 'plain'}],
    [{port: 143, security: 'plain', verify: true, caFile: undefined}, {port: 143, ssl: false}, {port: 143, security: 'plain'}],
    [{port: undefined, security: 'tls', verify: false, caFile: undefined}, {ssl: {verify_mode: 0}}, {port: 993, security: 'tls', verifyCertificate: false}],
    [{port: 9993, security: 'tls', verify: true, caFile: '/etc/my-ca.pem'}, {port: 9993, ssl: {ca_file: '/etc/my-ca.pem'}}, {port: 9993, security: 'tls', caFile: '/etc/my-ca.pem'}],
  ])('writes %j as imap-backup options the loader reads back the same', (form, options, connection) => {
    const written = writeForm(base, form)
    expect(written).toEqual(options)
    expect(loaded(written)).toMatchObject(connection)
    expect(readForm({...base, connection_options: written!})).toEqual({...form, port: form.port === 993 || (form.security === 'starttls' && form.port === 143) ? undefined : form.port})
  })

  it('keeps every other key: timeouts, min_version, options mailkeep does not use, a JSON string', () => {
    const account: AccountFile = {...base, connection_options: JSON.stringify({port: 993, open_timeout: 5, ssl: {min_version: 'TLS1_3', verify_mode: 1}, debug: true})}
    const form = {...readForm(account), security: 'starttls' as const, port: 143, verify: false}
    expect(writeForm(account, form)).toEqual({open_timeout: 5, ssl: {min_version: 'TLS1_3', verify_mode: 0}, debug: true, starttls: true})
  })

  it('plain IMAP drops the TLS settings but keeps the others', () => {
    const account: AccountFile = {...base, connection_options: {ssl: {verify_mode: 0, ca_file: '/x.pem'}, timeout: 30}}
    expect(writeForm(account, {port: 143, security: 'plain', verify: false, caFile: '/x.pem'})).toEqual({timeout: 30, port: 143, ssl: false})
    expect(describeForm({port: 143, security: 'plain', verify: true, caFile: undefined})).toBe('port 143, plain IMAP (not encrypted)')
  })
})
