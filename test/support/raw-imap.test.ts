// Unit tests of the raw client's framing and parsing helpers (no server needed).
import {describe, expect, it} from 'vitest'
import {
  ImapFrameScanner,
  astring,
  decodeMailboxName,
  encodeMailboxName,
  expandSequenceSet,
  fetchItems,
  formatInternalDate,
  parseInternalDate,
  parseResponse,
  sequenceSet,
} from './raw-imap.js'

describe('raw IMAP helpers', () => {
  it('encodes mailbox names in modified UTF-7 (RFC 3501 §5.1.3) and back', () => {
    const cases: Array<[string, string]> = [
      ['INBOX', 'INBOX'],
      ['Entwürfe', 'Entw&APw-rfe'],
      ['A & B', 'A &- B'],
      ['日本語', '&ZeVnLIqe-'],
      ['~peter/mail/台北/日本語', '~peter/mail/&U,BTFw-/&ZeVnLIqe-'],
      ['🎉', '&2DzfiQ-'],
    ]
    for (const [utf8, wire] of cases) {
      expect(encodeMailboxName(utf8)).toBe(wire)
      expect(decodeMailboxName(wire)).toBe(utf8)
    }
  })

  it('quotes astrings, or makes them literals', () => {
    expect(astring('alice@example.test')).toBe('"alice@example.test"')
    expect(astring('dave pw "q" \\ 9e1')).toBe('"dave pw \\"q\\" \\\\ 9e1"')
    expect(astring('pässword')).toEqual(Buffer.from('pässword'))
  })

  it('writes and reads sequence sets', () => {
    expect(sequenceSet([5, 1, 2, 3, 9, 10, 12, 3])).toBe('1:3,5,9:10,12')
    expect(expandSequenceSet('1:3,5,9:10')).toEqual([1, 2, 3, 5, 9, 10])
    expect(expandSequenceSet('7:5')).toEqual([7, 6, 5])
  })

  it('formats and parses INTERNALDATE', () => {
    const date = new Date('2021-03-04T05:06:07Z')
    expect(formatInternalDate(date)).toBe('"04-Mar-2021 05:06:07 +0000"')
    expect(parseInternalDate(' 4-Mar-2021 07:06:07 +0200')).toEqual(date)
    expect(parseInternalDate('04-Mar-2021 00:36:07 -0430')).toEqual(date)
    expect(() => parseInternalDate('yesterday')).toThrow()
  })

  it('parses FETCH responses with literals, and status responses with codes', () => {
    const body = Buffer.from('Subject: x\r\n\r\n) NIL {3}\r\n')
    const raw = Buffer.concat([Buffer.from(`* 3 FETCH (UID 17 FLAGS (\\Seen $Foo) INTERNALDATE "04-Mar-2021 05:06:07 +0000" BODY[] {${body.length}}\r\n`), body, Buffer.from(')\r\n')])
    const response = parseResponse(raw)
    expect(response).toMatchObject({tag: '*', number: 3, kind: 'FETCH'})
    const items = fetchItems(response)
    expect(items.get('UID')).toBe('17')
    expect(items.get('FLAGS')).toEqual(['\\Seen', '$Foo'])
    expect((items.get('BODY[]') as Buffer).equals(body)).toBe(true)
    expect(parseResponse(Buffer.from('T1 OK [APPENDUID 38505 3955:3957] APPEND completed\r\n'))).toMatchObject({
      tag: 'T1',
      kind: 'OK',
      code: 'APPENDUID 38505 3955:3957',
      text: 'APPEND completed',
    })
    expect(parseResponse(Buffer.from('* LIST (\\HasNoChildren) "." NIL\r\n')).values).toEqual([['\\HasNoChildren'], '.', null])
    expect(parseResponse(Buffer.from('* LIST () "/" "a \\"b\\""\r\n')).values).toEqual([[], '/', 'a "b"'])
  })

  it('frames lines and literals across arbitrary chunk boundaries', () => {
    const stream = Buffer.from('* OK hi\r\nA1 APPEND x {5+}\r\nab\r\nc MORE\r\n* 1 FETCH (BODY[] {0}\r\n)\r\n')
    for (const step of [1, 2, 3, 7, stream.length]) {
      const lines: string[] = []
      const literals: string[] = []
      let current = ''
      const scanner = new ImapFrameScanner({
        line: (text, continues) => lines.push(`${text.toString()}${continues ? ' …' : ''}`),
        literalData: (data) => (current += data.toString()),
        literalEnd: () => {
          literals.push(current)
          current = ''
        },
      })
      for (let i = 0; i < stream.length; i += step) scanner.push(stream.subarray(i, i + step))
      expect(lines).toEqual(['* OK hi', 'A1 APPEND x {5+} …', ' MORE', '* 1 FETCH (BODY[] {0} …', ')'])
      expect(literals).toEqual(['ab\r\nc', ''])
      expect(scanner.inLiteral).toBe(false)
    }
  })
})
