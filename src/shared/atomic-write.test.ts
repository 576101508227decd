import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import fc from 'fast-check'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {makeTempDir, removeTempDir} from '../../test/support/temp-dir.js'
import {atomicWriteChunks} from './atomic-write.js'

let dir: string
beforeAll(async () => {
  dir = await makeTempDir('mailkeep-atomic-')
})
afterAll(async () => {
  await removeTempDir(dir)
})

describe('atomicWriteChunks', () => {
  it('writes text and byte pieces in their order, whatever their sizes around its buffer', async () => {
    const piece = fc.oneof(
      fc.string({maxLength: 40}),
      fc.string({unit: 'grapheme', maxLength: 20}),
      fc.integer({min: 0, max: 3 * 1024 * 1024}).map((n) => 'x'.repeat(n)),
      fc.uint8Array({maxLength: 100}).map((a) => Buffer.from(a)),
      fc.integer({min: 0, max: 2 * 1024 * 1024}).map((n) => Buffer.alloc(n, 0x62)),
    )
    let n = 0
    await fc.assert(
      fc.asyncProperty(fc.array(piece, {maxLength: 8}), async (pieces) => {
        const path = join(dir, `f${n++}.imap`)
        await atomicWriteChunks(path, pieces)
        const expected = Buffer.concat(pieces.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)))
        expect((await readFile(path)).equals(expected)).toBe(true)
      }),
      {numRuns: 60},
    )
  })
})
