/**
 * Where the codec's transforms put their output: ranges of the chunk being read and small
 * constant buffers. `length`, `last` and `beforeLast` let the encoder decide its padding.
 */
export interface ByteOutput {
  /** Appends `buffer[start, end)`; `buffer` does not change afterwards. */
  range(buffer: Buffer, start: number, end: number): void
  /** Appends a whole buffer (which must not change afterwards). */
  bytes(buffer: Buffer): void
  /** Total bytes ever written. */
  readonly length: number
  /** The last byte written, or -1. */
  readonly last: number
  /** The byte before the last one written, or -1. */
  readonly beforeLast: number
}

/**
 * Collects output as views into the input chunks plus a few small literal buffers, merging
 * adjacent views of the same chunk, so the transforms copy nothing until the caller joins the
 * pieces once (Buffer.concat) or hands them to a writer.
 */
export class ByteSink implements ByteOutput {
  private pieces: Buffer[] = []
  private source: Buffer | undefined
  private start = 0
  private end = 0
  /** Total bytes ever written (including pieces already taken). */
  length = 0
  private flushedLast = -1
  private flushedBeforeLast = -1

  /** Appends `buffer[start, end)` without copying it. */
  range(buffer: Buffer, start: number, end: number): void {
    if (end <= start) return
    this.length += end - start
    if (buffer === this.source && start === this.end) {
      this.end = end
      return
    }
    this.flushRange()
    this.source = buffer
    this.start = start
    this.end = end
  }

  /** Appends a whole buffer (which must not change afterwards). */
  bytes(buffer: Buffer): void {
    if (buffer.length === 0) return
    this.flushRange()
    this.length += buffer.length
    this.push(buffer)
  }

  /** Removes and returns the pieces written since the last call. */
  take(): Buffer[] {
    this.flushRange()
    const pieces = this.pieces
    this.pieces = []
    return pieces
  }

  /** The last byte written, or -1. */
  get last(): number {
    if (this.source === undefined) return this.flushedLast
    return this.source[this.end - 1] as number
  }

  /** The byte before the last one written, or -1. */
  get beforeLast(): number {
    if (this.source === undefined) return this.flushedBeforeLast
    return this.end - this.start >= 2 ? (this.source[this.end - 2] as number) : this.flushedLast
  }

  private flushRange(): void {
    if (this.source === undefined) return
    this.push(this.source.subarray(this.start, this.end))
    this.source = undefined
  }

  private push(piece: Buffer): void {
    this.pieces.push(piece)
    const n = piece.length
    this.flushedBeforeLast = n >= 2 ? (piece[n - 2] as number) : this.flushedLast
    this.flushedLast = piece[n - 1] as number
  }
}

/**
 * Joins pieces into one Buffer. A lone piece is returned as it is (a view, no copy) unless it is
 * short enough to be one of the shared constants (CR, `>`, padding), which callers must never
 * receive: they could write into it.
 */
export function joinPieces(pieces: Buffer[], length?: number): Buffer {
  const only = pieces.length === 1 ? pieces[0] : undefined
  if (only !== undefined && only.length > 2) return only
  return Buffer.concat(pieces, length)
}
