/**
 * The one place that turns whatever imapflow or Node threw into mailkeep's error hierarchy
 * (src/imap/types.ts). imapflow's contract is mixed: some failures are exceptions with a
 * `code`, some are tagged NO/BAD responses (`responseStatus`), some are plain Errors with an
 * `authenticationFailed` mark; commands that return false instead of throwing are normalised
 * by the command modules, which throw here-classifiable errors instead.
 *
 * | what happened                                             | error                      |
 * | --------------------------------------------------------- | -------------------------- |
 * | login refused (NO to LOGIN/AUTHENTICATE, LOGINDISABLED)     | ImapConnectionError 'auth' |
 * | TLS handshake, certificate, STARTTLS refused               | ImapConnectionError 'tls'  |
 * | ECONNREFUSED / ENOTFOUND / EAI_AGAIN / EHOSTUNREACH …      | ImapConnectionError        |
 * | reset, EOF, close mid-command, BYE, any timeout, throttling | TransientImapError        |
 * | NO/BAD to a needed command, unparseable response           | RemoteError                |
 * | a line of the answer imapflow could not parse and skipped  | RemoteError                |
 * | a literal, line or response over the session's limits      | OversizedResponseError     |
 *
 * Messages name the user, the server and the command; a server's text is included after every
 * secret of the session has been scrubbed from it. The original error is always the `cause`.
 */
import {MailkeepError, RemoteError, TransientImapError} from '../shared/errors.js'
import {scrubForeign} from '../shared/secrets.js'
import {ImapConnectionError, OversizedResponseError} from './imap-errors.js'
import {LITERAL_LIMIT_FACTOR} from './limits.js'
import {responseCode} from './response.js'

export interface ErrorContext {
  /** `host:port` */
  server: string
  user: string
  /** The IMAP command (or operation) that failed, e.g. `UID FETCH`. */
  command?: string
  folder?: string
  /** Values that must never appear in a message (password, token, their encodings). */
  secrets?: readonly string[]
}

/** imapflow's and Node's error fields that classification reads. */
interface FlowError {
  message?: unknown
  code?: unknown
  responseStatus?: unknown
  responseText?: unknown
  serverResponseCode?: unknown
  authenticationFailed?: unknown
  tlsFailed?: unknown
  reason?: unknown
  response?: unknown
  name?: unknown
  /** imapflow's limit errors (handler/limits.js, imap-stream.js): the limit and what went over it. */
  maxSize?: unknown
  literalSize?: unknown
  responseSize?: unknown
  lineLength?: unknown
}

const OVER_LIMIT: Record<string, {what: OversizedResponseError['what']; size: 'literalSize' | 'responseSize' | 'lineLength'}> = {
  LiteralTooLarge: {what: 'literal', size: 'literalSize'},
  ResponseTooLarge: {what: 'response', size: 'responseSize'},
  LineTooLarge: {what: 'line', size: 'lineLength'},
}

const TRANSIENT_CODES = new Set([
  // imapflow: the connection is gone or going (close(), EOF, BYE, socket destroyed).
  'NoConnection',
  'EConnectionClosed',
  'StateLogout',
  'ClosedAfterConnectText',
  'ClosedAfterConnectTLS',
  // Timeouts, ours and imapflow's.
  'CONNECT_TIMEOUT',
  'GREETING_TIMEOUT',
  'UPGRADE_TIMEOUT',
  'ETIMEOUT',
  'ETIMEDOUT',
  // Node socket errors in the middle of a session.
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  // A corrupted COMPRESS=DEFLATE stream is a broken link, not a server answer.
  'Z_BUF_ERROR',
  'Z_DATA_ERROR',
  // Office 365 "Request is throttled": come back later, on a new session.
  'ETHROTTLE',
])

const PROTOCOL_CODES = new Set([
  'InvalidResponse',
  'ResponseProcessingFailed',
  'UnexpectedTag',
  'LineTooLarge',
  'LiteralTooLarge',
  'ResponseTooLarge',
  'MAX_IMAP_NESTING_REACHED',
  'DownloadOverflow',
  'DownloadIncomplete',
])

const CONNECT_CODES: Record<string, {failure: ImapConnectionError['failure']; retryable: boolean; words: string}> = {
  ECONNREFUSED: {failure: 'refused', retryable: true, words: 'connection refused'},
  ENOTFOUND: {failure: 'dns', retryable: false, words: 'host name not found'},
  EAI_AGAIN: {failure: 'dns', retryable: true, words: 'temporary DNS failure'},
  EHOSTUNREACH: {failure: 'unreachable', retryable: true, words: 'host unreachable'},
  ENETUNREACH: {failure: 'unreachable', retryable: true, words: 'network unreachable'},
  EHOSTDOWN: {failure: 'unreachable', retryable: true, words: 'host down'},
  ENETDOWN: {failure: 'unreachable', retryable: true, words: 'network down'},
  EADDRNOTAVAIL: {failure: 'unreachable', retryable: false, words: 'address not available'},
}

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|DEPTH_ZERO_|SELF_SIGNED_|UNABLE_TO_(GET|VERIFY|DECRYPT)|EPROTO$|HOSTNAME_MISMATCH|ERR_OSSL_)/

export function classifyImapError(error: unknown, context: ErrorContext): Error {
  if (error instanceof MailkeepError) return error
  if (typeof error !== 'object' || error === null) return new RemoteError(`${what(context)} failed: ${scrub(String(error), context)}`, {cause: error})
  const e = error as FlowError
  const code = typeof e.code === 'string' ? e.code : undefined
  // imapflow adds "Maybe should use TLS?" to every greeting timeout on a plain connection, whatever
  // answered; connect-failure.ts says what did, so the guess is dropped.
  const message = scrub(typeof e.message === 'string' ? e.message : String(error), context).replace(/\. Maybe should use TLS\?$/, '')

  if ((e as {noMechanism?: unknown}).noMechanism === true) {
    // Our own refusal before sending anything (commands/authenticate.ts): the credentials may
    // be fine, the server just does not do the configured mechanism.
    return new ImapConnectionError(`cannot log in as '${context.user}' at ${context.server}: ${message}`, 'auth', false, {
      cause: error,
      hint: 'set "auth_mechanism" to one the server offers (see `mailkeep remote capabilities`), or use a password',
    })
  }
  if ((e as {unsendable?: unknown}).unsendable === true) {
    // Our own refusal before sending anything (commands/login.ts): the server never saw it.
    return new ImapConnectionError(`cannot log in as '${context.user}' at ${context.server}: ${message}`, 'auth', false, {
      cause: error,
      hint: 'check the password for a stray line break (a password_command or password_file that prints more than one line?); a server that offers AUTHENTICATE PLAIN could take it',
    })
  }
  if (e.authenticationFailed === true || e.name === 'AuthenticationFailure') {
    const server = serverText(e, context)
    return new ImapConnectionError(`login refused for user '${context.user}' at ${context.server}${server ? `: ${server}` : ''}`, 'auth', false, {
      cause: error,
      hint: 'check the user name and password (or token) in the configuration',
    })
  }
  if (e.tlsFailed === true || (code !== undefined && TLS_CODE.test(code))) {
    return new ImapConnectionError(`TLS with ${context.server} failed: ${message}${code && !message.includes(code) ? ` (${code})` : ''}`, 'tls', false, {
      cause: error,
      hint: 'check the port and security setting; for a self-signed certificate set ca_file (or turn verification off)',
    })
  }
  if (code !== undefined && code in CONNECT_CODES) {
    const known = CONNECT_CODES[code]!
    return new ImapConnectionError(`cannot connect to ${context.server}: ${known.words} (${code})`, known.failure, known.retryable, {cause: error})
  }
  if (code !== undefined && (TRANSIENT_CODES.has(code) || /^ERR_(STREAM|SOCKET)_/.test(code))) {
    const bye = typeof e.reason === 'string' && e.reason !== '' ? ` (server said BYE: ${scrub(e.reason, context)})` : ''
    return new TransientImapError(`connection to ${context.server} lost during ${what(context)}: ${message}${bye}`, {cause: error})
  }
  if (e.responseStatus === 'NO' || e.responseStatus === 'BAD') {
    const server = serverText(e, context)
    return new RemoteError(`server ${context.server} answered ${e.responseStatus} to ${what(context)}${server ? `: ${server}` : ''}`, {cause: error})
  }
  if (code === 'UnparsedResponse') {
    // flow-internals.ts unparsedSince(): the answer arrived, but a line of it is missing.
    return new RemoteError(`unreadable answer from ${context.server} to ${what(context)}: ${message}; nothing was concluded from the incomplete answer`, {
      cause: error,
      hint: 'the server sent something that is not IMAP; rerun later (--verbose shows the line), and report it to the server operator if it persists',
    })
  }
  const over = overLimit(e, code, context)
  if (over !== undefined) return over
  if (code !== undefined && (code.startsWith('ParserError') || PROTOCOL_CODES.has(code))) {
    return new RemoteError(`unparseable response from ${context.server} to ${what(context)}: ${message} (${code})`, {cause: error})
  }
  // An error that is neither a network nor a protocol failure is a bug: let it reach the CLI as
  // an internal error with its stack.
  if (error instanceof TypeError || error instanceof RangeError || error instanceof ReferenceError || error instanceof SyntaxError) return error
  return new RemoteError(`${what(context)} failed at ${context.server}: ${message}${code ? ` (${code})` : ''}`, {cause: error})
}

/**
 * imapflow refused a literal, response or line over the session's limits (limits.ts) and closed
 * the connection: the stream's error, which carries the limit (`maxSize`). The same code on an
 * error without it is imapflow failing a command whose tagged line its parser rejected (a literal
 * longer than the line, `rejectUnparsedCompletion`): a malformed answer, not a limit.
 */
export function isOverLimit(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const e = error as FlowError
  return typeof e.code === 'string' && Object.hasOwn(OVER_LIMIT, e.code) && typeof e.maxSize === 'number'
}

function overLimit(e: FlowError, code: string | undefined, context: ErrorContext): OversizedResponseError | undefined {
  if (code === undefined || !isOverLimit(e)) return undefined
  const kind = OVER_LIMIT[code]!
  const size = e[kind.size]
  const bytes = typeof size === 'number' ? size : Infinity
  const limit = e.maxSize as number
  const amount = Number.isFinite(bytes) ? `${bytes} bytes (${mib(bytes)})` : 'more than 19 digits of bytes'
  const message =
    kind.what === 'literal'
      ? `${context.server} announced a literal of ${amount} in its answer to ${what(context)}, over the limit of ${limit} bytes (${mib(limit)}); the connection was closed without reading it`
      : `${context.server} sent a ${kind.what} of ${amount} in its answer to ${what(context)}, over the limit of ${limit} bytes (${mib(limit)}); the connection was closed`
  const raise = Number.isFinite(bytes)
    ? `if a message really is that large, set large_message_bytes to at least ${Math.ceil(bytes / LITERAL_LIMIT_FACTOR)} (the limit is ${LITERAL_LIMIT_FACTOR} × large_message_bytes, at least 64 MiB); otherwise `
    : ''
  return new OversizedResponseError(message, kind.what, bytes, limit, {cause: e, hint: `${raise}the server is broken or hostile: report it to its operator`})
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`
}

/** `UID FETCH in 'INBOX'` */
function what(context: ErrorContext): string {
  const command = context.command ?? 'command'
  return context.folder === undefined ? command : `${command} in '${context.folder}'`
}

/** The server's own words: response code and text, secrets removed. */
function serverText(e: FlowError, context: ErrorContext): string {
  // imapflow sets serverResponseCode for a failed login only; otherwise the code is in the
  // parsed tagged response (`NO [SERVERBUG] …`).
  const parsed = typeof e.response === 'object' && e.response !== null ? responseCode(e.response) : undefined
  const name = typeof e.serverResponseCode === 'string' ? e.serverResponseCode : parsed?.code
  const code = name !== undefined ? `[${name}] ` : ''
  const text = typeof e.responseText === 'string' ? e.responseText : typeof e.response === 'string' ? e.response : ''
  return scrub(`${code}${text}`.trim(), context)
}

/** The server's words are foreign text: every secret goes, the session's own too. */
function scrub(text: string, context: ErrorContext): string {
  return scrubForeign(text, context.secrets ?? [])
}
