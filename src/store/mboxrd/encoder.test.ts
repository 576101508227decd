import {describe, expect, test} from 'vitest'
import {decodeEntry} from './decoder.js'
import {MboxrdEncoder, encodeMessage, type EncoderOptions} from './encoder.js'

const b = (s: string): Buffer => Buffer.from(s, 'latin1')
const s = (buf: Buffer): string => buf.toString('latin1')

function encode(text: string, options?: EncoderOptions): {entry: string; record: unknown} {
  const {entry, record} = encodeMessage(b(text), options)
  return {entry: s(entry), record}
}

/** Streams `raw` in pieces of the given sizes (cycled), returning the joined entry. */
function streamed(raw: Buffer, sizes: number[], options?: EncoderOptions): {entry: Buffer; record: unknown; length: number} {
  const encoder = new MboxrdEncoder(options)
  const out: Buffer[] = []
  let at = 0
  let k = 0
  while (at < raw.length) {
    const size = Math.max(1, sizes[k++ % sizes.length] as number)
    out.push(...encoder.push(raw.subarray(at, at + size)))
    at += size
  }
  const end = encoder.end()
  out.push(...end.chunks)
  const entry = Buffer.concat(out)
  expect(entry.length).toBe(end.length)
  return {entry, record: end.record, length: end.length}
}

describe('encodeMessage: the compat §4.2 example', () => {
  test('gives the documented entry', () => {
    const message = 'From: address@example.org\nSubject: Test 1\n\nbody 1\nHi\n'
    expect(encode(message)).toEqual({
      entry: 'From address@example.org\nFrom: address@example.org\nSubject: Test 1\n\nbody 1\nHi\n\n',
      record: {size: message.length, appended: 1, eol: 1},
    })
  })
})

describe('encodeMessage: quoting (the compat rule)', () => {
  test('From: header lines stay unquoted (imap-backup quoted them, its #224/#181)', () => {
    const {entry} = encode('Subject: x\r\nFrom: a@b.example\r\n\r\nFrom: not a header\r\nFromage\r\n')
    expect(entry).toBe('From a@b.example\nSubject: x\nFrom: a@b.example\n\nFrom: not a header\nFromage\n\n')
  })

  test('a first line "From " is quoted; so is each later one', () => {
    expect(encode('From someone\nFrom x\n\nFrom y\n').entry).toBe('From \n>From someone\n>From x\n\n>From y\n\n')
  })

  test('every >-quoted From line gains a >, space or not; > From (a space first) does not', () => {
    expect(encode('\n>From x\n>>From y\n>>From: z\n> From w\n>>Fromage\n>Fro\n').entry).toBe(
      'From \n\n>>From x\n>>>From y\n>>>From: z\n> From w\n>>>Fromage\n>Fro\n\n',
    )
  })

  test('the strict rule (mailkeep 0.1.0) quotes only lines with the space', () => {
    expect(encode('\n>From x\n>>From: z\nFrom y\n>>From', {quoting: 'strict'}).entry).toBe('From \n\n>>From x\n>>From: z\n>From y\n>>From\n\n')
  })

  test('"From " only at a line start; a bare CR does not start a line', () => {
    expect(encode('\nx From y\n\rFrom z\nA\rFrom q\n').entry).toBe('From \n\nx From y\n\rFrom z\nA\rFrom q\n\n')
  })

  test('a last line without its line break is decided by what there is', () => {
    expect(encode('\n>>From').entry).toBe('From \n\n>>>From\n\n')
    expect(encode('\nFrom').entry).toBe('From \n\nFrom\n\n')
    expect(encode('\n>>Fro').entry).toBe('From \n\n>>Fro\n\n')
  })
})

describe('encodeMessage: line ends and padding', () => {
  test('CRLF becomes LF, a bare CR is kept, CR CR LF keeps one CR', () => {
    const {entry, record} = encode('\r\na\rb\r\r\nc\r')
    expect(entry).toBe('From \n\na\rb\r\nc\r\n\n')
    expect(record).toEqual({size: 10, appended: 2, eol: 0})
  })

  test('appended counts: 0, 1, 2', () => {
    expect(encode('x\n\n').record).toMatchObject({appended: 0})
    expect(encode('x\r\n\r\n').record).toMatchObject({appended: 0})
    expect(encode('x\n').record).toMatchObject({appended: 1})
    expect(encode('x').record).toMatchObject({appended: 2})
    expect(encode('\n').record).toMatchObject({appended: 1})
  })

  test('mixed line ends give the shorter list', () => {
    // LFs: #0 CRLF, #1 bare, #2 CRLF, #3 CRLF → bare listed: [0, 2]
    expect(encode('a\r\nb\nc\r\nd\r\n').record).toEqual({size: 11, appended: 1, eol: [0, 2]})
    // LFs: #0 bare, #1 CRLF, #2 bare → CRLF listed: [1, 2]
    expect(encode('a\nb\r\nc\n').record).toEqual({size: 7, appended: 1, eol: [1, 2]})
  })

  test('an empty message: separator plus two LFs, and back', () => {
    const {entry, record} = encodeMessage(Buffer.alloc(0))
    expect(s(entry)).toBe('From \n\n\n')
    expect(record).toEqual({size: 0, appended: 2, eol: 0})
    expect(decodeEntry(entry, record)).toEqual(Buffer.alloc(0))
  })

  test('8-bit and invalid UTF-8 bytes are kept', () => {
    const raw = Buffer.from([0x46, 0x72, 0x6f, 0x6d, 0x3a, 0x20, 0x61, 0x40, 0x62, 0x0a, 0x0a, 0xff, 0xfe, 0xc3, 0x28, 0x00, 0x0a])
    const {entry, record} = encodeMessage(raw)
    expect(entry.subarray(-7)).toEqual(Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x00, 0x0a, 0x0a]))
    expect(record).toEqual({size: raw.length, appended: 1, eol: 1})
    expect(decodeEntry(entry, record)).toEqual(raw)
  })
})

describe('encodeMessage: the header block', () => {
  test('only the header block is read: a From: in the body does not count', () => {
    expect(encode('Subject: x\n\nFrom: body@x.example\n').entry.split('\n')[0]).toBe('From ')
    expect(encode('Subject: x\r\n\r\nFrom: body@x.example\r\n').entry.split('\n')[0]).toBe('From ')
    expect(encode('\nFrom: body@x.example\n').entry.split('\n')[0]).toBe('From ')
    expect(encode('\r\nFrom: body@x.example\n').entry.split('\n')[0]).toBe('From ')
  })

  test('a message without an empty line is all header', () => {
    expect(encode('From: a@x.example').entry).toBe('From a@x.example\nFrom: a@x.example\n\n')
  })

  test('with no boundary before the cap, the separator comes from the complete lines under the cap', () => {
    const text = 'From: a@x.example\nX-Long: ' + 'y'.repeat(100) + '\nDate: Tue, 5 Mar 2024 08:07:09 +0100\n\nbody\n'
    // cap 40: only the From: line is complete under the cap; the Date line is not read
    expect(encode(text, {headerCap: 40}).entry.split('\n')[0]).toBe('From a@x.example')
    // the boundary's LF just inside the cap, then just past it (the Date line is complete either way)
    const boundaryLf = text.indexOf('\n\n') + 1
    expect(encode(text, {headerCap: boundaryLf + 1}).entry.split('\n')[0]).toBe('From a@x.example Tue Mar  5 08:07:09 2024')
    expect(encode(text, {headerCap: boundaryLf}).entry.split('\n')[0]).toBe('From a@x.example Tue Mar  5 08:07:09 2024')
    // a field cut by the cap is not used
    const cut = text.indexOf('Date') + 10
    expect(encode(text, {headerCap: cut}).entry.split('\n')[0]).toBe('From a@x.example')
  })
})

describe('MboxrdEncoder (streaming)', () => {
  const message = b(
    'From env@x.example Tue Mar  5 08:07:09 2024\r\nFrom: a@x.example\r\nDate: Tue, 5 Mar 2024 08:07:09 +0100\r\n\r\n' +
      'From here\r\n>From there\r\n>>>From: x\r\n>>>From y\r\nline\rwith CR\r\r\n\r\nend\r',
  )

  test('gives the same bytes and record for every chunk size', () => {
    const whole = encodeMessage(message)
    for (let size = 1; size <= message.length; size++) {
      const got = streamed(message, [size])
      expect(s(got.entry)).toBe(s(whole.entry))
      expect(got.record).toEqual(whole.record)
    }
  })

  test('CR | LF split across chunks; >>>Fro | m  split; From split', () => {
    const raw = b('\nab\r\n>>>From x\nFr\nFrom y\r\n')
    const whole = encodeMessage(raw)
    const cuts = [
      [4, 100],
      [11, 100],
      [6, 1, 100],
      [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 100],
    ]
    for (const sizes of cuts) {
      const got = streamed(raw, sizes)
      expect(s(got.entry)).toBe(s(whole.entry))
      expect(got.record).toEqual(whole.record)
    }
    expect(s(whole.entry)).toBe('From \n\nab\n>>>>From x\nFr\n>From y\n\n')
  })

  test('holds nothing but the header block: body bytes come out as they go in', () => {
    const encoder = new MboxrdEncoder()
    expect(encoder.push(b('From: a@x.example\r\n'))).toEqual([])
    const first = Buffer.concat(encoder.push(b('\r\nbody line 1\r\n')))
    expect(s(first)).toBe('From a@x.example\nFrom: a@x.example\n\nbody line 1\n')
    expect(s(Buffer.concat(encoder.push(b('line 2\r\n'))))).toBe('line 2\n')
    // a trailing CR waits for the next chunk
    expect(s(Buffer.concat(encoder.push(b('x\r'))))).toBe('x')
    expect(s(Buffer.concat(encoder.push(b('\ny'))))).toBe('\ny')
    const end = encoder.end()
    expect(s(Buffer.concat(end.chunks))).toBe('\n\n')
    expect(end.length).toBe(first.length + 'line 2\n'.length + 'x\ny\n\n'.length)
  })

  test('header cap: the encoder stops holding after the cap', () => {
    const encoder = new MboxrdEncoder({headerCap: 64})
    expect(encoder.push(b('From: a@x.example\n' + 'X: ' + 'y'.repeat(40) + '\n'))).toEqual([])
    const out = s(Buffer.concat(encoder.push(b('Z: '.repeat(10)))))
    expect(out.startsWith('From a@x.example\nFrom: a@x.example\nX: ')).toBe(true)
  })

  test('a long run of > split into one-byte chunks', () => {
    const raw = b('\n' + '>'.repeat(5000) + 'From x\n' + '>'.repeat(3000) + 'Frox\n')
    const whole = encodeMessage(raw)
    expect(s(whole.entry)).toBe('From \n\n>' + '>'.repeat(5000) + 'From x\n' + '>'.repeat(3000) + 'Frox\n\n')
    expect(s(streamed(raw, [1]).entry)).toBe(s(whole.entry))
    expect(s(streamed(raw, [7, 13, 1]).entry)).toBe(s(whole.entry))
  })

  test('push after end and double end are errors', () => {
    const encoder = new MboxrdEncoder()
    encoder.end()
    expect(() => encoder.push(b('x'))).toThrow(/after end/)
    expect(() => encoder.end()).toThrow(/twice/)
  })
})

describe('MboxrdEncoder memory', () => {
  test('a large message passes through: after the header block, each push returns all but a few held bytes', () => {
    const line = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ+/\r\n'
    const body = Buffer.from(('From x\r\n' + line.repeat(49)).repeat(1200), 'latin1') // about 4 MB
    const raw = Buffer.concat([b('From: a@x.example\r\nSubject: big\r\n\r\n'), body])
    const encoder = new MboxrdEncoder()
    const chunk = 65_536
    let input = 0
    let output = 0
    const out: Buffer[] = []
    for (let at = 0; at < raw.length; at += chunk) {
      const piece = raw.subarray(at, at + chunk)
      input += piece.length
      for (const o of encoder.push(piece)) {
        output += o.length
        out.push(o)
      }
      // Output drops one CR per line and adds a > per From line and the separator; what is
      // held back is at most a trailing CR or an undecided line start ("From" is 4 bytes).
      const lines = raw.subarray(0, input).toString('latin1').split('\n').length - 1
      const froms = (raw.subarray(0, input).toString('latin1').match(/\nFrom /g) ?? []).length
      expect(input - lines + froms + 'From a@x.example\n'.length - output).toBeLessThanOrEqual(5)
    }
    const end = encoder.end()
    out.push(...end.chunks)
    const whole = encodeMessage(raw)
    expect(Buffer.concat(out).equals(whole.entry)).toBe(true)
    expect(end.record).toEqual(whole.record)
    expect(decodeEntry(whole.entry, whole.record).equals(raw)).toBe(true)
  })
})
