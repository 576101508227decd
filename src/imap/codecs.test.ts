// Pure helpers: modified UTF-7, UID sets, INTERNALDATE.
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {formatInternalDate, parseInternalDate} from './internal-date.js'
import {decodeMailboxName, encodeMailboxName} from './mutf7.js'
import {compactUidSet, expandUidSet, isValidUidSet, uidSetMatcher} from './uid-set.js'

describe('modified UTF-7 (RFC 3501 §5.1.3)', () => {
  it.each([
    ['INBOX', 'INBOX'],
    ['Entwürfe', 'Entw&APw-rfe'],
    ['日本語', '&ZeVnLIqe-'],
    ['Tom & Jerry', 'Tom &- Jerry'],
    ['~peter/mail/台北/日本語', '~peter/mail/&U,BTFw-/&ZeVnLIqe-'],
    ['Neu €', 'Neu &IKw-'],
  ])('%s ⇄ %s', (name, wire) => {
    expect(encodeMailboxName(name)).toBe(wire)
    expect(decodeMailboxName(wire)).toBe(name)
  })

  it('keeps a lone surrogate and round-trips any string', () => {
    expect(decodeMailboxName(encodeMailboxName('a\ud800b'))).toBe('a\ud800b')
    fc.assert(
      fc.property(fc.string({unit: 'binary'}), (s) => decodeMailboxName(encodeMailboxName(s)) === s),
      {numRuns: 300},
    )
  })

  it('keeps malformed runs verbatim instead of failing', () => {
    expect(decodeMailboxName('a&b')).toBe('a&b')
    expect(decodeMailboxName('x&!!!-y')).toBe('x&!!!-y')
    expect(decodeMailboxName('x&A-y')).toBe('x&A-y')
  })
})

describe('UID sets', () => {
  it('validates', () => {
    expect(isValidUidSet('1:*')).toBe(true)
    expect(isValidUidSet('5,7:9,12')).toBe(true)
    expect(isValidUidSet('*')).toBe(true)
    expect(isValidUidSet('')).toBe(false)
    expect(isValidUidSet('0:5')).toBe(false)
    expect(isValidUidSet('1:2:3')).toBe(false)
    expect(isValidUidSet('1 OR 2')).toBe(false)
  })

  it('reads * as unbounded', () => {
    const inSet = uidSetMatcher('100:*')
    expect(inSet(50)).toBe(false)
    expect(inSet(100)).toBe(true)
    expect(inSet(4_000_000_000)).toBe(true)
    expect(uidSetMatcher('9:3')(5)).toBe(true)
    expect(uidSetMatcher('1,3')(2)).toBe(false)
  })

  it('expands and compacts', () => {
    expect(expandUidSet('1:3,7,10:9')).toEqual([1, 2, 3, 7, 9, 10])
    expect(() => expandUidSet('1:*')).toThrow()
    expect(() => expandUidSet('1:4294967295')).toThrow(/more than/)
    expect(compactUidSet([7, 1, 2, 3, 9, 10, 2])).toBe('1:3,7,9:10')
  })
})

describe('INTERNALDATE (RFC 3501 §9 date-time)', () => {
  it('parses with the zone, and a one-digit day with its space', () => {
    expect(parseInternalDate('14-Mar-2021 12:30:45 +0100')?.toISOString()).toBe('2021-03-14T11:30:45.000Z')
    expect(parseInternalDate(' 1-Jan-2024 00:00:00 -0230')?.toISOString()).toBe('2024-01-01T02:30:00.000Z')
    expect(parseInternalDate('garbage')).toBeNull()
    expect(parseInternalDate('14-Foo-2021 12:30:45 +0100')).toBeNull()
  })

  it('parses exactly what the date-time pattern of RFC 3501 §9 matches, as the regular expression did', () => {
    const PATTERN = /^\s?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/
    const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']
    const reference = (text: string): number | null => {
      const m = PATTERN.exec(text)
      const month = m === null ? -1 : MONTHS.indexOf(m[2]!.toLowerCase())
      if (m === null || month < 0) return null
      const offset = (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9]))
      const time = Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6])) - offset * 60_000
      return Number.isNaN(time) ? null : time
    }
    const piece = fc.oneof(fc.constantFrom(' ', '\t', '-', ':', '+', '0', '1', '9', 'Jan', 'mAR', 'Foo', 'Dec', '2024', ' +0000', '  ', 'x'), fc.string({maxLength: 3}))
    const nearly = fc.tuple(fc.constantFrom('', ' ', '\t', '  '), fc.integer({min: 0, max: 123}), fc.constantFrom('Jan', 'feb', 'MAR', 'Dec', 'Fob', 'Ja'), fc.integer({min: 0, max: 99999}), fc.integer({min: 0, max: 99}), fc.constantFrom('+', '-', '*'), fc.integer({min: 0, max: 9999}))
      .map(([lead, day, month, year, hour, sign, zone]) => `${lead}${day}-${month}-${String(year).padStart(4, '0')} ${String(hour).padStart(2, '0')}:07:59 ${sign}${String(zone).padStart(4, '0')}`)
    fc.assert(
      fc.property(fc.oneof(nearly, fc.array(piece, {maxLength: 12}).map((p) => p.join(''))), (text) => {
        expect(parseInternalDate(text)?.getTime() ?? null).toBe(reference(text))
      }),
      {numRuns: 5000},
    )
  })

  it('formats in UTC and parses back', () => {
    const date = new Date('2020-02-29T23:59:58Z')
    expect(formatInternalDate(date)).toBe('29-Feb-2020 23:59:58 +0000')
    expect(parseInternalDate(formatInternalDate(date))?.getTime()).toBe(date.getTime())
  })
})
