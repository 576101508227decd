import {describe, expect, test} from 'vitest'
import {DamagedError} from '../../shared/errors.js'
import {MboxrdDecoder, decodeEntry} from './decoder.js'
import {encodeMessage} from './encoder.js'
import {type ExactnessRecord} from './exactness.js'
import type {QuotingRule} from './quoting.js'

const b = (s: string): Buffer => Buffer.from(s, 'latin1')
const s = (buf: Buffer): string => buf.toString('latin1')

function streamDecode(entry: Buffer, record: ExactnessRecord, size: number, rule: QuotingRule = 'compat'): Buffer {
  const decoder = new MboxrdDecoder(record, rule)
  const out: Buffer[] = []
  for (let at = 0; at < entry.length; at += size) out.push(...decoder.push(entry.subarray(at, at + size)))
  out.push(...decoder.end())
  return Buffer.concat(out)
}

describe('decodeEntry with a record', () => {
  test('compat rule: drops the separator, unquotes ^>+From (space or not), strips padding, restores CRLF', () => {
    const entry = b('From a@x.example Tue Mar  5 08:07:09 2024\n>From x\n>>From y\n>>From: z\n>Fromage\nFrom: h\n\n')
    const record: ExactnessRecord = {size: 44, appended: 1, eol: [0, 4]}
    expect(s(decodeEntry(entry, record, 'compat'))).toBe('From x\r\n>From y\r\n>From: z\r\nFromage\nFrom: h\r\n')
  })

  test('strict rule (what mailkeep 0.1.0 wrote): unquotes only ^>+From with the space', () => {
    const entry = b('From a@x.example Tue Mar  5 08:07:09 2024\n>From x\n>>From y\n>>From: z\n>Fromage\nFrom: h\n\n')
    const record: ExactnessRecord = {size: 46, appended: 1, eol: [0, 4]}
    expect(s(decodeEntry(entry, record, 'strict'))).toBe('From x\r\n>From y\r\n>>From: z\r\n>Fromage\nFrom: h\r\n')
    expect(s(streamDecode(entry, record, 3, 'strict'))).toBe('From x\r\n>From y\r\n>>From: z\r\n>Fromage\nFrom: h\r\n')
  })

  test('>>From: is stored as >>>From: and comes back', () => {
    const {entry, record} = encodeMessage(b('X: y\n\n>>From: z\n'))
    expect(s(entry)).toContain('\n>>>From: z\n')
    expect(s(decodeEntry(entry, record))).toBe('X: y\n\n>>From: z\n')
  })

  test('a last line >From without a line break, split anywhere', () => {
    const raw = b('X: y\n\n>From')
    const {entry, record} = encodeMessage(raw)
    expect(s(entry)).toBe('From \nX: y\n\n>>From\n\n')
    for (let size = 1; size <= entry.length; size++) expect(s(streamDecode(entry, record, size))).toBe(s(raw))
  })

  test('restores a bare CR before a CRLF (CR CR LF)', () => {
    const raw = b('a\r\r\nb\r')
    const {entry, record} = encodeMessage(raw)
    expect(decodeEntry(entry, record)).toEqual(raw)
  })

  describe('refuses an entry that does not fit its record', () => {
    const {entry, record} = encodeMessage(b('Subject: x\r\n\r\nbody\r\n'))

    test.each<[string, Buffer, ExactnessRecord, RegExp]>([
      ['wrong size', entry, {...record, size: record.size + 1}, /decodes to 20 bytes but its exactness record gives 21/],
      ['too long', entry, {...record, size: 3}, /longer than the 3 bytes/],
      ['no padding LF', b('From \n'), {size: 0, appended: 2, eol: 0}, /does not end with the 2 padding LF/],
      ['a byte missing', entry.subarray(0, -1), record, /decodes to 18 bytes but its exactness record gives 20/],
      ['padding not LF', Buffer.concat([entry.subarray(0, -1), b('x')]), record, /padding LF/],
      ['not an entry', entry.subarray(1), record, /does not start with "From "/],
      ['short separator', b('Fro\nm'), record, /does not start with "From "/],
      ['no separator end', b('From abc'), record, /no complete separator line/],
      ['more listed line breaks than present', entry, {...record, eol: [0, 9]}, /fewer line breaks than its exactness record lists/],
    ])('%s', (_name, bytes, rec, message) => {
      expect(() => decodeEntry(bytes, rec)).toThrow(DamagedError)
      expect(() => decodeEntry(bytes, rec)).toThrow(message)
      expect(() => streamDecode(bytes, rec, 3)).toThrow(message)
    })
  })
})

describe('MboxrdDecoder (streaming)', () => {
  const raw = b('From env@x Tue Mar  5 08:07:09 2024\r\nFrom: a@x.example\r\n\r\n>From a\nFrom b\r\n>>>From c\r\n\rx\r\r\n>>Frox\n\n')
  const {entry, record} = encodeMessage(raw)

  test('gives the message for every chunk size', () => {
    for (let size = 1; size <= entry.length; size++) expect(s(streamDecode(entry, record, size))).toBe(s(raw))
  })

  test('holds at most the padding back', () => {
    const decoder = new MboxrdDecoder({size: 5, appended: 1, eol: 1}, 'compat')
    expect(s(Buffer.concat(decoder.push(b('From \nab'))))).toBe('a')
    expect(s(Buffer.concat(decoder.push(b('cd\n'))))).toBe('bcd')
    expect(s(Buffer.concat(decoder.push(b('\n'))))).toBe('\n')
    expect(decoder.end()).toEqual([])
  })

  test('push after end and double end are errors', () => {
    const decoder = new MboxrdDecoder({size: 0, appended: 2, eol: 0}, 'compat')
    decoder.push(b('From \n\n\n'))
    decoder.end()
    expect(() => decoder.push(b('x'))).toThrow(/after end/)
    expect(() => decoder.end()).toThrow(/twice/)
  })
})
