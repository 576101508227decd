import {describe, expect, it} from 'vitest'
import {recordedSizeDeltas, rewrittenForms} from './server-rewrites.js'
import {crlfHash} from './crlf-hash.js'

const hashes = (raw: string | Buffer): string[] => rewrittenForms(Buffer.from(raw as string, 'latin1')).map((f) => f.hash())
const deltas = (raw: string): number[] => rewrittenForms(Buffer.from(raw, 'latin1')).map((f) => f.sizeDelta)

describe('rewrittenForms', () => {
  it('has none for a message with a 7-bit header that ends with a line end', () => {
    expect(rewrittenForms(Buffer.from('Subject: plain\r\n\r\nbody\r\n'))).toEqual([])
    expect(rewrittenForms(Buffer.from('Subject: lf\n\nbody\n'))).toEqual([])
  })

  it("Cyrus: every 8-bit byte of the header section becomes 'X'; the body keeps its own; same size", () => {
    const raw = Buffer.concat([Buffer.from('Subject: Caf'), Buffer.from([0xc3, 0xa9]), Buffer.from('\r\nTo: x\r\n\r\nCaf'), Buffer.from([0xc3, 0xa9]), Buffer.from('\r\n')])
    const munged = Buffer.concat([Buffer.from('Subject: CafXX\r\nTo: x\r\n\r\nCaf'), Buffer.from([0xc3, 0xa9]), Buffer.from('\r\n')])
    expect(hashes(raw)).toEqual([crlfHash(munged)])
    expect(rewrittenForms(raw).map((f) => f.sizeDelta)).toEqual([0])
  })

  it('the header section ends at the first empty line, LF or CRLF; a message without one is all header', () => {
    expect(hashes('Subject: \xe9\n\nbody \xe9\n')).toEqual([crlfHash(Buffer.from('Subject: X\n\nbody \xe9\n', 'latin1'))])
    expect(hashes('Subject: \xe9\r\nX-Other: \xe9\r\n')).toEqual([crlfHash(Buffer.from('Subject: X\r\nX-Other: X\r\n'))])
    // No header at all: the 8-bit byte is in the body.
    expect(hashes('\r\nbody \xe9\r\n')).toEqual([])
    // Only 8-bit bytes of the body: no form.
    expect(hashes('Subject: ok\r\n\r\n\xe9\r\n')).toEqual([])
  })

  it('Courier: a message that does not end with a line end gets CRLF; two bytes more', () => {
    expect(hashes('Subject: x\r\n\r\nno newline')).toEqual([crlfHash(Buffer.from('Subject: x\r\n\r\nno newline\r\n'))])
    expect(deltas('Subject: x\r\n\r\nno newline')).toEqual([2])
    expect(deltas('')).toEqual([2])
    // Both at once: one form each, never combined (no server is known to do both).
    expect(deltas('Subject: \xe9\r\n\r\nend')).toEqual([0, 2])
  })

  it('recordedSizeDeltas: two bytes more only for a message the record says does not end with a line end', () => {
    expect(recordedSizeDeltas(0)).toEqual([0])
    expect(recordedSizeDeltas(1)).toEqual([0])
    expect(recordedSizeDeltas(2)).toEqual([0, 2])
  })
})
