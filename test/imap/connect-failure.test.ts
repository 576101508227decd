// A wrong host, port or security setting (issue 11 item 15). Before, each of these was a
// "connection lost during login" to retry (or, for TLS against plain text, a bare TLS error), the
// hint said "Maybe should use TLS?" whatever answered, and with the retries an SSH port took 3½
// minutes to fail. Now the error says what answered (nothing, not IMAP, TLS expected, plain
// expected), a wrong setting is not retried, and it comes after the connect timeout at most.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ImapConnectionError} from '../../src/imap/index.js'
import {isRetryable} from '../../src/engine/access/retry.js'
import {ExitCode} from '../../src/shared/exit-codes.js'
import {startDovecot, type DovecotInstance, type TestUser} from '../support/dovecot.js'
import {SSH_BANNER, startListener, type Listener} from '../support/listeners.js'
import {makeTempDir, removeTempDir} from '../support/temp-dir.js'
import {selfSignedCertificate, startTlsFront} from '../support/tls-front.js'
import {connectAs, rejection} from './helpers.js'

describe('what answered a connection that failed before the greeting', () => {
  let dc: DovecotInstance
  let user: TestUser
  let dir: string
  let ssh: Listener
  let silent: Listener
  let imaps: {host: string; port: number; close(): Promise<void>}

  beforeAll(async () => {
    dc = await startDovecot({separator: '/'})
    user = dc.users[0]!
    ssh = await startListener(SSH_BANNER)
    silent = await startListener(undefined)
    // Implicit TLS (port 993 style) in front of Dovecot, with a self-signed certificate.
    dir = await makeTempDir('mailkeep-connect-')
    imaps = await startTlsFront(dc, await selfSignedCertificate(dir))
  })
  afterAll(async () => {
    await ssh?.close()
    await silent?.close()
    await imaps?.close()
    await dc?.stop()
    if (dir) await removeTempDir(dir)
  })

  async function failure(target: {host: string; port: number}, endpoint: Record<string, unknown>): Promise<ImapConnectionError> {
    const error = await rejection(connectAs(target, user, {endpoint: {connectTimeoutMs: 2000, idleTimeoutMs: 120_000, ...endpoint}}))
    expect(error).toBeInstanceOf(ImapConnectionError)
    expect((error as ImapConnectionError).exitCode).toBe(ExitCode.CONNECTION)
    expect((error as Error).message).not.toMatch(/Maybe should use TLS/)
    return error as ImapConnectionError
  }

  it.each(['plain', 'starttls', 'tls'] as const)('an SSH server (security %s): not IMAP, names what it sent, not retried', async (security) => {
    const error = await failure(ssh, {security})
    expect(error.failure).toBe('not-imap')
    expect(error.message).toBe(`cannot connect to ${ssh.host}:${ssh.port}: the server there is not an IMAP server (an SSH server): it sent '${SSH_BANNER}'`)
    expect(error.hint).toMatch(/check the server name and port/)
    expect(isRetryable(error)).toBe(false)
  })

  it('TLS configured, plain IMAP answers: "plain expected", with its greeting', async () => {
    const error = await failure(dc, {security: 'tls', verifyCertificate: false})
    expect(error.failure).toBe('plain-expected')
    expect(error.message).toMatch(/the server speaks plain IMAP there \(it greeted '\* OK .*Dovecot.*' without TLS\), but the configuration asks for TLS from the first byte/)
    expect(error.hint).toMatch(/"starttls": true/)
    expect(isRetryable(error)).toBe(false)
  })

  it.each(['plain', 'starttls'] as const)('%s configured, a TLS port answers: "TLS expected"', async (security) => {
    const error = await failure(imaps, {security})
    expect(error.failure).toBe('tls-expected')
    expect(error.message).toMatch(/the server expects TLS from the first byte \(it greets only after a TLS handshake\)/)
    expect(error.hint).toMatch(/remove "ssl": false and "starttls"/)
    expect(isRetryable(error)).toBe(false)
  })

  it('a server that accepts the connection and says nothing: "nothing came", after the connect timeout', async () => {
    const started = Date.now()
    const error = await failure(silent, {security: 'plain', connectTimeoutMs: 700})
    expect(error.failure).toBe('silent')
    expect(error.message).toBe(`cannot connect to ${silent.host}:${silent.port}: the connection was accepted, but nothing came (no IMAP greeting within 0.7 s, no TLS handshake)`)
    // Not before the connect timeout (a timer never fires early).
    expect(Date.now() - started).toBeGreaterThanOrEqual(650)
    expect(isRetryable(error)).toBe(true)
  })

  it('the right setting still connects (the diagnosis only runs after a failure)', async () => {
    const session = await connectAs(imaps, user, {endpoint: {security: 'tls', verifyCertificate: false}})
    expect(session.capabilities.all.size).toBeGreaterThan(0)
    await session.logout()
  })
})
