import {describe, expect, it} from 'vitest'
import {ConfigError} from '../shared/errors.js'
import {parseConfig} from './parse-config.js'
import type {Config, Connection} from './types.js'

const FILE = '/etc/mailkeep/config.json'

function load(connectionOptions: unknown): Config {
  return parseConfig({accounts: [{username: 'me@example.com', password: 'pw', server: 'imap.example.com', connection_options: connectionOptions}]}, FILE)
}

function connection(connectionOptions: unknown): Connection | undefined {
  return load(connectionOptions).accounts[0]?.connection
}

function refused(connectionOptions: unknown, ...parts: string[]): void {
  let error: unknown
  try {
    load(connectionOptions)
  } catch (e) {
    error = e
  }
  expect(error).toBeInstanceOf(ConfigError)
  for (const part of parts) expect((error as Error).message).toContain(part)
  expect((error as Error).message).toContain(`Config file '${FILE}'`)
}

describe('connection options → Connection', () => {
  it("defaults to imap-backup's: TLS on 993, verified, TLS ≥ 1.2, Net::IMAP timeouts", () => {
    expect(connection(undefined)).toEqual({
      host: 'imap.example.com',
      port: 993,
      security: 'tls',
      verifyCertificate: true,
      minTlsVersion: 'TLSv1.2',
      connectTimeoutMs: 10_000,
      idleTimeoutMs: 120_000,
    })
    expect(connection({ssl: true})).toEqual(connection(undefined))
  })

  it('maps ssl: false to plain IMAP, keeping port 993 unless one is given (as imap-backup)', () => {
    expect(connection({ssl: false})).toEqual({host: 'imap.example.com', port: 993, security: 'plain', verifyCertificate: false, connectTimeoutMs: 10_000, idleTimeoutMs: 120_000})
    expect(connection({port: 143, ssl: false})).toMatchObject({port: 143, security: 'plain'})
  })

  it('maps starttls: true to STARTTLS on 143 unless a port is given', () => {
    expect(connection({starttls: true})).toMatchObject({port: 143, security: 'starttls', verifyCertificate: true, minTlsVersion: 'TLSv1.2'})
    expect(connection({starttls: true, port: 1143})).toMatchObject({port: 1143, security: 'starttls'})
    expect(connection({starttls: true, ssl: {verify_mode: 0}})).toMatchObject({security: 'starttls', verifyCertificate: false})
    expect(connection({starttls: true, ssl: false})).toMatchObject({security: 'starttls'})
    expect(connection({starttls: false})).toMatchObject({port: 993, security: 'tls'})
  })

  it('refuses starttls together with ssl: true', () => {
    refused({starttls: true, ssl: true}, 'accounts[0].connection_options.ssl (me@example.com): ssl: true (TLS from the first byte) contradicts starttls: true; remove "ssl"')
  })

  it('reads the OpenSSL settings of an ssl object', () => {
    expect(connection({ssl: {verify_mode: 0}})).toMatchObject({verifyCertificate: false, minTlsVersion: 'TLSv1.2'})
    expect(connection({ssl: {verify_mode: 1}})).toMatchObject({verifyCertificate: true})
    expect(connection({ssl: {ca_file: '/etc/ssl/my-ca.pem'}})).toMatchObject({caFile: '/etc/ssl/my-ca.pem'})
    expect(connection({ssl: {ca_file: 'ca.pem'}})).toMatchObject({caFile: '/etc/mailkeep/ca.pem'})
  })

  it.each([
    ['TLS1_2', 'TLSv1.2'],
    [':TLS1_2', 'TLSv1.2'],
    ['TLS1_2_VERSION', 'TLSv1.2'],
    ['TLSv1.2', 'TLSv1.2'],
    ['TLS1_3', 'TLSv1.3'],
    ['TLSv1.3', 'TLSv1.3'],
    [771, 'TLSv1.2'],
    [772, 'TLSv1.3'],
  ])('reads min_version %j as %s', (value, expected) => {
    expect(connection({ssl: {min_version: value}})?.minTlsVersion).toBe(expected)
  })

  it.each(['TLS1', 'TLS1_1', 'TLSv1.1', 'SSL3', 770])('reads min_version %j below TLS 1.2 as TLS 1.2, with a warning, and keeps it in the file', (value) => {
    const config = load({ssl: {min_version: value}})
    expect(config.accounts[0]?.connection?.minTlsVersion).toBe('TLSv1.2')
    expect(config.warnings).toEqual([
      `Config file '${FILE}': accounts[0].connection_options.ssl.min_version (me@example.com): ${JSON.stringify(value)} is a TLS version older than 1.2; using "TLS1_2" instead, mailkeep's minimum (imap-backup would allow the older version); remove it or set "TLS1_2" or "TLS1_3"`,
    ])
    expect(config.raw.accounts[0]?.connection_options).toEqual({ssl: {min_version: value}})
  })

  it('refuses an unknown min_version', () => {
    refused({ssl: {min_version: 'modern'}}, 'ssl.min_version (me@example.com): must be "TLS1_2" or "TLS1_3", not "modern"')
  })

  it('converts the timeouts from seconds', () => {
    expect(connection({open_timeout: 10, idle_response_timeout: 2.5, timeout: 45})).toMatchObject({connectTimeoutMs: 10_000, idleTimeoutMs: 45_000})
  })

  it.each([
    [{port: 0}, 'connection_options.port (me@example.com): must be a port number from 1 to 65535, not 0'],
    [{port: 70000}, 'must be a port number from 1 to 65535, not 70000'],
    [{port: 'imaps'}, 'must be a port number from 1 to 65535, not a string'],
    [{ssl: 'yes'}, 'connection_options.ssl (me@example.com): must be true, false or an object of TLS settings, not a string'],
    [{starttls: 'yes'}, 'connection_options.starttls (me@example.com): must be true or false, not a string'],
    [{ssl: {verify_mode: 'none'}}, 'ssl.verify_mode (me@example.com): must be 0 (no verification) or 1 (verify the certificate), not a string'],
    [{ssl: {ca_file: 5}}, 'ssl.ca_file (me@example.com): must be the path of a PEM file, not a number'],
    [{open_timeout: 0}, 'connection_options.open_timeout (me@example.com): must be a positive number of seconds, not 0; remove it to use the default (10)'],
    [{idle_response_timeout: '5'}, 'connection_options.idle_response_timeout (me@example.com): must be a positive number of seconds, not a string'],
  ])('refuses %j', (options, message) => {
    refused(options, message)
  })

  it.each([
    [{prot: 993}, 'connection_options.prot (me@example.com): is not an option mailkeep knows; did you mean "port"?'],
    [{sll: false}, 'did you mean "ssl"?'],
    [{starttsl: true}, 'did you mean "starttls"?'],
    [{ssl: {verify_mod: 0}}, 'connection_options.ssl.verify_mod (me@example.com): is not an option mailkeep knows; did you mean "verify_mode"?'],
  ])('refuses the typo %j of an option mailkeep uses', (options, message) => {
    refused(options, message)
  })

  it('keeps OpenSSL\'s max_version (close to min_version) a warning', () => {
    expect(load({ssl: {max_version: 'TLS1_3'}}).warnings).toEqual([`Config file '${FILE}': accounts[0].connection_options.ssl.max_version (me@example.com): not used by mailkeep, ignored`])
  })

  it('accepts a port written as a string of digits (Ruby does)', () => {
    expect(connection({port: '1993'})).toMatchObject({port: 1993})
  })

  it('ignores unknown options with a warning and keeps them in the file form', () => {
    const config = load({port: 993, ssl: {verify_mode: 1, verify_hostname: false, ca_path: '/etc/ssl'}, read_timeout: 9, debug: true})
    expect(config.warnings).toEqual([
      `Config file '${FILE}': accounts[0].connection_options.read_timeout (me@example.com): not used by mailkeep, ignored`,
      `Config file '${FILE}': accounts[0].connection_options.debug (me@example.com): not used by mailkeep, ignored`,
      `Config file '${FILE}': accounts[0].connection_options.ssl.verify_hostname (me@example.com): not used by mailkeep, ignored`,
      `Config file '${FILE}': accounts[0].connection_options.ssl.ca_path (me@example.com): not used by mailkeep, ignored`,
    ])
    expect(Object.keys(config.accounts[0]!.connection!).sort()).toEqual(['connectTimeoutMs', 'host', 'idleTimeoutMs', 'minTlsVersion', 'port', 'security', 'verifyCertificate'])
    expect(config.raw.accounts[0]?.connection_options).toEqual({port: 993, ssl: {verify_mode: 1, verify_hostname: false, ca_path: '/etc/ssl'}, read_timeout: 9, debug: true})
  })
})
