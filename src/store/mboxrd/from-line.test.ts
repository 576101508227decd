import {describe, expect, test} from 'vitest'
import {firstAddrSpec} from './address.js'
import {separatorLine} from './from-line.js'
import {readSenderFields} from './header-fields.js'

const line = (header: string): string => separatorLine(Buffer.from(header, 'latin1')).toString('latin1')

describe('separatorLine', () => {
  test('compat §4.2 example: From: and no Date', () => {
    expect(line('From: address@example.org\nSubject: Test 1\n')).toBe('From address@example.org\n')
  })

  test('no From and no Date gives "From " alone; a Date alone gives two spaces', () => {
    expect(line('Subject: x\n')).toBe('From \n')
    expect(line('')).toBe('From \n')
    expect(line('Date: Tue, 5 Mar 2024 08:07:09 +0100\n')).toBe('From  Tue Mar  5 08:07:09 2024\n')
  })

  test('asctime in the header’s own zone, CRLF header', () => {
    expect(line('From: a@b.example\r\nDate: Sun, 31 Dec 2023 23:59:59 -1100\r\n')).toBe('From a@b.example Sun Dec 31 23:59:59 2023\n')
  })

  test('an invalid Date is left out', () => {
    expect(line('From: a@b.example\nDate: not a date\n')).toBe('From a@b.example\n')
    expect(line('From: a@b.example\nDate: 30 Feb 2024 10:00:00 +0000\n')).toBe('From a@b.example\n')
  })

  test('order of preference: From, Sender, envelope, Return-Path', () => {
    const all = 'From x@envelope.example Tue Mar  5 08:07:09 2024\nReturn-Path: <r@rp.example>\nSender: s@sender.example\nFrom: f@from.example\n'
    expect(line(all)).toBe('From f@from.example\n')
    expect(line(all.replace('From: f@from.example\n', ''))).toBe('From s@sender.example\n')
    expect(line(all.replace(/From: .*\n|Sender: .*\n/g, ''))).toBe('From x@envelope.example\n')
    expect(line('Return-Path: <r@rp.example>\nSubject: x\n')).toBe('From r@rp.example\n')
    expect(line('Return-Path: <>\nSubject: x\n')).toBe('From \n')
  })

  test('a malformed From falls through to the next source', () => {
    expect(line('From: example <www.example.com>\n')).toBe('From \n')
    expect(line('From: example <www.example.com>\nSender: s@x.example\n')).toBe('From s@x.example\n')
    expect(line('From MAILER-DAEMON Tue Mar  5 08:07:09 2024\nReturn-Path: <r@x.example>\n')).toBe('From r@x.example\n')
  })

  test('field names are case-insensitive, the first occurrence wins, folded values unfold', () => {
    expect(line('FROM: a@x.example\nfrom: b@x.example\n')).toBe('From a@x.example\n')
    expect(line('From:\n  "Doe, John"\n <john@x.example>\nDate: Tue,\n 5 Mar 2024\n\t08:07 GMT\n')).toBe('From john@x.example Tue Mar  5 08:07:00 2024\n')
    expect(line('Subject: x\nFrom : a@x.example\n')).toBe('From a@x.example\n')
    // but a block that starts with "From " starts with an mbox envelope line (RFC 4155)
    expect(line('From : a@x.example\n')).toBe('From \n')
  })

  test('a From field later in the header block still counts; body lines are not read', () => {
    expect(line('Subject: hi\nX-A: 1\nFrom: late@x.example\n')).toBe('From late@x.example\n')
  })

  test('never contains CR, LF or NUL', () => {
    const sep = line('From: "a\x00b" <c\rd@x.example>, e\0f@x.example\nDate: Tue, 5 Mar 2024 08:07:09 +0100\r\n')
    expect(sep).toBe('From  Tue Mar  5 08:07:09 2024\n')
    expect(sep.slice(0, -1)).not.toMatch(/[\r\n\0]/)
  })

  test('8-bit bytes in the header block pass through unchanged', () => {
    const header = Buffer.concat([Buffer.from('From: =?x?= "J'), Buffer.from([0xc3, 0xb6]), Buffer.from('rg" <j'), Buffer.from([0xc3, 0xa9]), Buffer.from('@x.example>\n')])
    expect(separatorLine(header)).toEqual(Buffer.concat([Buffer.from('From j'), Buffer.from([0xc3, 0xa9]), Buffer.from('@x.example\n')]))
  })
})

describe('hostile header blocks', () => {
  test('long values are handled in linear time', () => {
    const long = 200_000
    const started = Date.now()
    for (const filler of [' ', 'a', 'a ', '<', '(', '"', '.', 'a.', '@', ', ']) {
      const value = filler.repeat(long / filler.length)
      expect(line(`From: ${value}!\nDate: ${value}!\n`)).toBe('From \n')
      expect(line(`From: ${value}\nDate: 5 Mar 2024 08:07${value}\n`)).toMatch(/^From /)
    }
    expect(Date.now() - started).toBeLessThan(10_000)
  })
})

describe('readSenderFields', () => {
  test('reads the envelope line and skips it as a field', () => {
    expect(readSenderFields(Buffer.from('From a@b Tue Mar  5 08:07:09 2024\r\nDate: x\r\n'))).toEqual({envelope: 'a@b Tue Mar  5 08:07:09 2024', date: ' x'})
  })

  test('continuation lines of other fields do not leak into wanted ones', () => {
    expect(readSenderFields(Buffer.from('Subject: a\n From: no@x\nFrom: yes@x\n'))).toEqual({from: ' yes@x'})
  })

  test('a line that is not a field ends the current field', () => {
    expect(readSenderFields(Buffer.from('From: a@x\ngarbage line\n more@x\n'))).toEqual({from: ' a@x'})
  })
})

describe('firstAddrSpec', () => {
  test.each([
    ['a@b.example', 'a@b.example'],
    ['  a@b.example  ', 'a@b.example'],
    ['Name <a@b.example>', 'a@b.example'],
    ['"Doe, John <x@y>" <john@b.example>', 'john@b.example'],
    ['a@b.example (Comment, with <stuff>)', 'a@b.example'],
    ['(nested (comment) here) a@b.example', 'a@b.example'],
    ['a @ b . example', 'a@b.example'],
    ['first.last@b.example, second@b.example', 'first.last@b.example'],
    ['Doe, John <john@b.example>', 'john@b.example'],
    ['undisclosed-recipients:;, real@b.example', 'real@b.example'],
    ['Team: one@b.example, two@b.example;', 'one@b.example'],
    ['"quoted local"@b.example', '"quoted local"@b.example'],
    ['"a\\"b"@b.example', '"a\\"b"@b.example'],
    ['user@[192.0.2.1]', 'user@[192.0.2.1]'],
    ['<@relay.example,@r2.example:a@b.example>', 'a@b.example'],
    ['John Q. Public <jqp@b.example>', 'jqp@b.example'],
    ['=?utf-8?q?J=C3=B6rg?= <j@b.example>', 'j@b.example'],
    ['bad <www.example.com>, good@b.example', 'good@b.example'],
    ['user@localhost', 'user@localhost'],
  ])('%s → %s', (value, expected) => {
    expect(firstAddrSpec(value)).toBe(expected)
  })

  test.each([
    'example <www.example.com>',
    'no-at-sign',
    '<>',
    '',
    'a@',
    '@b.example',
    'a..b@c.example',
    '.a@c.example',
    'a@b..example',
    'a@b.example.',
    '"unterminated@b.example',
    'a@[unterminated',
    'a b@c.example',
    'x@y <a@b.example>',
    'Name <a@b.example> trailing',
    'Name <a@b.example',
    'undisclosed-recipients:;',
    'a\x01b@c.example',
  ])('%j has no well-formed address', (value) => {
    expect(firstAddrSpec(value)).toBeUndefined()
  })
})
