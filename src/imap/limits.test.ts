import {describe, expect, it} from 'vitest'
import {literalLimit, responseLimit} from './limits.js'

const MiB = 1024 * 1024

describe('literalLimit', () => {
  it('is 64 MiB for the default large_message_bytes (8 MiB) and 1 MiB chunks, far below imapflow\'s 1 GiB', () => {
    expect(literalLimit(8 * MiB, MiB)).toBe(64 * MiB)
    expect(literalLimit(0, MiB)).toBe(64 * MiB)
  })

  it('grows with what is fetched whole, and with the chunk size', () => {
    expect(literalLimit(100 * MiB, MiB)).toBe(400 * MiB)
    expect(literalLimit(MiB, 32 * MiB)).toBe(128 * MiB)
  })

  it('leaves room in a response for the literal and its FETCH line (imapflow needs the response limit above it)', () => {
    expect(responseLimit(64 * MiB)).toBeGreaterThan(64 * MiB)
    expect(responseLimit(64 * MiB)).toBeLessThanOrEqual(65 * MiB)
  })
})
