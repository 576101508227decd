/**
 * Finding the header block of a raw message, incrementally.
 *
 * The separator line is derived from header fields only (RFC 5322 §2.1: the header section ends
 * at the first empty line), so the encoder buffers the header block and nothing more. The block
 * is bounded by HEADER_CAP so that a message without an empty line (or with absurdly long
 * headers) never makes the encoder hold the whole message.
 *
 * The result depends only on the message bytes, never on how they were chunked:
 * - if the LF that ends the first empty line (a line with no bytes, or only a CR) lies within the
 *   first HEADER_CAP bytes, the block is everything before that empty line;
 * - otherwise, if the message is longer than HEADER_CAP, the block is the first HEADER_CAP bytes
 *   cut back to their last LF (a field cut in the middle could give a wrong address or date);
 * - otherwise (no empty line at all, message not longer than the cap) the block is the whole
 *   message.
 */
import {CR, LF} from './bytes.js'

/** 256 KiB: far above real header blocks (Received chains of large lists stay under 64 KiB). */
export const HEADER_CAP = 256 * 1024

export class HeaderBoundary {
  /** The header block's length once decided. */
  headerLength: number | undefined
  private seen = 0
  private lineLength = 0
  private lineFirst = -1
  private lastLf = -1

  constructor(private readonly cap: number = HEADER_CAP) {}

  /** Feeds the next chunk; returns true once the header length is decided. */
  push(chunk: Uint8Array): boolean {
    if (this.headerLength !== undefined) return true
    const base = this.seen
    this.seen += chunk.length
    const limit = Math.min(chunk.length, this.cap - base)
    let p = 0
    while (p < limit) {
      const i = chunk.indexOf(LF, p)
      if (i < 0 || i >= limit) {
        if (this.lineLength === 0) this.lineFirst = chunk[p] as number
        this.lineLength += limit - p
        break
      }
      const length = this.lineLength + (i - p)
      const first = this.lineLength === 0 ? (chunk[p] as number) : this.lineFirst
      if (length === 0 || (length === 1 && first === CR)) {
        this.headerLength = base + i - length
        return true
      }
      this.lastLf = base + i
      this.lineLength = 0
      p = i + 1
    }
    if (this.seen > this.cap) {
      this.headerLength = this.lastLf + 1
      return true
    }
    return false
  }

  /** At the end of the message: decides the header length if it was not yet. */
  finish(): number {
    if (this.headerLength === undefined) this.headerLength = this.seen
    return this.headerLength
  }
}
