/**
 * What can go wrong talking to an authorization server, as errors of the one hierarchy
 * (src/shared/errors.ts), each one line:
 *
 * - the server cannot be reached → ConnectionError (exit 111), as for an IMAP server;
 * - the server refused the grant (RFC 6749 §5.2 `invalid_grant`: a refresh token revoked or
 *   expired) → OAuthGrantError (111); the engine names `mailkeep auth login EMAIL`;
 * - the server does not know the client (`invalid_client`, `unauthorized_client`) →
 *   ConfigError (exit 3): the fix is the client id or secret in the config;
 * - any other OAuth error → ConnectionError (111) naming the server's error code.
 */
import {ConfigError, ConnectionError} from '../shared/errors.js'

/** The authorization server refused the grant (a refresh token, a device code, a code). */
export class OAuthGrantError extends ConnectionError {
  constructor(
    message: string,
    /** The RFC 6749 §5.2 / RFC 8628 §3.5 error code. */
    readonly code: string,
    options: {cause?: unknown} = {},
  ) {
    super(message, options)
  }
}

/** An OAuth error response: `error` and `error_description` (RFC 6749 §5.2). */
export interface OAuthErrorBody {
  error: string
  error_description?: string | undefined
}

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
  UND_ERR_SOCKET: 'connection closed',
}

/** `connection refused` etc. when `error` is a failed fetch (Node's undici), else undefined. */
export function networkProblem(error: unknown): string | undefined {
  let e: unknown = error
  for (let depth = 0; depth < 4 && e !== null && typeof e === 'object'; depth++) {
    const code = (e as {code?: unknown}).code
    if (typeof code === 'string' && code in NETWORK_CODES) return NETWORK_CODES[code]
    if ((e as {name?: unknown}).name === 'TimeoutError') return 'no answer in time'
    e = (e as {cause?: unknown}).cause
  }
  if (error instanceof TypeError && /fetch failed/i.test(error.message)) return 'request failed'
  return undefined
}

export function unreachable(server: string, problem: string, cause: unknown): ConnectionError {
  return new ConnectionError(`cannot reach the OAuth2 authorization server ${server}: ${problem}`, {cause})
}

/** The error for an OAuth error response from `server` while doing `what` (e.g. "the token request"). */
export function refused(server: string, what: string, body: OAuthErrorBody, clientId: string, cause: unknown): Error {
  const detail = body.error_description ? `${body.error}: ${oneLine(body.error_description)}` : body.error
  if (body.error === 'invalid_client' || body.error === 'unauthorized_client') {
    return new ConfigError(
      `the OAuth2 authorization server ${server} does not accept the client id '${clientId}' (or its secret) (${detail}); check oauth2.client_id and oauth2.client_secret (\`mailkeep help auth.md\`)`,
      {cause},
    )
  }
  return new OAuthGrantError(`the OAuth2 authorization server ${server} refused ${what} (${detail})`, body.error, {cause})
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim()
  return line.length > 200 ? `${line.slice(0, 200)}…` : line
}
