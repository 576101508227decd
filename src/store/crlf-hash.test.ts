import {createHash} from 'node:crypto'
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {legacyToUpload} from './mboxrd/index.js'
import {bareLineFeeds, CrlfHash, crlfHash} from './crlf-hash.js'

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

describe('CrlfHash', () => {
  it('hashes the message with every bare LF made CRLF', () => {
    expect(crlfHash(Buffer.from('a\nb\r\nc\n'))).toBe(sha(Buffer.from('a\r\nb\r\nc\r\n')))
    expect(crlfHash(Buffer.from('\n'))).toBe(sha(Buffer.from('\r\n')))
  })

  it('gives the same digest however the bytes are split into chunks', () => {
    fc.assert(
      fc.property(fc.uint8Array({maxLength: 200}).map((a) => Buffer.from(a.map((x) => [10, 13, 65][x % 3]!))), fc.array(fc.nat(200), {maxLength: 6}), (bytes, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
        const hash = new CrlfHash()
        let from = 0
        for (const p of [...points, bytes.length]) {
          hash.update(bytes.subarray(from, p))
          from = p
        }
        expect(hash.digest()).toBe(sha(legacyToUpload(bytes)))
      }),
    )
  })

  it('bareLineFeeds counts LFs without a CR before them', () => {
    expect(bareLineFeeds(Buffer.from('\na\r\nb\n\r\n'))).toBe(2)
  })
})
