/**
 * The parts of imapflow 2.1.2 (pinned exactly in package.json) that the adapter uses beyond its
 * public API, in one place, behind one cast. We use imapflow for the transport (TLS, STARTTLS,
 * COMPRESS), the greeting, CAPABILITY, LOGIN/AUTHENTICATE, the response parser, literal
 * handling and the command queue, and send the mailbox and message commands ourselves through
 * its `exec()`: its high-level methods prepend the personal namespace prefix to names that lack
 * it, strip a leading delimiter, run an extra LIST before every SELECT, silently drop APPEND
 * flags the *selected* folder does not permit, guess a UID after APPEND without UIDPLUS, and
 * swallow NO answers into `false` (docs/imap.md, "What imapflow does and what we absorb").
 *
 * Anything here must be re-checked when imapflow is upgraded: `exec`, `run`, `commands`,
 * `untaggedHandlers`, `greetingReceived`, `currentRequest`, exec's `onSend` option and the
 * `{response, next}` contract of exec's result (the reader waits for `next()` before it parses the
 * next response, which is also what gives FETCH its backpressure); that a response its parser
 * rejects is logged and skipped (flow-logger.ts `isUnparsedLine`), which is how `command()` and
 * the FETCH stream learn that an answer is incomplete; and the response reader `streamer`
 * (handler/imap-stream.js): the FETCH tap (fetch-tap.ts) takes its input from it
 * (`processChunkSegment`, its state fields and limits, `failStream`), and responseInProgress()
 * reads its `state`, `literalWaiting` and `lineBytes`. src/imap/fetch-tap.test.ts runs the tap
 * against imapflow's own reader and parser, so an upgrade that changes them fails there.
 */
import type {ImapFlow, ImapResponse} from 'imapflow'
import type {UnparsedLines} from './flow-logger.js'

/** A node the command compiler accepts (imapflow's handler/types `ImapCompileNode`). */
export type WireNode =
  | {type: 'ATOM' | 'STRING' | 'SEQUENCE' | 'LITERAL' | 'TEXT'; value: string | Buffer; section?: WireNode[]; partial?: number[]; sensitive?: boolean; isLiteral8?: boolean}
  | string
  | WireNode[]

export type UntaggedHandler = (untagged: ImapResponse) => Promise<void> | void

export interface ExecOptions {
  untagged?: Record<string, UntaggedHandler>
  onPlusTag?: (response: ImapResponse) => Promise<void> | void
  /** Called right after the command line is written to the socket. */
  onSend?: () => void
  comment?: string
}

/**
 * imapflow's response reader (handler/imap-stream.js `ImapStream`): a Transform whose input is
 * the connection's bytes. `processChunkSegment(chunk, start)` reads `chunk` from `start` until
 * its state changes or the chunk ends, and returns where to go on (or null); imapflow awaits it
 * before it reads further.
 */
export interface StreamInternals {
  /** 1 (LINE): between or inside a line; 2 (LITERAL): inside a literal, `literalWaiting` bytes to come. */
  state: number
  /** The start of a line whose end has not arrived, and its bytes. */
  lineBuffer: Buffer[]
  lineBytes: number
  /** Lines (and literals) of a response whose last line has not arrived. */
  inputBuffer: Buffer[]
  literalWaiting: number
  maxLiteralSize: number
  maxLineLength: number
  maxResponseSize: number
  destroyed: boolean
  /** imapflow awaits what it returns, so a replacement may return the position itself. */
  processChunkSegment(chunk: Buffer, start: number): Promise<number | null> | number | null
  /** Ends the stream with an error (destroy): imapflow reports it and closes the connection. */
  failStream(error: Error): boolean
}

export interface ExecResult {
  response: ImapResponse
  /** Must be called once the response is processed: the parser waits for it. */
  next: () => void
}

export type CommandHandler = (connection: FlowInternals, ...args: unknown[]) => Promise<unknown>

export interface FlowInternals {
  exec(command: string, attributes: WireNode[] | false, options?: ExecOptions): Promise<ExecResult>
  run(command: string, ...args: unknown[]): Promise<unknown>
  /** Per-instance command registry; we give each client its own copy before changing it. */
  commands: Map<string, CommandHandler>
  untaggedHandlers: Record<string, UntaggedHandler | null | undefined>
  write(chunk: string | Buffer): void
  capabilities: Map<string, boolean | number>
  enabled: Set<string>
  isClosed: boolean
  /** Set once the server's greeting arrived (connect-failure.ts: was it an IMAP server at all?). */
  greetingReceived?: boolean
  servername: string | false
  host: string
  port: number
  stats(reset?: boolean): {sent: number; received: number}
  close(): void
  streamer: StreamInternals
  /** The command on the wire (or being written), if any. */
  currentRequest: {tag: string} | false
  /** Bytes written so far (write() counts them; so must a writer that bypasses it). */
  writeBytesCounter: number
  /** Where commands are written: the socket, or COMPRESS's deflate stream (RFC 4978). */
  writeSocket: {write(data: Buffer): boolean}
  /** Read by peer.ts: the greeting's text, the ID answer (RFC 2971), the socket (TLS after the upgrade). */
  greeting?: string
  serverInfo?: Record<string, string> | null
  socket?: unknown
  secureConnection?: boolean
}

export function internals(client: ImapFlow): FlowInternals {
  return client as unknown as FlowInternals
}

/** Each connection's count of skipped server lines (its FlowLogger's), set by connect(). */
const unparsedOf = new WeakMap<FlowInternals, UnparsedLines>()

export function trackUnparsed(flow: FlowInternals, lines: UnparsedLines): void {
  unparsedOf.set(flow, lines)
}

/** Taken before a command is queued: unparseable lines from then on count against it. */
export function unparsedMark(flow: FlowInternals): number {
  return unparsedOf.get(flow)?.count ?? 0
}

/**
 * The error for a command during which the server sent lines imapflow could not parse (and
 * skipped), or undefined. Such an answer is incomplete: the skipped line may have been a folder
 * of a LIST, the UIDs of a SEARCH, a message or flag change of a FETCH, so nothing may be
 * concluded from what did arrive. A line counts against every command queued before it arrived
 * and not yet completed (with one command at a time, the one in flight; the rest of an abandoned
 * FETCH also counts against the command queued behind it): this errs on the side of failing.
 * A line that arrives while no command waits is only logged (flow-logger.ts). classify.ts turns
 * the error (code `UnparsedResponse`) into a RemoteError naming server, command and folder.
 */
export function unparsedSince(flow: FlowInternals, mark: number): Error | undefined {
  const lines = unparsedOf.get(flow)
  if (lines === undefined || lines.count === mark) return undefined
  const count = lines.count - mark
  const last = lines.last
  const detail = last === undefined ? '' : ` (${last.reason}: ${last.excerpt})`
  return Object.assign(new Error(`${count} line(s) of the answer could not be parsed${detail}`), {code: 'UnparsedResponse', unparsedLines: count})
}

/**
 * Runs one command and releases its tagged response at once (nothing streams). A line of the
 * answer that could not be parsed fails the command, once its tagged response is in (so the
 * connection stays in step for the next command).
 */
export async function command(
  flow: FlowInternals,
  name: string,
  attributes: WireNode[] | false,
  untagged?: Record<string, UntaggedHandler>,
  onPlusTag?: ExecOptions['onPlusTag'],
): Promise<ImapResponse> {
  const mark = unparsedMark(flow)
  const options: ExecOptions | undefined = untagged || onPlusTag ? {untagged, onPlusTag} : undefined
  const result = await flow.exec(name, attributes, options)
  result.next()
  const unparsed = unparsedSince(flow, mark)
  if (unparsed !== undefined) throw unparsed
  return result.response
}

/**
 * Writes bytes to the connection as they are, as part of the command on the wire (a literal
 * after the server's `+`): imapflow's write() would add a CRLF to the last part of a command,
 * concatenating a copy. Counted as write() counts (stats(), the link guard). Under COMPRESS
 * (RFC 4978) `writeSocket` is the deflate stream's input, as for write().
 */
export function writeRaw(flow: FlowInternals, bytes: Buffer): void {
  flow.writeBytesCounter += bytes.length
  flow.writeSocket.write(bytes)
}

/** imap-stream.js's parser state while it reads a literal. */
const STREAM_LITERAL = 2

/**
 * How far imapflow is into the response it is receiving: the bytes of its literal still to come
 * (undefined when not in a literal) and of its line so far. How the inactivity guard (guard.ts)
 * sees a large message or a long line come in (for a response the FETCH tap reads, the tap
 * says: FetchTap.inProgress()).
 */
export function responseInProgress(flow: FlowInternals): {literalRemaining: number | undefined; lineBytes: number} {
  const streamer = flow.streamer
  const literalRemaining = streamer?.state === STREAM_LITERAL && typeof streamer.literalWaiting === 'number' ? streamer.literalWaiting : undefined
  return {literalRemaining, lineBytes: typeof streamer?.lineBytes === 'number' ? streamer.lineBytes : 0}
}
