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
