/**
 * The error of a connection that failed before the IMAP greeting, saying what answered (docs/imap.md,
 * "Connecting"): nothing within the connect timeout, something that is not IMAP, a server that
 * expects TLS where plain text was configured, a plain-text server where TLS was configured, or a
 * server that accepted the connection and then said nothing.
 *
 * A wrong port or security setting is a configuration problem: not retried (retrying only took
 * minutes to say the same). A server that said nothing or could not be reached in time may be
 * down for a moment: retryable, within the first connection's deadline (engine/access/session-pool.ts).
 * A failure where the probe finds the IMAP server the configuration expects (a reset during the
 * greeting) keeps its own classification.
 */
import type {Endpoint} from './types.js'
import {ImapConnectionError} from './imap-errors.js'
import {probeServer, type ProbeAnswer} from './probe.js'

/** imapflow's codes for a connection that did not get as far as a greeting. */
const BEFORE_GREETING = new Set(['GREETING_TIMEOUT', 'ClosedAfterConnectText', 'ClosedAfterConnectTLS', 'ECONNRESET', 'EPIPE', 'UPGRADE_TIMEOUT'])
/** Node's TLS errors that a peer which does not speak TLS causes ("wrong version number", …). */
const NOT_TLS = /^(ERR_SSL_WRONG_VERSION_NUMBER|ERR_SSL_PACKET_LENGTH_TOO_LONG|ERR_SSL_UNKNOWN_PROTOCOL|ERR_SSL_HTTP_REQUEST|EPROTO)$/
/** How long each step of the probe waits: long enough for a greeting, short enough to fail fast. */
const PROBE_WAIT_MS = 3000

/**
 * The better error for `error` (imapflow's or Node's, before classification), or undefined when
 * there is nothing better to say than the classification of `error` itself.
 */
export async function diagnoseConnectFailure(error: unknown, endpoint: Endpoint, greeted: boolean): Promise<ImapConnectionError | undefined> {
  const code = (error as {code?: unknown} | null)?.code
  if (typeof code !== 'string' || greeted) return undefined
  const server = `${endpoint.host}:${endpoint.port}`
  const seconds = formatSeconds(endpoint.connectTimeoutMs)
  if (code === 'CONNECT_TIMEOUT') {
    return new ImapConnectionError(`cannot connect to ${server}: nothing answered within ${seconds} (open_timeout)`, 'timeout', true, {
      cause: error,
      hint: 'check the server name and port; the host may be down, or a firewall drops the connection',
    })
  }
  if (!BEFORE_GREETING.has(code) && !NOT_TLS.test(code)) return undefined
  const answer = await probeServer(endpoint.host, endpoint.port, Math.min(PROBE_WAIT_MS, endpoint.connectTimeoutMs))
  return fromAnswer(answer, endpoint, error, server, seconds)
}

function fromAnswer(answer: ProbeAnswer, endpoint: Endpoint, cause: unknown, server: string, seconds: string): ImapConnectionError | undefined {
  const configured = endpoint.security === 'tls' ? 'TLS from the first byte' : endpoint.security === 'starttls' ? 'plain IMAP upgraded with STARTTLS' : 'plain IMAP'
  switch (answer.kind) {
    case 'imap':
      if (answer.tls && endpoint.security !== 'tls') {
        return new ImapConnectionError(`cannot connect to ${server}: the server expects TLS from the first byte (it greets only after a TLS handshake), but the configuration asks for ${configured}`, 'tls-expected', false, {
          cause,
          hint: 'remove "ssl": false and "starttls" from connection_options to use TLS (as on port 993), or give the port of plain IMAP (usually 143)',
        })
      }
      if (!answer.tls && endpoint.security === 'tls') {
        return new ImapConnectionError(`cannot connect to ${server}: the server speaks plain IMAP there (it greeted '${answer.line}' without TLS), but the configuration asks for TLS from the first byte`, 'plain-expected', false, {
          cause,
          hint: 'set "starttls": true in connection_options (TLS after the greeting, usually port 143), or give the server\'s TLS port (usually 993)',
        })
      }
      return undefined // the IMAP server we expected: the failure was the link's, not the setting's
    case 'other':
      return new ImapConnectionError(
        `cannot connect to ${server}: the server there is not an IMAP server${answer.service === undefined ? '' : ` (${answer.service})`}: it ${answer.tls ? 'answered a TLS handshake, then sent' : 'sent'} '${answer.line}'`,
        'not-imap',
        false,
        {cause, hint: 'check the server name and port: IMAP is usually on port 993 (TLS) or 143 (plain or STARTTLS)'},
      )
    case 'tls-silent':
      if (endpoint.security !== 'tls') {
        return new ImapConnectionError(`cannot connect to ${server}: the server speaks TLS from the first byte there (it answered a TLS handshake and no plain text), but the configuration asks for ${configured}`, 'tls-expected', false, {
          cause,
          hint: 'remove "ssl": false and "starttls" from connection_options to use TLS, or give the port of plain IMAP (usually 143)',
        })
      }
      return new ImapConnectionError(`cannot connect to ${server}: the TLS connection was made, but no IMAP greeting came within ${seconds}`, 'silent', true, {
        cause,
        hint: 'check the port: IMAP over TLS is usually on port 993',
      })
    case 'silent':
      return new ImapConnectionError(`cannot connect to ${server}: the connection was accepted, but nothing came (no IMAP greeting within ${seconds}, no TLS handshake)`, 'silent', true, {
        cause,
        hint: 'check the server name and port; if they are right, the server is overloaded or stuck',
      })
    case 'unreachable':
      return undefined
  }
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`
}
