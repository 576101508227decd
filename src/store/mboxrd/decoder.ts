/**
 * Reading an entry written by mailkeep back into the exact bytes the server sent (the exact rule
 * of docs/mbox-format.md), streaming:
 *
 * 1. drop the separator line, up to and including its LF (the entry must start with "From ");
 * 2. remove one `>` from every line the entry's reading rule unquotes (quoting.ts: `^>+From`
 *    for entries written now, `^>+From ` for those mailkeep 0.1.0 wrote);
 * 3. drop the `appended` trailing LFs (they must be LFs);
 * 4. put back the CR before each LF that the record says was CRLF;
 * 5. check that the result has exactly `size` bytes.
 *
 * Any mismatch means the entry and its record do not belong together (wrong offset, edited file,
 * damaged metadata) and throws DamagedError rather than returning bytes that are not the message.
 * MboxrdDecoder holds at most the 2 trailing bytes that might be padding and an undecided line
 * start (as counts), so a 50 MB message can be uploaded without being held twice.
 */
import {DamagedError} from '../../shared/errors.js'
import {ByteSink, joinPieces} from './byte-sink.js'
import {CR_BUFFER, FROM_SPACE_BYTES, LF} from './bytes.js'
import {EolCursor, type ExactnessRecord} from './exactness.js'
import {legacyDecode} from './legacy.js'
import {FromLineStart, prefixBytes, readerUnquotes, type QuotingRule} from './quoting.js'

export class MboxrdDecoder {
  private readonly out = new ByteSink()
  private readonly eol: EolCursor
  private readonly prefix = new FromLineStart()
  /** Bytes of the separator line seen so far, or -1 once it is complete. */
  private separatorSeen = 0
  /** The last bytes of the body, held because they may be the appended LFs. */
  private tail: Buffer = Buffer.alloc(0)
  private lineStart = true
  private ended = false

  constructor(
    private readonly record: ExactnessRecord,
    private readonly rule: QuotingRule,
  ) {
    this.eol = new EolCursor(record.eol)
  }

  /** Feeds the next bytes of the entry; returns message bytes that are ready (possibly views of `chunk`). */
  push(chunk: Buffer): Buffer[] {
    this.write(chunk)
    return this.drain()
  }

  /** Ends the entry: returns the last message bytes; throws DamagedError if they do not fit. */
  end(): Buffer[] {
    this.finish()
    return this.drain()
  }

  /** decodeEntry(): the same steps with one join at the end. @internal */
  static decodeWhole(entry: Buffer, record: ExactnessRecord, rule: QuotingRule): Buffer {
    const decoder = new MboxrdDecoder(record, rule)
    decoder.write(entry)
    decoder.finish()
    return joinPieces(decoder.out.take(), decoder.out.length)
  }

  private write(chunk: Buffer): void {
    if (this.ended) throw new Error('MboxrdDecoder: push() after end()')
    let body = chunk
    if (this.separatorSeen >= 0) {
      body = this.skipSeparator(chunk)
      if (body.length === 0) return
    }
    this.release(body)
    if (this.out.length > this.record.size) {
      throw new DamagedError(`entry is longer than the ${this.record.size} bytes its exactness record gives`)
    }
  }

  /** Checks and drops the separator line; returns the rest of the chunk. */
  private skipSeparator(chunk: Buffer): Buffer {
    const lf = chunk.indexOf(LF)
    const checkEnd = Math.min(lf < 0 ? chunk.length : lf + 1, 5 - this.separatorSeen)
    for (let i = 0; i < checkEnd; i++) {
      if (chunk[i] !== FROM_SPACE_BYTES[this.separatorSeen + i]) {
        throw new DamagedError('entry does not start with "From " (not an mbox entry, or a wrong offset)')
      }
    }
    if (lf < 0) {
      this.separatorSeen += chunk.length
      return chunk.subarray(chunk.length)
    }
    if (this.separatorSeen + lf < 5) {
      throw new DamagedError('entry does not start with "From " (not an mbox entry, or a wrong offset)')
    }
    this.separatorSeen = -1
    return chunk.subarray(lf + 1)
  }

  /** Passes on all but the last `appended` bytes seen so far. */
  private release(chunk: Buffer): void {
    const keep = this.record.appended
    if (keep === 0) {
      this.body(chunk)
      return
    }
    const total = this.tail.length + chunk.length
    if (total <= keep) {
      this.tail = Buffer.concat([this.tail, chunk])
      return
    }
    const fromTail = Math.min(this.tail.length, total - keep)
    if (fromTail > 0) this.body(this.tail.subarray(0, fromTail))
    const fromChunk = total - keep - fromTail
    this.body(chunk.subarray(0, fromChunk))
    this.tail = Buffer.concat([this.tail.subarray(fromTail), chunk.subarray(fromChunk)])
  }

  /** Unquotes and restores CRLFs in a piece of the body. */
  private body(chunk: Buffer): void {
    const n = chunk.length
    let segment = 0
    let q = 0
    while (q < n) {
      if (this.lineStart) {
        const heldQuotes = this.prefix.quotes
        const heldMatched = this.prefix.matched
        if (!this.prefix.scan(chunk, q)) break
        this.lineStart = false
        const unquote = readerUnquotes(this.rule, this.prefix.quotes, this.prefix.matched)
        this.prefix.reset()
        if (heldQuotes !== 0 || heldMatched !== 0) {
          // The line began in an earlier chunk: those bytes were held as counts.
          this.out.bytes(prefixBytes(unquote ? heldQuotes - 1 : heldQuotes, heldMatched))
        } else if (unquote) {
          // The line's first `>` is in this chunk: skip it.
          this.out.range(chunk, segment, q)
          segment = q + 1
        }
      }
      const i = chunk.indexOf(LF, q)
      if (i < 0) break
      if (this.eol.next()) {
        this.out.range(chunk, segment, i)
        this.out.bytes(CR_BUFFER)
        segment = i
      }
      q = i + 1
      this.lineStart = true
    }
    // An undecided line start (lineStart still true) is held in the prefix counts.
    this.out.range(chunk, segment, this.lineStart ? q : n)
  }

  private finish(): void {
    if (this.ended) throw new Error('MboxrdDecoder: end() called twice')
    this.ended = true
    if (this.separatorSeen >= 0) throw new DamagedError('entry has no complete separator line')
    if (this.prefix.holding) {
      // The last line ended undecided (`>>From` and no line break): the counts are the decision.
      const {quotes, matched} = this.prefix
      this.out.bytes(prefixBytes(readerUnquotes(this.rule, quotes, matched) ? quotes - 1 : quotes, matched))
    }
    const {appended, size} = this.record
    if (this.tail.length !== appended || this.tail.some((b) => b !== LF)) {
      throw new DamagedError(`entry does not end with the ${appended} padding LF(s) its exactness record gives`)
    }
    if (this.eol.unreached > 0) {
      const missing = this.eol.unreached
      throw new DamagedError(`entry has fewer line breaks than its exactness record lists (${missing} missing)`)
    }
    if (this.out.length !== size) {
      throw new DamagedError(`entry decodes to ${this.out.length} bytes but its exactness record gives ${size}`)
    }
  }

  private drain(): Buffer[] {
    const pieces = this.out.take()
    return pieces.length === 0 ? pieces : [joinPieces(pieces)]
  }
}

/**
 * The message stored in an entry. With an exactness record (written by mailkeep, with the
 * quoting rule `rule`): the exact original bytes. Without one (written by imap-backup, or its
 * record no longer matches): imap-backup's own reading, its stored text with LF line endings and
 * the added newline(s) kept (legacy.ts). The result may share memory with `entry`.
 */
export function decodeEntry(entry: Buffer, record: ExactnessRecord | undefined, rule: QuotingRule = 'compat'): Buffer {
  return record === undefined ? legacyDecode(entry) : MboxrdDecoder.decodeWhole(entry, record, rule)
}
