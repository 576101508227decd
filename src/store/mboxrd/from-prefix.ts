/**
 * Matching `>*From ` at the start of a line, one chunk at a time.
 *
 * RFC 4155 §2 describes quoting body lines that start with "From " as ">From ". The "mboxrd"
 * variant makes it reversible: it quotes every line matching `^>*From ` by adding one `>`, and
 * unquotes every line matching `^>+From ` by removing one. Whether a line matches is
 * known only after its first bytes have been seen, and in a stream those bytes may arrive in
 * several chunks (`>>>Fro` | `m `). This matcher keeps what it has seen as two counts, so a line
 * of a million `>` costs no memory until it is resolved.
 */
import {FROM_SPACE_BYTES, GT} from './bytes.js'

export const PrefixState = {
  /** The chunk ended before the line could be classified. */
  Pending: 0,
  /** The line starts with `>*From `. */
  Match: 1,
  /** The line does not start with `>*From `. */
  Mismatch: 2,
} as const
export type PrefixState = (typeof PrefixState)[keyof typeof PrefixState]

export class FromPrefix {
  /** `>` bytes seen at the start of the current line. */
  quotes = 0
  /** Bytes of "From " matched after them (0 to 5). */
  matched = 0

  /** True if bytes of the current line are held from earlier chunks. */
  get holding(): boolean {
    return this.quotes !== 0 || this.matched !== 0
  }

  /**
   * Continues matching with `chunk[position…]`. Stops at the first byte that decides (that byte
   * is not consumed: it belongs to the rest of the line) or at the end of the chunk.
   */
  scan(chunk: Uint8Array, position: number): PrefixState {
    const n = chunk.length
    let q = position
    if (this.matched === 0) {
      while (q < n && chunk[q] === GT) q++
      this.quotes += q - position
    }
    while (q < n) {
      if (chunk[q] !== FROM_SPACE_BYTES[this.matched]) return PrefixState.Mismatch
      q++
      if (++this.matched === 5) return PrefixState.Match
    }
    return PrefixState.Pending
  }

  reset(): void {
    this.quotes = 0
    this.matched = 0
  }
}

/** The bytes `>`×quotes followed by the first `matched` bytes of "From ". */
export function prefixBytes(quotes: number, matched: number): Buffer {
  const out = Buffer.alloc(quotes + matched, GT)
  for (let i = 0; i < matched; i++) out[quotes + i] = FROM_SPACE_BYTES[i] as number
  return out
}
