import {describe, expect, it} from 'vitest'
import {chooseMechanism} from './authenticate.js'

describe('chooseMechanism: the OAuth2 SASL mechanism from the server capabilities', () => {
  const caps = (...names: string[]) => new Set(names)

  it('auto: XOAUTH2 when announced (Gmail, Microsoft), else OAUTHBEARER (RFC 7628), else none', () => {
    expect(chooseMechanism('auto', caps('IMAP4rev1', 'AUTH=XOAUTH2', 'AUTH=OAUTHBEARER'))).toBe('XOAUTH2')
    expect(chooseMechanism('auto', caps('IMAP4rev1', 'AUTH=OAUTHBEARER'))).toBe('OAUTHBEARER')
    expect(chooseMechanism('auto', caps('IMAP4rev1', 'AUTH=PLAIN'))).toBeUndefined()
  })

  it('a configured mechanism only when the server announces it', () => {
    expect(chooseMechanism('OAUTHBEARER', caps('AUTH=XOAUTH2', 'AUTH=OAUTHBEARER'))).toBe('OAUTHBEARER')
    expect(chooseMechanism('OAUTHBEARER', caps('AUTH=XOAUTH2'))).toBeUndefined()
    expect(chooseMechanism('XOAUTH2', caps('AUTH=OAUTHBEARER'))).toBeUndefined()
  })
})
