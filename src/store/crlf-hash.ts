/**
 * A message's identity across servers that store CRLF for a bare LF (Dovecot does,
 * docs/testing.md): its SHA-256 with every bare LF made CRLF, and its size as such a server
 * reports it (RFC822.SIZE). Used to prove that a destination message is a copy of a backed-up
 * one (uploads) and that a downloaded message is a restored copy (backups).
 */
import {createHash} from 'node:crypto'

/** LFs not preceded by CR: each becomes two bytes on a CRLF server. */
export function bareLineFeeds(bytes: Buffer): number {
  let n = 0
  for (let i = bytes.indexOf(0x0a); i >= 0; i = bytes.indexOf(0x0a, i + 1)) if (i === 0 || bytes[i - 1] !== 0x0d) n++
  return n
}

/**
 * SHA-256 of a message with every bare LF made CRLF, fed in chunks: the identity used to prove
 * that a destination message is a copy of a source message (servers may store CRLF for LF).
 */
export class CrlfHash {
  private readonly hash = createHash('sha256')
  private lastWasCr = false

  update(chunk: Buffer): this {
    let from = 0
    for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) {
      const cr = i === 0 ? this.lastWasCr : chunk[i - 1] === 0x0d
      if (cr) continue
      this.hash.update(chunk.subarray(from, i))
      this.hash.update(CR)
      from = i
    }
    this.hash.update(chunk.subarray(from))
    if (chunk.length > 0) this.lastWasCr = chunk[chunk.length - 1] === 0x0d
    return this
  }

  digest(): string {
    return this.hash.digest('hex')
  }
}

const CR = Buffer.from('\r')

export function crlfHash(bytes: Buffer): string {
  return new CrlfHash().update(bytes).digest()
}
