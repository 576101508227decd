/**
 * The body transform of the encoder, streaming: every CRLF becomes LF (a bare CR is kept), then
 * every line the writer's quoting rule picks (quoting.ts; the first line included) gets one more
 * `>`. The kind of every line break is recorded for the exactness record.
 *
 * State carried between chunks: a CR at the end of a chunk (is it half a CRLF?), and the
 * undecided start of a line (`>>Fro` | `m `), held as counts by FromLineStart.
 * Work per chunk is one indexOf per line; bytes are copied only by the caller's final join.
 */
import {type ByteOutput} from './byte-sink.js'
import {CR, CR_BUFFER, GT_BUFFER, LF} from './bytes.js'
import {EolBuilder} from './exactness.js'
import {FromLineStart, prefixBytes, writerQuotes, WRITER_QUOTING, type QuotingRule} from './quoting.js'

export class BodyQuoter {
  readonly eol = new EolBuilder()
  private lineStart = true
  private pendingCr = false
  private readonly prefix = new FromLineStart()

  constructor(private readonly rule: QuotingRule = WRITER_QUOTING) {}

  push(chunk: Buffer, out: ByteOutput): void {
    const n = chunk.length
    if (n === 0) return
    let segment = 0 // start of the bytes not yet written
    let q = 0 // scan position
    let crBeforeFirst = false
    if (this.pendingCr) {
      this.pendingCr = false
      if (chunk[0] === LF) crBeforeFirst = true
      else out.bytes(CR_BUFFER)
    }
    for (;;) {
      if (this.lineStart) {
        const heldQuotes = this.prefix.quotes
        const heldMatched = this.prefix.matched
        if (!this.prefix.scan(chunk, q)) {
          out.range(chunk, segment, q)
          return
        }
        out.range(chunk, segment, q)
        segment = q
        if (writerQuotes(this.rule, this.prefix.quotes, this.prefix.matched)) out.bytes(GT_BUFFER)
        if (heldQuotes !== 0 || heldMatched !== 0) out.bytes(prefixBytes(heldQuotes, heldMatched))
        this.prefix.reset()
        this.lineStart = false
      }
      const i = chunk.indexOf(LF, q)
      if (i < 0) {
        if (chunk[n - 1] === CR) {
          out.range(chunk, segment, n - 1)
          this.pendingCr = true
        } else {
          out.range(chunk, segment, n)
        }
        return
      }
      const crlf = i > 0 ? chunk[i - 1] === CR : crBeforeFirst
      if (crlf && i > 0) {
        out.range(chunk, segment, i - 1)
        segment = i
      }
      this.eol.add(crlf)
      q = i + 1
      this.lineStart = true
      if (q === n) {
        out.range(chunk, segment, n)
        return
      }
    }
  }

  /** Writes what is still held at the end of the message. */
  end(out: ByteOutput): void {
    if (this.pendingCr) out.bytes(CR_BUFFER)
    this.pendingCr = false
    // A line start still undecided at the end of the message is decided by what was seen: a last
    // line `>From` without a line break is quoted like any other.
    if (this.prefix.holding) {
      if (writerQuotes(this.rule, this.prefix.quotes, this.prefix.matched)) out.bytes(GT_BUFFER)
      out.bytes(prefixBytes(this.prefix.quotes, this.prefix.matched))
    }
    this.prefix.reset()
  }
}
