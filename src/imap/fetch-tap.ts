/**
 * The FETCH tap: reads the answer to our UID FETCH straight off the connection, and hands the
 * bytes of each message's literal to the consumer as they arrive, a view of the connection's own
 * buffer (docs/imap.md, "The FETCH tap"; docs/performance.md).
 *
 * imapflow's reader (handler/imap-stream.js) collects every literal into one Buffer, and its
 * parser turns every response into a tree of objects: for a 200 MB backup that is most of the
 * garbage the process makes and most of its time. The tap sits where imapflow's reader takes its
 * input: it replaces the reader's `processChunkSegment` (flow-internals.ts), which imapflow calls
 * for every piece of every chunk the connection delivers (after TLS and COMPRESS), in order, and
 * waits for before it reads the next. While a UID FETCH of ours is on the wire, the tap reads the
 * untagged FETCH responses whose shape it knows (commands/fetch-scan.ts) itself; every other line
 * (the tagged answer, VANISHED, EXISTS, a FETCH with items it does not read, anything malformed) is
 * passed to imapflow's reader unchanged, one line (and its literals) at a time, and takes the path
 * it always took. imapflow keeps the connection, TLS, COMPRESS, authentication, the command queue
 * and every other command.
 *
 * What the reader guarantees, the tap keeps: the same framing (a line ending in `{n}` is followed
 * by n bytes of literal), the same limits (a literal over `maxLiteralSize` is refused when it is
 * announced, before a byte of it is read; a response over `maxResponseSize`, a line over
 * `maxLineLength`), each failing the stream as imapflow does (limits.ts, classify.ts); a line
 * it cannot read is logged and counted as imapflow's are (flow-logger.ts), which fails the command
 * once it is complete (flow-internals.ts `unparsedSince`); and backpressure: the next bytes are
 * read only once the consumer's promise for the previous ones resolves.
 */
import parseResponse from 'imapflow/lib/handler/imap-parser.js'
import {parseFetch, type FetchData} from './commands/fetch-response.js'
import {isPlainTail, literalAtEnd, scanFetchHead} from './commands/fetch-scan.js'
import type {FlowLogger} from './flow-logger.js'
import type {StreamInternals} from './flow-internals.js'

/** Where the tap delivers what it reads; each call may return a promise to hold the connection. */
export interface TapConsumer {
  /** A FETCH response without a body literal (flags, summaries, `BODY[] NIL`). */
  data(data: FetchData): void | Promise<void>
  /**
   * A BODY[] literal of `size` bytes begins; `head` holds the items before it. Returns where its
   * bytes go, or undefined to let them pass.
   */
  body(head: FetchData, size: number): BodySink | undefined
}

export interface BodySink {
  /** The next bytes of the literal: a view of the connection's buffer, not to be changed. */
  write(bytes: Buffer): void | Promise<void>
  /** The response is complete; `tail` holds the items after the literal (usually none). */
  end(tail: FetchData): void | Promise<void>
  /** The response will not be complete: its rest could not be read, or the command ended. */
  abort(): void | Promise<void>
}

/** One armed UID FETCH. */
export interface TapJob {
  consumer: TapConsumer
  /** Called while the tap waits on the consumer (false) and when it reads on (true). */
  gate(waiting: boolean): void
  /** The consumer threw: the rest of the answer is read and dropped, the command fails with this. */
  failed(error: unknown): void
}

/** imapflow's reader states (handler/imap-stream.js). */
const LINE = 0x01
const LITERAL = 0x02
const LF = 0x0a
const CR = 0x0d

const enum Mode {
  /** At the start of a line (maybe with part of it in `parts`). */
  Line,
  /** Reading a literal of the current response. */
  Literal,
  /** Reading the line that continues the current response after a literal. */
  Tail,
}

/** Where to go on in the chunk (null: it is done), now or once a promise resolves. */
type Step = number | null | Promise<number | null>
type Pending = undefined | Promise<void>

const SKIP: BodySink = {write: () => undefined, end: () => undefined, abort: () => undefined}
const EMPTY = Buffer.alloc(0)

export class FetchTap {
  private readonly original: (chunk: Buffer, start: number) => Promise<number | null>
  private job: TapJob | undefined
  private mode = Mode.Line
  private parts: Buffer[] = []
  private partBytes = 0
  private responseBytes = 0
  private remaining = 0
  private sink: BodySink = SKIP
  /** The open response's first line, CRLF left out (for the trace, and the record of an unreadable one). */
  private headLine: Buffer = EMPTY
  private literalSize = 0
  /** The items of the open response's first line. */
  private headData: FetchData = {}
  /** The open response has a second literal after its body: its rest cannot be read here. */
  private unreadable = false
  private dropping = false

  constructor(
    private readonly streamer: StreamInternals,
    private readonly log: FlowLogger,
  ) {
    const original = streamer.processChunkSegment.bind(streamer)
    this.original = async (chunk, start) => original(chunk, start)
    streamer.processChunkSegment = (chunk, start) => this.segment(chunk, start)
  }

  /** Reads the answer of the UID FETCH just sent (exec's `onSend`). */
  arm(job: TapJob): void {
    this.job = job
    this.mode = Mode.Line
    this.parts = []
    this.partBytes = 0
    this.dropping = false
  }

  /**
   * For the inactivity guard (guard.ts): how far into the response the tap is reading, or
   * undefined when it reads none (imapflow's reader then says: responseInProgress()).
   */
  inProgress(): {literalRemaining: number | undefined; lineBytes: number} | undefined {
    if (this.job === undefined) return undefined
    if (this.mode === Mode.Literal) return {literalRemaining: this.remaining, lineBytes: 0}
    if (this.parts.length > 0) return {literalRemaining: undefined, lineBytes: this.partBytes}
    return undefined
  }

  /** The command of `job` completed or failed: a response still open is abandoned. */
  async disarm(job: TapJob): Promise<void> {
    if (this.job !== job) return
    const open = this.mode !== Mode.Line
    const sink = this.sink
    this.job = undefined
    this.mode = Mode.Line
    this.parts = []
    this.partBytes = 0
    this.sink = SKIP
    if (open) await Promise.resolve(sink.abort()).catch(() => undefined)
  }

  /**
   * imapflow's reader calls this for each piece of input. The tap reads on through the chunk,
   * response after response, and returns (or waits) only when imapflow's reader or the consumer
   * must have its turn: a whole chunk of small responses costs no promise.
   */
  private segment(chunk: Buffer, start: number): Step {
    let pos: number | null = start
    while (pos !== null && pos < chunk.length) {
      if (this.job === undefined || this.streamer.destroyed) return this.original(chunk, pos)
      if (this.mode === Mode.Line && this.parts.length === 0 && !this.readerIdle()) return this.passBounded(chunk, pos)
      const step: Step = this.mode === Mode.Literal ? this.literal(chunk, pos) : this.line(chunk, pos)
      if (step !== null && typeof step === 'object') return step
      pos = step
    }
    return null
  }

  /** imapflow's reader is between responses, holding nothing. */
  private readerIdle(): boolean {
    const s = this.streamer
    return s.state === LINE && s.lineBuffer.length === 0 && s.inputBuffer.length === 0
  }

  /** imapflow's reader is inside a response: it gets the bytes up to the end of its literal or line. */
  private async passBounded(chunk: Buffer, start: number): Promise<number | null> {
    let to: number
    if (this.streamer.state === LITERAL) {
      // A literal of 0 bytes ends where it starts: the reader must see the chunk to leave it.
      if (this.streamer.literalWaiting === 0) return this.original(chunk, start)
      to = Math.min(chunk.length, start + this.streamer.literalWaiting)
    } else {
      const lf = chunk.indexOf(LF, start)
      to = lf < 0 ? chunk.length : lf + 1
    }
    await this.original(to === chunk.length ? chunk : chunk.subarray(0, to), start)
    return to < chunk.length ? to : null
  }

  /** Collects a line; once it is complete, reads it. */
  private line(chunk: Buffer, start: number): Step {
    const lf = chunk.indexOf(LF, start)
    const to = lf < 0 ? chunk.length : lf + 1
    const piece = start === 0 && to === chunk.length ? chunk : chunk.subarray(start, to)
    const length = this.partBytes + piece.length
    if (length > this.streamer.maxLineLength) return this.fail(tooLarge('LineTooLarge', `Line length ${length} exceeds maximum allowed size of ${this.streamer.maxLineLength} bytes`, {lineLength: length}))
    if (this.responseBytes + length > this.streamer.maxResponseSize) return this.overResponse(this.responseBytes + length)
    if (lf < 0) {
      this.parts.push(piece)
      this.partBytes = length
      // A line that cannot become an untagged FETCH goes to imapflow's reader at once.
      if (this.mode === Mode.Line && !couldBeFetch(this.parts.length === 1 ? piece : Buffer.concat(this.parts))) return this.passParts()
      return null
    }
    const line = this.parts.length === 0 ? piece : Buffer.concat([...this.parts, piece], length)
    this.parts = []
    this.partBytes = 0
    const next = to < chunk.length ? to : null
    const done = this.mode === Mode.Line ? this.head(line) : this.tail(line)
    return done === undefined ? next : done.then(() => next)
  }

  private async passParts(): Promise<null> {
    const held = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts)
    this.parts = []
    this.partBytes = 0
    await this.original(held, 0)
    return null
  }

  /** The first line of a response. */
  private head(line: Buffer): Pending {
    const end = contentEnd(line)
    const scanned = scanFetchHead(line, end)
    if (scanned === undefined) return this.original(line, 0).then(() => undefined)
    this.responseBytes = line.length
    const size = scanned.bodyLiteral
    if (size === undefined) {
      if (this.log.protocolLines) this.trace(line.toString('latin1', 0, end))
      this.responseBytes = 0
      if (this.dropping) return undefined
      return this.call(() => this.job?.consumer.data(scanned.data))
    }
    if (!this.literalAllowed(size)) return undefined
    this.responseBytes += size
    this.headLine = line.subarray(0, end)
    this.headData = scanned.data
    delete scanned.data.body
    this.literalSize = size
    this.unreadable = false
    this.sink = SKIP
    if (!this.dropping) {
      try {
        this.sink = this.job?.consumer.body(scanned.data, size) ?? SKIP
      } catch (error) {
        this.consumerFailed(error)
      }
    }
    this.remaining = size
    this.mode = size > 0 ? Mode.Literal : Mode.Tail
    return undefined
  }

  private literal(chunk: Buffer, start: number): Step {
    const take = Math.min(this.remaining, chunk.length - start)
    const to = start + take
    const next = to < chunk.length ? to : null
    this.remaining -= take
    if (this.remaining === 0) this.mode = Mode.Tail
    if (take === 0 || this.sink === SKIP) return next
    const sink = this.sink
    const written = this.call(() => sink.write(start === 0 && to === chunk.length ? chunk : chunk.subarray(start, to)))
    return written === undefined ? next : written.then(() => next)
  }

  /** The line after a literal: the end of the response, or another literal. */
  private tail(line: Buffer): Pending {
    const end = contentEnd(line)
    this.responseBytes += line.length
    const more = literalAtEnd(line, end)
    if (more >= 0) {
      // A second literal in one response (another item after the body): not one we asked for,
      // and not read here. Its bytes are passed over and the response counts as unreadable.
      if (!this.literalAllowed(more)) return undefined
      this.responseBytes += more
      this.unreadable = true
      this.remaining = more
      this.mode = more > 0 ? Mode.Literal : Mode.Tail
      return undefined
    }
    this.mode = Mode.Line
    this.responseBytes = 0
    if (!this.unreadable && isPlainTail(line, 0, end)) return this.complete(line, end, {}, '')
    if (this.unreadable) return this.complete(line, end, undefined, 'a second literal in the response')
    return tailItems(line.subarray(0, end)).then(
      (rest) => this.complete(line, end, rest, ''),
      (error: unknown) => this.complete(line, end, undefined, (error as Error).message),
    )
  }

  /** The end of a response whose body was read: `rest` is what followed it, undefined if unreadable. */
  private complete(line: Buffer, end: number, rest: FetchData | undefined, reason: string): Pending {
    const sink = this.sink
    const head = this.headData
    this.sink = SKIP
    this.headData = {}
    if (this.log.protocolLines || rest === undefined) {
      // As imapflow compiles a response for its trace: the literal as its size.
      const text = `${this.headLine.toString('latin1').replace(/\{\d+\}$/, `"(* ${this.literalSize}B literal *)"`)}${line.toString('latin1', 0, end)}`
      if (this.log.protocolLines) this.trace(text)
      if (rest === undefined) this.unparsed(text, reason)
    }
    this.headLine = EMPTY
    if (rest === undefined) return sink === SKIP ? undefined : this.call(() => sink.abort())
    if (rest.body === null) {
      // `BODY[] NIL` after the literal: as in imapflow's parse, the last BODY[] is the one that counts.
      const aborted = sink === SKIP ? undefined : this.call(() => sink.abort())
      const data = (): Pending => (this.dropping ? undefined : this.call(() => this.job?.consumer.data({...head, ...definedOf(rest)})))
      return aborted === undefined ? data() : aborted.then(data)
    }
    return sink === SKIP ? undefined : this.call(() => sink.end(rest))
  }

  /** imapflow's literal and response limits (handler/imap-stream.js), at the announcement. */
  private literalAllowed(size: number): boolean {
    const max = this.streamer.maxLiteralSize
    if (size > max) {
      this.fail(
        tooLarge('LiteralTooLarge', `Literal size ${size} exceeds ${size === Infinity ? 'the widest permissible literal size (19 digits)' : `maximum allowed size of ${max} bytes`}`, {literalSize: size, maxSize: max}),
      )
      return false
    }
    if (this.responseBytes + size > this.streamer.maxResponseSize) {
      this.overResponse(this.responseBytes + size)
      return false
    }
    return true
  }

  private overResponse(total: number): null {
    const max = this.streamer.maxResponseSize
    return this.fail(tooLarge('ResponseTooLarge', `Response size ${total} exceeds maximum allowed size of ${max} bytes`, {responseSize: total, maxSize: max}))
  }

  /** Ends the stream as imapflow's reader does for a limit (its 'error' closes the connection). */
  private fail(error: Error): null {
    const sink = this.sink
    this.sink = SKIP
    this.mode = Mode.Line
    if (sink !== SKIP) void Promise.resolve(sink.abort()).catch(() => undefined)
    this.streamer.failStream(error)
    return null
  }

  /** Calls the consumer; when it returns a promise, the link watch pauses until it resolves. */
  private call(fn: () => void | Promise<void> | undefined): Pending {
    let result: void | Promise<void> | undefined
    try {
      result = fn()
    } catch (error) {
      this.consumerFailed(error)
      return undefined
    }
    if (result === undefined) return undefined
    const job = this.job
    job?.gate(false)
    return result.then(
      () => job?.gate(true),
      (error: unknown) => {
        job?.gate(true)
        this.consumerFailed(error)
      },
    )
  }

  private consumerFailed(error: unknown): void {
    if (this.dropping) return
    this.dropping = true
    const sink = this.sink
    this.sink = SKIP
    if (sink !== SKIP) void Promise.resolve(sink.abort()).catch(() => undefined)
    this.job?.failed(error)
  }

  /** As imapflow logs a line its parser rejected (flow-logger.ts counts these). */
  private unparsed(text: string, reason: string): void {
    this.log.error({src: 's', msg: text.slice(0, 1024), payloadBytes: text.length, err: new Error(reason)})
  }

  /** The protocol trace (`--verbose`), as imapflow writes it for the responses it reads. */
  private trace(text: string): void {
    this.log.trace({src: 's', msg: text})
  }
}

/** The end of a line's content: before its LF and a CR right before it. */
function contentEnd(line: Buffer): number {
  let end = line.length
  if (line[end - 1] === LF) end--
  if (end > 0 && line[end - 1] === CR) end--
  return end
}

/** Whether a line that starts with these bytes (no LF yet) may still be `* <n> FETCH (`. */
function couldBeFetch(start: Buffer): boolean {
  if (start[0] !== 0x2a || (start.length > 1 && start[1] !== 0x20)) return false
  let p = 2
  while (p < start.length && (start[p] as number) >= 0x30 && (start[p] as number) <= 0x39) p++
  if (p - 2 > 20) return false
  if (p === start.length) return true
  if (p === 2 || start[p] !== 0x20) return false
  const rest = 'FETCH ('
  for (let i = 0; i < rest.length && p + 1 + i < start.length; i++) {
    const c = start[p + 1 + i] as number
    if ((c >= 0x61 && c <= 0x7a ? c - 0x20 : c) !== rest.charCodeAt(i)) return false
  }
  return true
}

/**
 * The items after the literal, read by imapflow's parser as the rest of a FETCH response (for the
 * rare answer that has more than `)` there): so it is read exactly as before.
 */
async function tailItems(tail: Buffer): Promise<FetchData> {
  const data = parseFetch(await parseResponse(Buffer.concat([TAIL_PREFIX, tail]), {literals: []}))
  // The body of the prefix, not one of the tail's (which would be read after it).
  if (data.body === null && !/BODY\[\]/i.test(tail.toString('latin1'))) delete data.body
  return data
}

const TAIL_PREFIX = Buffer.from('* 1 FETCH (BODY[] NIL')

/** The fields of `data` that have a value. */
function definedOf(data: FetchData): FetchData {
  const out: FetchData = {}
  for (const [key, value] of Object.entries(data)) if (value !== undefined) (out as Record<string, unknown>)[key] = value
  return out
}

function tooLarge(code: string, message: string, fields: Record<string, number>): Error {
  return Object.assign(new Error(message), {code}, fields)
}
