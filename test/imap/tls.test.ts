// TLS: STARTTLS against Dovecot with a self-signed certificate, implicit TLS through a TLS
// front end, certificate verification with and without ca_file, minimum TLS version.
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ConnectionError} from '../../src/shared/errors.js'
import {startDovecot, type DovecotInstance, type TestUser} from '../support/dovecot.js'
import {startProxy, type TcpProxy} from '../support/tcp-proxy.js'
import {makeTempDir, removeTempDir} from '../support/temp-dir.js'
import type {Listener} from '../support/listeners.js'
import {selfSignedCertificate, startTlsFront} from '../support/tls-front.js'
import {startFakeServer} from './fake-server.js'
import {connectAs, rejection} from './helpers.js'

describe('TLS', () => {
  let dir: string
  let certFile: string
  let dc: DovecotInstance
  let proxy: TcpProxy
  let front: Listener
  let frontPort: number
  let user: TestUser

  beforeAll(async () => {
    dir = await makeTempDir('mailkeep-tls-')
    const certificate = await selfSignedCertificate(dir)
    certFile = certificate.certFile
    dc = await startDovecot({separator: '/', extraConfig: `ssl = yes\nssl_cert = <${certFile}\nssl_key = <${certificate.keyFile}\n`})
    proxy = await startProxy({targetPort: dc.port})
    user = dc.users[0]!
    // Implicit TLS (port 993 style): a TLS front end that forwards the clear text to Dovecot.
    front = await startTlsFront(dc, certificate, {maxVersion: 'TLSv1.2'})
    frontPort = front.port
  })
  afterAll(async () => {
    await front?.close()
    await proxy?.close()
    await dc?.stop()
    if (dir) await removeTempDir(dir)
  })

  it('STARTTLS with the CA file verifies the certificate and logs in', async () => {
    proxy.resetStats()
    const session = await connectAs(proxy, user, {endpoint: {security: 'starttls', caFile: certFile}})
    expect(proxy.commandNames()).toContain('STARTTLS')
    expect((await session.examine('INBOX')).uidValidity).toBeGreaterThan(0)
    await session.logout()
  })

  it('STARTTLS with a self-signed certificate and no CA file is a TLS ConnectionError; without verification it works', async () => {
    const error = await rejection(connectAs(dc, user, {endpoint: {security: 'starttls'}}))
    expect(error).toBeInstanceOf(ConnectionError)
    expect(error).toMatchObject({failure: 'tls', retryable: false})
    const session = await connectAs(dc, user, {endpoint: {security: 'starttls', verifyCertificate: false}})
    await session.noop()
    await session.logout()
  })

  it("'plain' never upgrades, even when STARTTLS is offered", async () => {
    proxy.resetStats()
    const session = await connectAs(proxy, user, {endpoint: {security: 'plain'}})
    await session.logout()
    expect(proxy.commandNames()).not.toContain('STARTTLS')
  })

  it("'starttls' refuses a server without STARTTLS", async () => {
    const fake = await startFakeServer({password: 'x'})
    try {
      const error = await rejection(connectAs(fake, {user: 'u', password: 'x'}, {endpoint: {security: 'starttls'}}))
      expect(error).toBeInstanceOf(ConnectionError)
    } finally {
      await fake.close()
    }
  })

  it('implicit TLS with the CA file works; a minimum of TLS 1.3 against a TLS 1.2 server is refused', async () => {
    const target = {host: '127.0.0.1', port: frontPort}
    const session = await connectAs(target, user, {endpoint: {security: 'tls', caFile: certFile}})
    await session.noop()
    await session.logout()
    const error = await rejection(connectAs(target, user, {endpoint: {security: 'tls', caFile: certFile, minTlsVersion: 'TLSv1.3'}}))
    expect(error).toMatchObject({failure: 'tls'})
    const missing = await rejection(connectAs(target, user, {endpoint: {security: 'tls', caFile: join(dir, 'nope.pem')}}))
    expect(missing).toMatchObject({failure: 'tls'})
    expect((missing as Error).message).toContain('nope.pem')
  })
})
