import {describe, expect, it} from 'vitest'
import {memoryLogger} from '../shared/logger.js'
import {flowLogger, redactClientLine} from './flow-logger.js'

describe('redactClientLine', () => {
  it('hides LOGIN and AUTHENTICATE arguments and SASL continuations', () => {
    expect(redactClientLine('2 LOGIN "me" "pw"')).toBe('2 LOGIN [REDACTED]')
    expect(redactClientLine('3 AUTHENTICATE PLAIN')).toBe('3 AUTHENTICATE PLAIN')
    expect(redactClientLine('3 AUTHENTICATE XOAUTH2 dXNlcj1t')).toBe('3 AUTHENTICATE XOAUTH2 [REDACTED]')
    expect(redactClientLine('AGFsaWNlAHB3')).toBe('[REDACTED]')
    expect(redactClientLine('(* 1234B continuation *)')).toBe('(* 1234B continuation *)')
    expect(redactClientLine('4 UID FETCH 1:* (FLAGS)')).toBe('4 UID FETCH 1:* (FLAGS)')
  })
})

describe('flowLogger', () => {
  it('logs protocol lines only with traceProtocol, everything at debug, without secrets', () => {
    const quiet = memoryLogger()
    const traced = memoryLogger()
    for (const [logger, traceProtocol] of [
      [quiet, false],
      [traced, true],
    ] as const) {
      const log = flowLogger(logger, {traceProtocol, secrets: () => ['pw-123456']})
      log.debug({src: 'c', msg: '2 LOGIN "me" "pw-123456"'})
      log.debug({src: 's', msg: '2 NO [AUTHENTICATIONFAILED] pw-123456 is wrong'})
      log.info({src: 'auth', msg: 'User authenticated', user: 'me'})
      log.error({msg: 'failed', err: Object.assign(new Error('bad pw-123456'), {code: 'X', response: 'pw-123456'}), executedCommand: '2 LOGIN me pw-123456'})
    }
    expect(quiet.records.map((r) => r.message)).toEqual(['imapflow: User authenticated', 'imapflow: failed'])
    expect(traced.records.map((r) => r.message)).toEqual([
      'C: 2 LOGIN [REDACTED]',
      'S: 2 NO [AUTHENTICATIONFAILED] [REDACTED] is wrong',
      'imapflow: User authenticated',
      'imapflow: failed',
    ])
    expect(new Set(traced.records.map((r) => r.level))).toEqual(new Set(['debug']))
    expect(JSON.stringify(traced.records)).not.toContain('pw-123456')
    expect(traced.records[3]!.fields).toEqual({error: 'bad [REDACTED]', errorCode: 'X'})
  })
})

describe('flowLogger: server lines imapflow could not parse', () => {
  // imapflow 2.1.2 handleResponse(): the record of a response its parser rejected.
  const rejected = (msg: string): Record<string, unknown> => ({src: 's', msg, payloadBytes: msg.length + 2, err: Object.assign(new Error('Unexpected char at position 9'), {code: 'ParserError4'}), cid: 'x'})

  it('counts them, keeps a scrubbed, escaped excerpt of the last, and logs it without traceProtocol', () => {
    const logger = memoryLogger()
    const log = flowLogger(logger, {traceProtocol: false, secrets: () => ['pw-123456']})
    expect(log.unparsed).toEqual({count: 0, last: undefined})
    log.error(rejected('* LIST ((( "/"'))
    log.error(rejected(`* SEARCH 1 2 ((( pw-123456 \x00\xff${'x'.repeat(200)}`))
    expect(log.unparsed.count).toBe(2)
    const last = log.unparsed.last!
    expect(last.reason).toBe('Unexpected char at position 9')
    expect(last.excerpt).toMatch(/^\* SEARCH 1 2 \(\(\( \[REDACTED\] \\x00\\xffx+…$/)
    expect(last.excerpt.length).toBeLessThan(100)
    expect(logger.records.map((r) => [r.level, r.message])).toEqual([
      ['debug', expect.stringContaining('could not parse a server line (16 bytes, Unexpected char at position 9): * LIST ((( "/"')],
      ['debug', expect.stringContaining('could not parse a server line')],
    ])
    expect(JSON.stringify(logger.records)).not.toContain('pw-123456')
  })

  it('does not count other records: protocol lines, other errors, warnings with src s', () => {
    const log = flowLogger(memoryLogger(), {traceProtocol: true, secrets: () => []})
    log.debug({src: 's', msg: '* SEARCH 1 2'})
    log.warn({src: 's', msg: '* junk', payloadBytes: 6})
    log.error({msg: 'Failed to process server response', err: new Error('x')})
    log.error({err: Object.assign(new Error('Literal size 9 exceeds'), {code: 'LiteralTooLarge'})})
    expect(log.unparsed.count).toBe(0)
  })
})
