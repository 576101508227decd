/**
 * The mbox bytes a transaction has encoded and not yet written (docs/performance.md, "From the
 * connection to the mbox"): the encoder's output copied into slabs of a fixed size, which are
 * written to the file and then reused. A message's bytes travel from the connection's buffer to
 * the file with one copy by us, and no object is made per line.
 *
 * Most of the encoder's output is ranges of the chunk it is reading: every line without its CR
 * (CRLF becomes LF). Copying each range on its own costs a call and a view per line, which for
 * base64 attachments is a line every 78 bytes, 2.5 million lines for 200 MB. So the unread rest of
 * the chunk is copied into the slab in one piece (it is *mirrored*), and each range is then moved
 * into place with copyWithin, which only ever moves bytes towards the start: the output is never
 * ahead of the input, except by the bytes the encoder inserts (a quoting `>`, a held CR, the
 * separator line). Those are written where the output is; if that would overwrite mirrored bytes
 * not yet read, the unread rest is first moved further back (by at least SHIFT bytes, so that
 * many insertions cost one move), or, when the slab has no room for that, the mirror is given up
 * and the chunk's ranges are copied from the chunk itself. Either way the bytes are the same.
 */
import type {ByteOutput} from './mboxrd/index.js'

/** Chunks shorter than this are copied range by range: mirroring them would save nothing. */
const MIN_MIRROR = 512
/** How far the unread rest of a mirror moves back to make room for inserted bytes. */
const SHIFT = 256
/** Free slabs kept for reuse. */
const SPARE_SLABS = 4

export class MboxBuffer implements ByteOutput {
  /** Total bytes ever written (ByteOutput), less what truncate() removed. */
  length = 0
  last = -1
  beforeLast = -1
  private slab: Buffer
  private pos = 0
  /** Filled parts of earlier slabs, not yet taken. */
  private readonly filled: Buffer[] = []
  private filledBytes = 0
  private readonly spare: Buffer[] = []
  /** The chunk whose unread part `[readFrom, length)` lies in the slab at `mirrorAt + index`. */
  private mirror: Buffer | undefined
  private mirrorAt = 0
  private readFrom = 0

  constructor(private readonly slabBytes: number) {
    this.slab = Buffer.allocUnsafe(slabBytes)
  }

  /** Bytes held, not yet taken. */
  get held(): number {
    return this.filledBytes + this.pos
  }

  range(buffer: Buffer, start: number, end: number): void {
    const n = end - start
    if (n <= 0) return
    if ((buffer !== this.mirror || start < this.readFrom) && !this.mirrorRest(buffer, start)) {
      this.copy(buffer, start, end)
      return
    }
    const from = this.mirrorAt + start
    if (from !== this.pos) this.slab.copyWithin(this.pos, from, from + n)
    this.pos += n
    this.readFrom = end
    this.length += n
    this.noteLast(buffer, start, end)
  }

  bytes(buffer: Buffer): void {
    if (buffer.length > 0) this.copy(buffer, 0, buffer.length)
  }

  /**
   * Removes and returns the bytes held, as views of slabs that must not be written to again:
   * give them back with recycle() once they are written.
   */
  take(): Buffer[] {
    this.closeSlab()
    const out = this.filled.splice(0)
    this.filledBytes = 0
    return out
  }

  /** Slabs returned by take() that are written out and may be reused. */
  recycle(buffers: readonly Buffer[]): void {
    for (const b of buffers) {
      if (this.spare.length >= SPARE_SLABS) return
      if (b.byteOffset === 0 && b.buffer.byteLength === this.slabBytes) this.spare.push(Buffer.from(b.buffer, 0, this.slabBytes))
    }
  }

  /** Drops the newest bytes so that `held` bytes remain (a message cut off). */
  truncate(held: number): void {
    let excess = this.held - held
    if (excess <= 0) return
    this.length -= excess
    this.mirror = undefined
    this.last = -1
    this.beforeLast = -1
    while (excess > this.pos) {
      excess -= this.pos
      const previous = this.filled.pop() as Buffer
      this.filledBytes -= previous.length
      this.spare.push(this.slab)
      this.slab = Buffer.from(previous.buffer, previous.byteOffset, this.slabBytes)
      this.pos = previous.length
    }
    this.pos -= excess
  }

  /** Copies the rest of `buffer` from `start` into the slab, if it is worth it and fits. */
  private mirrorRest(buffer: Buffer, start: number): boolean {
    this.mirror = undefined
    const rest = buffer.length - start
    if (rest < MIN_MIRROR || rest > this.slabBytes) return false
    if (this.slab.length - this.pos < rest) this.closeSlab()
    buffer.copy(this.slab, this.pos, start)
    this.mirror = buffer
    this.mirrorAt = this.pos - start
    this.readFrom = start
    return true
  }

  /** Copies `buffer[start, end)` to where the output is. */
  private copy(buffer: Buffer, start: number, end: number): void {
    let s = start
    while (s < end) {
      if (this.pos === this.slab.length) this.closeSlab()
      const k = Math.min(end - s, this.slab.length - this.pos)
      this.makeRoom(k)
      if (k === 1) this.slab[this.pos] = buffer[s] as number
      else buffer.copy(this.slab, this.pos, s, s + k)
      this.pos += k
      s += k
    }
    this.length += end - start
    this.noteLast(buffer, start, end)
  }

  /** Keeps the unread part of the mirror out of the way of `k` bytes written at `pos`. */
  private makeRoom(k: number): void {
    const mirror = this.mirror
    if (mirror === undefined) return
    const unread = this.mirrorAt + this.readFrom
    if (this.pos + k <= unread) return
    const shift = Math.max(this.pos + k - unread, SHIFT)
    const unreadEnd = this.mirrorAt + mirror.length
    if (unreadEnd + shift > this.slab.length) {
      this.mirror = undefined
      return
    }
    this.slab.copyWithin(unread + shift, unread, unreadEnd)
    this.mirrorAt += shift
  }

  /** Moves the filled part of the slab to `filled` and continues in a fresh one. */
  private closeSlab(): void {
    this.mirror = undefined
    if (this.pos === 0) return
    this.filled.push(this.slab.subarray(0, this.pos))
    this.filledBytes += this.pos
    this.slab = this.spare.pop() ?? Buffer.allocUnsafe(this.slabBytes)
    this.pos = 0
  }

  private noteLast(buffer: Buffer, start: number, end: number): void {
    if (end - start >= 2) this.beforeLast = buffer[end - 2] as number
    else this.beforeLast = this.last
    this.last = buffer[end - 1] as number
  }
}
