import {describe, expect, it} from 'vitest'
import {ConnectionError, type MailkeepError, RemoteError, TransientImapError} from '../shared/errors.js'
import {ExitCode} from '../shared/exit-codes.js'
import {clearSecrets, registerSecret} from '../shared/secrets.js'
import {classifyImapError, isOverLimit} from './classify.js'
import {ImapConnectionError, OversizedResponseError} from './imap-errors.js'

const context = {server: 'imap.example.test:993', user: 'me@example.test', command: 'UID FETCH', folder: 'INBOX', secrets: ['s3cret-pw']}
const err = (message: string, fields: Record<string, unknown>): Error => Object.assign(new Error(message), fields)

describe('classifyImapError', () => {
  it('maps a refused login to a non-retryable ConnectionError (exit 111) naming user and server, never the password', () => {
    const error = classifyImapError(
      err('Command failed', {authenticationFailed: true, serverResponseCode: 'AUTHENTICATIONFAILED', response: 'Authentication failed for s3cret-pw'}),
      context,
    )
    expect(error).toBeInstanceOf(ImapConnectionError)
    expect(error).toBeInstanceOf(ConnectionError)
    expect((error as ImapConnectionError).exitCode).toBe(ExitCode.CONNECTION)
    expect(error).toMatchObject({failure: 'auth', retryable: false})
    expect(error.message).toContain("'me@example.test'")
    expect(error.message).toContain('imap.example.test:993')
    expect(error.message).toContain('[AUTHENTICATIONFAILED]')
    expect(error.message).not.toContain('s3cret-pw')
    expect(error.cause).toBeDefined()
  })

  it('scrubs registered secrets as well', () => {
    registerSecret('registered-token-xyz')
    try {
      const error = classifyImapError(err('Command failed', {responseStatus: 'NO', responseText: 'bad token registered-token-xyz'}), context)
      expect(error.message).not.toContain('registered-token-xyz')
    } finally {
      clearSecrets()
    }
  })

  it.each([
    ['ECONNREFUSED', 'refused', true],
    ['ENOTFOUND', 'dns', false],
    ['EAI_AGAIN', 'dns', true],
    ['EHOSTUNREACH', 'unreachable', true],
    ['ENETUNREACH', 'unreachable', true],
  ] as const)('maps %s at connect to ConnectionError %s (retryable %s)', (code, failure, retryable) => {
    const error = classifyImapError(err(`connect ${code}`, {code}), context)
    expect(error).toBeInstanceOf(ImapConnectionError)
    expect(error).toMatchObject({failure, retryable})
  })

  it.each(['DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'ERR_SSL_WRONG_VERSION_NUMBER', 'EPROTO'])(
    'maps TLS failure %s to a non-retryable ConnectionError',
    (code) => {
      const error = classifyImapError(err('tls failed', {code}), context)
      expect(error).toMatchObject({failure: 'tls', retryable: false})
      expect((error as MailkeepError).hint).toBeDefined()
    },
  )

  it('maps a failed STARTTLS upgrade to a TLS ConnectionError', () => {
    expect(classifyImapError(err('Server does not support STARTTLS', {tlsFailed: true}), context)).toMatchObject({failure: 'tls'})
  })

  it.each(['NoConnection', 'EConnectionClosed', 'ClosedAfterConnectText', 'ETIMEOUT', 'ETIMEDOUT', 'GREETING_TIMEOUT', 'CONNECT_TIMEOUT', 'ECONNRESET', 'EPIPE', 'ETHROTTLE', 'ERR_STREAM_DESTROYED'])(
    'maps %s to TransientImapError',
    (code) => {
      const error = classifyImapError(err('gone', {code}), context)
      expect(error).toBeInstanceOf(TransientImapError)
      expect(error.message).toContain('UID FETCH')
      expect(error.message).toContain("'INBOX'")
      expect(error.cause).toBeDefined()
    },
  )

  it('keeps the reason of a BYE', () => {
    const error = classifyImapError(err('Connection not available', {code: 'NoConnection', reason: 'Server shutting down'}), context)
    expect(error).toBeInstanceOf(TransientImapError)
    expect(error.message).toContain('Server shutting down')
  })

  it('maps NO and BAD to RemoteError with the server text', () => {
    const no = classifyImapError(err('Command failed', {responseStatus: 'NO', responseText: 'Mailbox is locked', serverResponseCode: 'INUSE'}), context)
    expect(no).toBeInstanceOf(RemoteError)
    expect(no.message).toMatch(/answered NO to UID FETCH in 'INBOX': \[INUSE\] Mailbox is locked/)
    expect(classifyImapError(err('Command failed', {responseStatus: 'BAD', responseText: 'Error in IMAP command'}), context)).toBeInstanceOf(RemoteError)
  })

  it.each(['ParserError11', 'InvalidResponse', 'UnexpectedTag', 'LiteralTooLarge', 'ResponseProcessingFailed'])('maps protocol failure %s to RemoteError', (code) => {
    expect(classifyImapError(err('bad', {code}), context)).toBeInstanceOf(RemoteError)
  })

  it('passes mailkeep errors through and leaves programming errors alone', () => {
    const transient = new TransientImapError('x', {cause: new Error('y')})
    expect(classifyImapError(transient, context)).toBe(transient)
    const bug = new TypeError('undefined is not a function')
    expect(classifyImapError(bug, context)).toBe(bug)
  })

  it('makes an unknown error a RemoteError with a cause', () => {
    const error = classifyImapError(err('strange', {code: 'SOMETHING_NEW'}), context)
    expect(error).toBeInstanceOf(RemoteError)
    expect(error.cause).toBeDefined()
    expect(classifyImapError('a string', context)).toBeInstanceOf(RemoteError)
  })

  it('says when the server does not offer the configured OAuth2 mechanism', () => {
    const error = classifyImapError(Object.assign(new Error('server does not offer AUTH=XOAUTH2'), {authenticationFailed: true, noMechanism: true}), {user: 'me@x', server: 'imap.x:993', operation: 'login'} as never)
    expect(error.message).toContain('server does not offer AUTH=XOAUTH2')
    expect((error as {hint?: string}).hint).toContain('auth_mechanism')
    expect((error as {exitCode?: number}).exitCode).toBe(111)
  })

  it('makes an answer with lines imapflow could not parse a RemoteError that says nothing was concluded', () => {
    const error = classifyImapError(err('1 line(s) of the answer could not be parsed (Unexpected char: * SEARCH (((', {code: 'UnparsedResponse'}), {...context, command: 'UID SEARCH'})
    expect(error).toBeInstanceOf(RemoteError)
    expect(error).not.toBeInstanceOf(TransientImapError)
    expect(error.message).toBe(
      "unreadable answer from imap.example.test:993 to UID SEARCH in 'INBOX': 1 line(s) of the answer could not be parsed (Unexpected char: * SEARCH (((; nothing was concluded from the incomplete answer",
    )
    expect((error as MailkeepError).hint).toContain('server operator')
  })

  it('makes a literal over the limit an OversizedResponseError that says how large, the limit and what to do', () => {
    const raw = err('Literal size 943718400 exceeds maximum allowed size of 67108864 bytes', {code: 'LiteralTooLarge', literalSize: 943718400, maxSize: 67108864})
    expect(isOverLimit(raw)).toBe(true)
    const error = classifyImapError(raw, context)
    expect(error).toBeInstanceOf(OversizedResponseError)
    expect(error).toBeInstanceOf(RemoteError)
    expect(error).toMatchObject({what: 'literal', bytes: 943718400, limit: 67108864})
    expect(error.message).toBe(
      "imap.example.test:993 announced a literal of 943718400 bytes (900.0 MiB) in its answer to UID FETCH in 'INBOX', over the limit of 67108864 bytes (64.0 MiB); the connection was closed without reading it",
    )
    expect((error as MailkeepError).hint).toContain('large_message_bytes to at least 235929600')
    const huge = classifyImapError(err('Literal size Infinity exceeds', {code: 'LiteralTooLarge', literalSize: Infinity, maxSize: 67108864}), context)
    expect(huge.message).toContain('more than 19 digits of bytes')
    expect((huge as MailkeepError).hint).not.toContain('large_message_bytes')
    const response = classifyImapError(err('Response size', {code: 'ResponseTooLarge', responseSize: 70000000, maxSize: 68157440}), context)
    expect(response).toMatchObject({what: 'response', bytes: 70000000, limit: 68157440})
  })

  it('leaves a LiteralTooLarge without a limit (imapflow failing a command whose tagged line did not parse) a plain RemoteError', () => {
    const raw = err('Literal size 99 exceeds the 4 bytes available in the input', {code: 'LiteralTooLarge'})
    expect(isOverLimit(raw)).toBe(false)
    const error = classifyImapError(raw, context)
    expect(error).toBeInstanceOf(RemoteError)
    expect(error).not.toBeInstanceOf(OversizedResponseError)
  })
})

describe("imapflow's guess at a greeting timeout", () => {
  it('is dropped: what answered is said by connect-failure.ts instead (issue 11 item 15)', () => {
    const error = Object.assign(new Error('Failed to receive greeting from server in required time. Maybe should use TLS?'), {code: 'GREETING_TIMEOUT'})
    const classified = classifyImapError(error, {server: 'imap.example.test:143', user: 'me', command: 'login'})
    expect((classified as Error).message).toBe('connection to imap.example.test:143 lost during login: Failed to receive greeting from server in required time')
  })
})
