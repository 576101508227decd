/**
 * Who answered a connection, for `mailkeep setup`'s connection test ("the server said: Dovecot
 * ready."): the greeting's text (RFC 3501 §7.1.1), what TLS was agreed on and whether the
 * certificate was verified, and the server's own description from its ID answer (RFC 2971),
 * when it gave one. Read from imapflow's connection after the login (flow-internals.ts names
 * the fields); nothing here sends a command.
 */
import type {TLSSocket} from 'node:tls'
import type {FlowInternals} from './flow-internals.js'
import type {PeerInfo} from './types.js'

/** Server ID keys worth showing, in this order (RFC 2971 §3.3). */
const ID_KEYS = ['name', 'version', 'vendor', 'os', 'os-version']

export function peerInfo(flow: FlowInternals): PeerInfo {
  const peer: PeerInfo = {greeting: oneLine(flow.greeting ?? '')}
  const socket = flow.socket as Partial<TLSSocket> | false | null | undefined
  if (flow.secureConnection === true && socket && typeof socket.getProtocol === 'function') {
    const protocol = socket.getProtocol()
    if (protocol !== null && protocol !== undefined) peer.tlsProtocol = protocol
    peer.certificateVerified = socket.authorized === true
    const cert = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate(false) : undefined
    if (cert !== undefined && cert !== null && Object.keys(cert).length > 0) {
      peer.certificate = {subject: nameOf(cert.subject), issuer: nameOf(cert.issuer), validTo: cert.valid_to ?? ''}
    }
  }
  const info = flow.serverInfo
  if (info !== null && info !== undefined) {
    const shown = ID_KEYS.filter((k) => typeof info[k] === 'string' && info[k] !== '').map((k) => [k, oneLine(info[k]!)] as const)
    if (shown.length > 0) peer.serverId = Object.fromEntries(shown)
  }
  return peer
}

function nameOf(dn: Partial<Record<string, string | string[]>> | undefined): string {
  if (dn === undefined) return ''
  const pick = (key: string): string | undefined => {
    const value = dn[key]
    return Array.isArray(value) ? value[0] : value
  }
  return oneLine(pick('CN') ?? pick('O') ?? '')
}

/** Text from the network, for one line on a screen: no control characters, at most 200 long. */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters from the network are what is removed
  const clean = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim()
  return clean.length > 200 ? `${clean.slice(0, 199)}…` : clean
}
