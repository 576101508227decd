import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {MboxBuffer} from './mbox-buffer.js'
import {encodeMessage, MboxrdEncoder} from './mboxrd/index.js'

/** Lines that exercise the encoder: CRLF and bare LF, quoting, lone CRs, long runs, 8-bit. */
const line = fc.oneof(
  fc.constantFrom('From me\r\n', '>From x\r\n', '>>From \n', 'From\r\n', 'Fro', 'm \r\n', '\r\n', '\n', '\r', 'From ', '>', 'x\r\r\n'),
  fc.string({maxLength: 120}).map((s) => `${s}\r\n`),
  fc.integer({min: 0, max: 3000}).map((n) => `${'b'.repeat(n)}\r\n`),
  fc.uint8Array({maxLength: 200}).map((a) => Buffer.from(a).toString('latin1')),
)
const message = fc.array(line, {maxLength: 120}).map((lines) => Buffer.from(`From: a@example.test\r\nSubject: x\r\n\r\n${lines.join('')}`, 'latin1'))

/** Splits `bytes` at the given cut points (each taken modulo the length). */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => (bytes.length === 0 ? 0 : c % bytes.length)))].sort((a, b) => a - b)
  const out: Buffer[] = []
  let at = 0
  for (const p of points) {
    if (p > at) out.push(bytes.subarray(at, p))
    at = Math.max(at, p)
  }
  out.push(bytes.subarray(at))
  return out
}

describe('MboxBuffer', () => {
  it('holds exactly what the encoder produces, whatever the chunks and the slab size', () => {
    fc.assert(
      fc.property(fc.array(message, {minLength: 1, maxLength: 6}), fc.array(fc.nat(), {maxLength: 30}), fc.integer({min: 1, max: 8000}), (messages, cuts, slab) => {
        const buffer = new MboxBuffer(slab)
        const expected: Buffer[] = []
        const written: Buffer[] = []
        for (const raw of messages) {
          const reference = encodeMessage(raw)
          expected.push(reference.entry)
          const encoder = new MboxrdEncoder({}, buffer)
          for (const chunk of split(raw, cuts)) encoder.write(chunk)
          const closed = encoder.close()
          expect(closed.length).toBe(reference.entry.length)
          expect(closed.record).toEqual(reference.record)
          // Take now and then, as the transaction does when the buffer is full.
          if (cuts.length % 2 === 0) {
            const held = buffer.held
            const slabs = buffer.take()
            expect(slabs.reduce((a, b) => a + b.length, 0)).toBe(held)
            written.push(Buffer.concat(slabs))
            buffer.recycle(slabs)
          }
        }
        written.push(Buffer.concat(buffer.take()))
        expect(Buffer.concat(written).equals(Buffer.concat(expected))).toBe(true)
      }),
      {numRuns: 300},
    )
  })

  it('cuts a message off again with truncate(), so that the next one follows the one before', () => {
    fc.assert(
      fc.property(message, message, message, fc.array(fc.nat(), {maxLength: 10}), fc.integer({min: 1, max: 4000}), (first, dropped, next, cuts, slab) => {
        const buffer = new MboxBuffer(slab)
        const encode = (raw: Buffer, upTo = raw.length): MboxrdEncoder => {
          const encoder = new MboxrdEncoder({}, buffer)
          for (const chunk of split(raw.subarray(0, upTo), cuts)) encoder.write(chunk)
          return encoder
        }
        encode(first).close()
        const keep = buffer.held
        encode(dropped, Math.floor(dropped.length / 2))
        buffer.truncate(keep)
        expect(buffer.held).toBe(keep)
        encode(next).close()
        expect(Buffer.concat(buffer.take()).equals(Buffer.concat([encodeMessage(first).entry, encodeMessage(next).entry]))).toBe(true)
      }),
      {numRuns: 200},
    )
  })

  it('moves each line into place without copying it on its own: a chunk of CRLF lines in one slab', () => {
    const raw = Buffer.from(`Subject: x\r\n\r\n${'QUJD'.repeat(19)}\r\n`.repeat(500))
    const buffer = new MboxBuffer(1 << 20)
    const encoder = new MboxrdEncoder({}, buffer)
    encoder.write(raw)
    encoder.close()
    const slabs = buffer.take()
    expect(slabs).toHaveLength(1)
    expect(slabs[0]!.equals(encodeMessage(raw).entry)).toBe(true)
  })
})
