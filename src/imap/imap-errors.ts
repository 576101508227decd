/**
 * The IMAP layer's refinements of the shared errors: ImapConnectionError says why the connection
 * could not be made, and whether trying again later can help (see retry.ts and docs/imap.md
 * "Retry policy"); OversizedResponseError says that the server sent more than a session accepts.
 */
import {ConnectionError, RemoteError, type ErrorOptions} from '../shared/errors.js'

export type ConnectionFailure =
  /** The server refused the login (wrong password, token rejected, LOGINDISABLED, no mechanism). */
  | 'auth'
  /** TLS handshake or certificate verification failed, or STARTTLS was required but refused. */
  | 'tls'
  /** Nothing listens on the port (ECONNREFUSED): the server may be restarting. */
  | 'refused'
  /** The host name does not resolve (ENOTFOUND), or DNS failed for now (EAI_AGAIN). */
  | 'dns'
  /** No route to the host or network (EHOSTUNREACH, ENETUNREACH). */
  | 'unreachable'
  /** Nothing answered the TCP connection within the connect timeout. */
  | 'timeout'
  /** The connection was accepted, then nothing came: no greeting, no TLS handshake. */
  | 'silent'
  /** Something answered that is not an IMAP server (an SSH banner, an HTTP server, …). */
  | 'not-imap'
  /** The server expects TLS from the first byte; the configuration says plain or STARTTLS. */
  | 'tls-expected'
  /** The server speaks plain IMAP; the configuration says TLS from the first byte. */
  | 'plain-expected'
  /** Anything else that kept us from a usable session (e.g. an unreadable CA file). */
  | 'other'

export class ImapConnectionError extends ConnectionError {
  constructor(
    message: string,
    readonly failure: ConnectionFailure,
    /** True when the same attempt may succeed later (refused, unreachable, temporary DNS). */
    readonly retryable: boolean,
    options: ErrorOptions = {},
  ) {
    super(message, options)
  }
}

/**
 * The server sent more in one piece than the session accepts (connect.ts, "Limits"): a literal
 * over `maxLiteralBytes`, or a response or line over the response limit. imapflow stops parsing
 * at the announcement, before the bytes arrive, and closes the connection; the session is closed.
 * Not transient: the same command brings the same answer. The engine downloads the messages of
 * a batch that brought one in chunks instead (src/engine/backup/message-fetcher.ts).
 */
export class OversizedResponseError extends RemoteError {
  constructor(
    message: string,
    /** What was too large. */
    readonly what: 'literal' | 'response' | 'line',
    /** Its size in bytes, as announced (or as far as it had grown); Infinity for a size of more than 19 digits. */
    readonly bytes: number,
    /** The limit it went over. */
    readonly limit: number,
    options: ErrorOptions = {},
  ) {
    super(message, options)
  }
}
