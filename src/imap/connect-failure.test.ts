import {describe, expect, it} from 'vitest'
import {diagnoseConnectFailure} from './connect-failure.js'
import type {Endpoint} from './types.js'

const endpoint: Endpoint = {host: 'imap.example.test', port: 993, security: 'tls', verifyCertificate: true, connectTimeoutMs: 10_000, idleTimeoutMs: 120_000}

// test/imap/connect-failure.test.ts has the cases a loopback listener can produce; a TCP
// connection that is never answered (a firewall dropping it) cannot be made on loopback.
describe('diagnoseConnectFailure', () => {
  it('a TCP connection that never came up: nothing answered within the connect timeout (no probe)', async () => {
    const error = await diagnoseConnectFailure(Object.assign(new Error('Failed to establish connection in required time'), {code: 'CONNECT_TIMEOUT'}), endpoint, false)
    expect(error).toMatchObject({failure: 'timeout', retryable: true})
    expect(error!.message).toBe('cannot connect to imap.example.test:993: nothing answered within 10 s (open_timeout)')
    expect(error!.hint).toMatch(/firewall/)
  })

  it('says nothing about failures after the greeting, or that are not about the connection', async () => {
    expect(await diagnoseConnectFailure(Object.assign(new Error('x'), {code: 'GREETING_TIMEOUT'}), endpoint, true)).toBeUndefined()
    expect(await diagnoseConnectFailure(Object.assign(new Error('x'), {code: 'ENOTFOUND'}), endpoint, false)).toBeUndefined()
    expect(await diagnoseConnectFailure(new Error('no code'), endpoint, false)).toBeUndefined()
  })
})
