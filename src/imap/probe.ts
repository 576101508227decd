/**
 * What answers on a host and port, for the message of a connection that failed before the IMAP
 * greeting (connect.ts): nothing at all, an IMAP server in plain text, an IMAP server that
 * expects TLS from the first byte, or something that is not IMAP (an SSH banner, an HTTP or SMTP
 * server). A wrong port or security setting is then named as such, at once, instead of being
 * retried as a network failure (an SSH port took 3½ minutes to fail, with the hint "Maybe should
 * use TLS?").
 *
 * Two short connections of our own, only after a failure: plain TCP first, reading what the
 * server says unasked (an IMAP server greets first, RFC 3501 §7.1; so do SSH, SMTP, FTP, POP3);
 * if it says nothing, a TLS handshake (certificate not checked: we only want to know whether TLS
 * is spoken there; no credentials are ever sent) and the greeting inside it. Each step is bounded
 * by `waitMs`.
 */
import {connect as netConnect, isIP, type Socket} from 'node:net'
import {connect as tlsConnect} from 'node:tls'

export type ProbeAnswer =
  /** An IMAP greeting (`* OK`, `* PREAUTH`, `* BYE`), in plain text or inside TLS. */
  | {kind: 'imap'; tls: boolean; line: string}
  /** Something else spoke first; `service` is a guess from its first line. */
  | {kind: 'other'; tls: boolean; line: string; service: string | undefined}
  /** A TLS handshake completed, then nothing was said within the wait. */
  | {kind: 'tls-silent'}
  /** The connection was accepted, then nothing: no greeting, no TLS handshake. */
  | {kind: 'silent'}
  /** The probe could not connect at all (refused, unreachable, timed out). */
  | {kind: 'unreachable'}

/** Enough of a first line to recognise it; the rest is never needed. */
const MAX_LINE = 120
const IMAP_GREETING = /^\* (OK|PREAUTH|BYE)\b/i

export async function probeServer(host: string, port: number, waitMs: number): Promise<ProbeAnswer> {
  const plain = await firstLine(() => netConnect({host, port}), 'connect', waitMs)
  if (plain.kind === 'unreachable') return plain
  if (plain.kind === 'line') return classify(plain.line, false)
  const servername = isIP(host) === 0 ? host : undefined
  const secure = await firstLine(() => tlsConnect({host, port, rejectUnauthorized: false, ...(servername === undefined ? {} : {servername})}), 'secureConnect', waitMs)
  if (secure.kind === 'line') return classify(secure.line, true)
  if (secure.kind === 'connected') return {kind: 'tls-silent'}
  return {kind: 'silent'}
}

function classify(line: string, tls: boolean): ProbeAnswer {
  if (IMAP_GREETING.test(line)) return {kind: 'imap', tls, line}
  return {kind: 'other', tls, line, service: serviceOf(line)}
}

/** What usually sends such a first line. */
function serviceOf(line: string): string | undefined {
  if (/^SSH-\d/.test(line)) return 'an SSH server'
  if (/^HTTP\/\d/.test(line)) return 'an HTTP server'
  if (/^\+OK\b/.test(line)) return 'a POP3 server'
  if (/^220[ -]/.test(line)) return 'an SMTP or FTP server'
  return undefined
}

type Step = {kind: 'line'; line: string} | {kind: 'connected'} | {kind: 'unreachable'}

/**
 * Connects and waits up to `waitMs` in all for the first line the server sends: 'line' (what it
 * said, printable, cut at MAX_LINE), 'connected' (it said nothing, or closed without a word),
 * 'unreachable' (no connection, or the handshake failed).
 */
function firstLine(open: () => Socket, ready: 'connect' | 'secureConnect', waitMs: number): Promise<Step> {
  return new Promise((resolve) => {
    let connected = false
    let data = Buffer.alloc(0)
    const socket = open()
    const done = (step: Step): void => {
      clearTimeout(timer)
      socket.removeAllListeners()
      socket.on('error', () => undefined) // a late error of the destroyed socket
      socket.destroy()
      resolve(step)
    }
    const spoke = (): Step => ({kind: 'line', line: printable(data)})
    const timer = setTimeout(() => done(data.length > 0 ? spoke() : connected ? {kind: 'connected'} : {kind: 'unreachable'}), waitMs)
    socket.once(ready, () => {
      connected = true
    })
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]).subarray(0, MAX_LINE * 2)
      if (data.includes(0x0a) || data.length >= MAX_LINE) done(spoke())
    })
    socket.on('end', () => done(data.length > 0 ? spoke() : connected ? {kind: 'connected'} : {kind: 'unreachable'}))
    socket.on('error', () => done(data.length > 0 ? spoke() : {kind: 'unreachable'}))
  })
}

/** The first line as printable ASCII (`\xNN` for anything else), without its line break. */
function printable(bytes: Buffer): string {
  const end = bytes.indexOf(0x0a)
  const line = bytes.subarray(0, end < 0 ? bytes.length : end).toString('latin1').replace(/\r$/, '')
  const cut = line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}…` : line
  return cut.replace(/[^\x20-\x7e…]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}
