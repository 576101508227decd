import {describe, expect, test} from 'vitest'
import {decodeEntry} from './decoder.js'
import {encodeMessage} from './encoder.js'
import {legacyDecode, legacyToUpload} from './legacy.js'

const b = (s: string): Buffer => Buffer.from(s, 'latin1')
const s = (buf: Buffer): string => buf.toString('latin1')

describe('legacyDecode (imap-backup’s rule)', () => {
  test('an imap-backup entry whose From: header was quoted as >From: gives From: back', () => {
    // imap-backup 16 wrote this: it quoted `From:` (no space needed) but not the first line.
    const entry = b('From a@x.example Tue Mar  5 08:07:09 2024\nSubject: x\n>From: a@x.example\n\n>From here\n>>From: there\n\n')
    expect(s(legacyDecode(entry))).toBe('Subject: x\nFrom: a@x.example\n\nFrom here\n>From: there\n\n')
    expect(s(decodeEntry(entry, undefined))).toBe(s(legacyDecode(entry)))
  })

  test('the compat §4.2 example entry', () => {
    const entry = b('From address@example.org\nFrom: address@example.org\nSubject: Test 1\n\nbody 1\nHi\n\n')
    expect(s(legacyDecode(entry))).toBe('From: address@example.org\nSubject: Test 1\n\nbody 1\nHi\n\n')
  })

  test('drops the separator with every CR and LF after it', () => {
    expect(s(legacyDecode(b('From \n\n\nx\n\n')))).toBe('x\n\n')
    expect(s(legacyDecode(b('From a\r\n\r\nx\n')))).toBe('x\n')
    expect(s(legacyDecode(b('From a@b')))).toBe('')
    expect(s(legacyDecode(b('From \n\n\n')))).toBe('')
  })

  test('without a separator only unquotes', () => {
    expect(s(legacyDecode(b('x\n>From x\n>>From y\n>Fromage\nz>From\n')))).toBe('x\nFrom x\n>From y\nFromage\nz>From\n')
  })

  test('the first line is dropped after unquoting', () => {
    // unquoting turns ">From " into "From ", which then counts as the first line
    expect(s(legacyDecode(b('>From a\nbody\n')))).toBe('body\n')
  })

  test('never a bare CR as line start, and only at line starts', () => {
    expect(s(legacyDecode(b('From \nx\r>From y\na >From z\n')))).toBe('x\r>From y\na >From z\n')
  })
})

describe('legacyToUpload', () => {
  test('every LF not preceded by CR becomes CRLF', () => {
    expect(s(legacyToUpload(b('a\nb\r\nc\r\rd\n\n')))).toBe('a\r\nb\r\nc\r\rd\r\n\r\n')
    expect(s(legacyToUpload(b('\n')))).toBe('\r\n')
    expect(s(legacyToUpload(b('no line break')))).toBe('no line break')
    expect(s(legacyToUpload(b('')))).toBe('')
  })
})

describe('imap-backup reading what mailkeep wrote', () => {
  test('a corpus-like message comes back with LF endings and the padding', () => {
    const raw = b(
      'Return-Path: <a@x.example>\r\nFrom: "A, B" <a@x.example>\r\nTo: c@y.example\r\nSubject: hi\r\n' +
        'Date: Tue, 5 Mar 2024 08:07:09 +0100\r\n\r\nFrom the start,\r\n>From quoted\r\n>>From more\r\nbye\r\n',
    )
    const {entry} = encodeMessage(raw)
    expect(s(legacyDecode(entry))).toBe(s(raw).replace(/\r\n/g, '\n') + '\n')
  })

  test('one reading rule for both tools: a >From: line the server sent comes back as it was', () => {
    const raw = b('Subject: fwd\n\n>From: someone\nFrom: x\n')
    const {entry, record} = encodeMessage(raw)
    expect(s(entry)).toBe('From \nSubject: fwd\n\n>>From: someone\nFrom: x\n\n')
    expect(s(legacyDecode(entry))).toBe('Subject: fwd\n\n>From: someone\nFrom: x\n\n')
    expect(decodeEntry(entry, record)).toEqual(raw)
  })
})
