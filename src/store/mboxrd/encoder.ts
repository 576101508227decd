/**
 * Encoding a message (the bytes of RFC 3501 `BODY[]`) as one MBOXRD entry plus its exactness
 * record (docs/mbox-format.md):
 *
 *   separator line  `From <sender>[ <asctime>]\n`          (from-line.ts)
 *   body            CRLF → LF, `From` lines quoted       (body-quoter.ts, quoting.ts)
 *   padding         LFs so the entry ends with a blank line (RFC 4155 §2: a blank line
 *                   precedes each separator), recorded as `appended`
 *
 * MboxrdEncoder streams: it holds only the header block (at most HEADER_CAP bytes) until it can
 * write the separator line, then passes each chunk through. Memory is O(chunk + header cap +
 * line-break record), so a 50 MB message is never held whole. encodeMessage() is the same code
 * for a message already in memory.
 *
 * Where the output goes is the caller's choice: by default it is collected as views of the input
 * (push()/end() return them); the store gives its own ByteOutput instead (src/store/mbox-buffer.ts),
 * which copies the entry straight into the buffer it writes to the mbox, and then calls write()
 * and close().
 */
import {BodyQuoter} from './body-quoter.js'
import {ByteSink, joinPieces, type ByteOutput} from './byte-sink.js'
import {LF} from './bytes.js'
import {type AppendedCount, type ExactnessRecord} from './exactness.js'
import {separatorLine} from './from-line.js'
import {HEADER_CAP, HeaderBoundary} from './header-block.js'
import {WRITER_QUOTING, type QuotingRule} from './quoting.js'

export interface EncoderOptions {
  /** Most bytes held to find the header block (default HEADER_CAP, 256 KiB). */
  headerCap?: number
  /**
   * The quoting rule (default WRITER_QUOTING, what mailkeep writes). `strict` reproduces what
   * mailkeep 0.1.0 wrote, which `local repair` needs to recognise such entries.
   */
  quoting?: QuotingRule
}

export interface EncoderClose {
  /** Byte length of the whole entry: separator line, body and appended LFs. */
  length: number
  record: ExactnessRecord
}

export interface EncoderEnd {
  /** The last bytes of the entry (possibly none). */
  chunks: Buffer[]
  /** Byte length of the whole entry: separator line, body and appended LFs. */
  length: number
  record: ExactnessRecord
}

export interface EncodedMessage {
  entry: Buffer
  record: ExactnessRecord
}

const PADDING = [Buffer.alloc(0), Buffer.from('\n'), Buffer.from('\n\n')] as const

export class MboxrdEncoder {
  private readonly boundary: HeaderBoundary
  private readonly body: BodyQuoter
  private readonly out: ByteOutput
  /** The default output, when the caller gives none: views collected for push()/end(). */
  private readonly views: ByteSink | undefined
  /** `out.length` when this entry began (an output may be shared by many entries). */
  private readonly base: number
  /** Chunks held while the header block is incomplete. */
  private held: Buffer[] | undefined = []
  private size = 0
  private separatorLength = 0
  private ended = false

  constructor(options: EncoderOptions = {}, out?: ByteOutput) {
    this.boundary = new HeaderBoundary(options.headerCap ?? HEADER_CAP)
    this.body = new BodyQuoter(options.quoting ?? WRITER_QUOTING)
    this.views = out === undefined ? new ByteSink() : undefined
    this.out = out ?? (this.views as ByteSink)
    this.base = this.out.length
  }

  /**
   * Feeds the next bytes of the message; returns the entry bytes that are ready (often none
   * while the header block is incomplete). A returned Buffer may share memory with `chunk`, and
   * `chunk` may be held until the header block is complete: do not reuse it.
   */
  push(chunk: Buffer): Buffer[] {
    this.write(chunk)
    return this.drain()
  }

  /** Ends the message: returns the remaining bytes, the entry length and the exactness record. */
  end(): EncoderEnd {
    const {length, record} = this.close()
    return {chunks: this.drain(), length, record}
  }

  /** encodeMessage(): the same steps without the per-push joins. @internal */
  static encodeWhole(raw: Buffer, options: EncoderOptions): EncodedMessage {
    const encoder = new MboxrdEncoder(options)
    encoder.write(raw)
    const {length, record} = encoder.close()
    return {entry: joinPieces((encoder.views as ByteSink).take(), length), record}
  }

  /**
   * Feeds the next bytes of the message to the output. `chunk` may be held until the header
   * block is complete: do not reuse it.
   */
  write(chunk: Buffer): void {
    if (this.ended) throw new Error('MboxrdEncoder: push() after end()')
    this.size += chunk.length
    if (this.held === undefined) {
      this.body.push(chunk, this.out)
      return
    }
    this.held.push(chunk)
    if (this.boundary.push(chunk)) this.startBody(this.boundary.headerLength as number)
  }

  private startBody(headerLength: number): void {
    const held = this.held as Buffer[]
    this.held = undefined
    const first = held[0]
    const header =
      first !== undefined && first.length >= headerLength
        ? first.subarray(0, headerLength)
        : Buffer.concat(held, headerLength)
    const separator = separatorLine(header)
    this.separatorLength = separator.length
    this.out.bytes(separator)
    for (const chunk of held) this.body.push(chunk, this.out)
  }

  /** Ends the message: the rest of the entry goes to the output; its length and exactness record. */
  close(): EncoderClose {
    if (this.ended) throw new Error('MboxrdEncoder: end() called twice')
    if (this.held !== undefined) this.startBody(this.boundary.finish())
    this.ended = true
    this.body.end(this.out)
    const appended = this.padding()
    this.out.bytes(PADDING[appended])
    return {length: this.out.length - this.base, record: {size: this.size, appended, eol: this.body.eol.build()}}
  }

  /** RFC 4155: the entry must end with an empty line, so the body must end with LF LF. */
  private padding(): AppendedCount {
    const bodyLength = this.out.length - this.base - this.separatorLength
    const last = bodyLength >= 1 ? this.out.last : -1
    const beforeLast = bodyLength >= 2 ? this.out.beforeLast : -1
    if (last !== LF) return 2
    return beforeLast === LF ? 0 : 1
  }

  private drain(): Buffer[] {
    if (this.views === undefined) throw new Error('MboxrdEncoder: push()/end() need the default output')
    const pieces = this.views.take()
    return pieces.length === 0 ? pieces : [joinPieces(pieces)]
  }
}

/** Encodes a message held in memory: the whole entry as one Buffer, and its exactness record. */
export function encodeMessage(raw: Buffer, options: EncoderOptions = {}): EncodedMessage {
  return MboxrdEncoder.encodeWhole(raw, options)
}
