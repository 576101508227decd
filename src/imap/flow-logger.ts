/**
 * The logger imapflow is given: an adapter over our Logger. Everything imapflow says goes to
 * `debug` (its "User authenticated" is no news at info level, and its warnings are about
 * conditions the adapter turns into errors anyway). Protocol lines (imapflow's `src: 'c'|'s'`
 * entries) are passed on only with `traceProtocol`, as `C: …` / `S: …`.
 *
 * Credentials never get through, by three independent means:
 *   1. client lines of LOGIN and AUTHENTICATE keep only the command (and the SASL mechanism),
 *      and every client line that is not a tagged command (a SASL continuation) is dropped;
 *   2. the session's own secrets (password, token and their encodings) are cut out of every
 *      string, as are all values registered with registerSecret() (scrubForeign: a value that
 *      could be a word only where it stands as a whole word);
 *   3. only a fixed set of scalar fields is copied from imapflow's records: never its raw error
 *      objects, which carry server responses and compiled commands.
 * imapflow's own masking (`sensitive` attributes) is a fourth, but we do not rely on it.
 *
 * The logger is also the only place that learns of a server line imapflow could not parse:
 * imapflow 2.1.2 (`handleResponse`) logs it with `log.error({src: 's', msg, payloadBytes, err})`
 * and skips it, so a command whose answer lost a line would otherwise complete as if the line
 * had never been sent (a LIST without folders, a SEARCH without UIDs). Such records are counted
 * in `unparsed`, which the command helpers compare before and after each command
 * (flow-internals.ts), and logged at debug level with or without `traceProtocol`.
 */
import type {LogFields, Logger} from '../shared/logger.js'
import {REDACTED, scrubForeign} from '../shared/secrets.js'

/** What imapflow's `logger` option takes (types.d.ts `Logger`). */
export interface FlowLogger {
  trace(obj: unknown): void
  debug(obj: unknown): void
  info(obj: unknown): void
  warn(obj: unknown): void
  error(obj: unknown): void
  fatal(obj: unknown): void
  /**
   * False when protocol lines are dropped (no `traceProtocol`). Not part of imapflow's API: the
   * FETCH tap reads it, and formats a trace line for the responses it reads only when wanted.
   */
  readonly protocolLines: boolean
  /** Server lines imapflow could not parse and skipped, on this connection. */
  readonly unparsed: UnparsedLines
}

/** What is known of the server lines imapflow skipped because its parser rejected them. */
export interface UnparsedLines {
  readonly count: number
  readonly last: UnparsedLine | undefined
}

export interface UnparsedLine {
  /** The parser's reason, secrets removed. */
  reason: string
  /** The start of the line, secrets removed, control characters escaped. */
  excerpt: string
  /** The length of the whole line (literals not included). */
  bytes: number
}

export interface FlowLoggerOptions {
  traceProtocol: boolean
  /** The session's secrets, read at each call (a refreshed token is added later). */
  secrets: () => readonly string[]
}

const SAFE_FIELDS = ['code', 'host', 'port', 'secure', 'authorized', 'algo', 'version', 'command', 'responseStatus', 'unknownTagCount'] as const
const TAGGED_COMMAND = /^([A-Za-z0-9]+) ([A-Za-z][A-Za-z0-9.=-]*)(?: (.*))?$/
const HARMLESS_CONTINUATION = /^(\(\* \d+B continuation \*\)|DONE)$/
/** Enough of a rejected line to recognise it in an error message; the rest is in the trace. */
const EXCERPT_CHARS = 80

export function flowLogger(logger: Logger, options: FlowLoggerOptions): FlowLogger {
  // Everything imapflow says is foreign text (src/shared/secrets.ts).
  const scrub = (text: string): string => scrubForeign(text, options.secrets())
  const unparsed: {count: number; last: UnparsedLine | undefined} = {count: 0, last: undefined}
  const log = (obj: unknown, level: string): void => {
    if (obj === null || typeof obj !== 'object') return
    const record = obj as Record<string, unknown>
    const msg = typeof record.msg === 'string' ? record.msg : ''
    if (isUnparsedLine(level, record)) {
      const err = record.err
      const line: UnparsedLine = {
        reason: scrub(err instanceof Error ? err.message : 'unparseable'),
        excerpt: excerpt(scrub(msg)),
        bytes: record.payloadBytes as number,
      }
      unparsed.count++
      unparsed.last = line
      if (options.traceProtocol) logger.debug(`S: ${scrub(msg)}`)
      logger.debug(`imapflow could not parse a server line (${line.bytes} bytes, ${line.reason}): ${line.excerpt}`)
      return
    }
    if (record.src === 'c' || record.src === 's') {
      if (!options.traceProtocol) return
      const line = record.src === 'c' ? redactClientLine(msg) : msg
      logger.debug(`${record.src === 'c' ? 'C' : 'S'}: ${scrub(line)}`)
      return
    }
    const fields: LogFields = {}
    if (typeof record.src === 'string') fields.src = record.src
    for (const key of SAFE_FIELDS) {
      const value = record[key]
      if (typeof value === 'string') fields[key] = scrub(value)
      else if (typeof value === 'number' || typeof value === 'boolean') fields[key] = value
    }
    const err = record.err
    if (err instanceof Error) {
      fields.error = scrub(err.message)
      const code = (err as {code?: unknown}).code
      if (typeof code === 'string') fields.errorCode = code
    }
    logger.debug(`imapflow: ${scrub(msg)}`, fields)
  }
  return {
    trace: (obj) => log(obj, 'trace'),
    debug: (obj) => log(obj, 'debug'),
    info: (obj) => log(obj, 'info'),
    warn: (obj) => log(obj, 'warn'),
    error: (obj) => log(obj, 'error'),
    fatal: (obj) => log(obj, 'fatal'),
    protocolLines: options.traceProtocol,
    unparsed,
  }
}

/**
 * imapflow 2.1.2's record of a response its parser rejected (imap-flow.js `handleResponse`): the
 * only error record with `src: 's'`, and the only one with `payloadBytes`. Re-check on upgrade;
 * test/imap/protocol.test.ts fails if imapflow stops writing it.
 */
function isUnparsedLine(level: string, record: Record<string, unknown>): boolean {
  return level === 'error' && record.src === 's' && typeof record.payloadBytes === 'number'
}

/** The start of a line as printable ASCII: `\xNN` for control and 8-bit bytes. */
function excerpt(line: string): string {
  const head = line.length > EXCERPT_CHARS ? `${line.slice(0, EXCERPT_CHARS)}…` : line
  return head.replace(/[^\x20-\x7e…]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}

/**
 * A client line as it may be shown: LOGIN loses its arguments, AUTHENTICATE keeps only the
 * mechanism, a line that is not a tagged command (SASL data, an XOAUTH2 error breaker) goes.
 */
export function redactClientLine(line: string): string {
  const m = TAGGED_COMMAND.exec(line)
  if (!m) return HARMLESS_CONTINUATION.test(line) ? line : REDACTED
  const [, tag, command, rest] = m
  const upper = command!.toUpperCase()
  if (upper === 'LOGIN') return `${tag} LOGIN ${REDACTED}`
  if (upper === 'AUTHENTICATE') {
    const [mechanism, ...initial] = (rest ?? '').split(' ')
    return `${tag} AUTHENTICATE ${mechanism ?? ''}${initial.length > 0 ? ` ${REDACTED}` : ''}`
  }
  return line
}
