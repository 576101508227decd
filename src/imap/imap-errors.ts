/**
 * The IMAP layer's refinement of ConnectionError: why the connection could not be made, and
 * whether trying again later can help (see retry.ts and docs/imap.md "Retry policy").
 */
import {ConnectionError, type ErrorOptions} from '../shared/errors.js'

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
