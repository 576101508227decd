/**
 * TLS for tests: a self-signed certificate for 127.0.0.1 (openssl), and an implicit-TLS front end
 * (port 993 style) that forwards the clear text to a server that speaks plain IMAP.
 */
import {execFile} from 'node:child_process'
import {readFile} from 'node:fs/promises'
import {connect as netConnect, type Server, type Socket} from 'node:net'
import {join} from 'node:path'
import {createServer as createTlsServer, type SecureVersion} from 'node:tls'
import {promisify} from 'node:util'
import {listenOnLoopback, type Listener} from './listeners.js'
import {LOOPBACK} from './ports.js'

const run = promisify(execFile)

export interface Certificate {
  certFile: string
  keyFile: string
  cert: Buffer
  key: Buffer
}

/** A self-signed certificate (and its key) for 127.0.0.1, written into `dir`. */
export async function selfSignedCertificate(dir: string): Promise<Certificate> {
  const certFile = join(dir, 'cert.pem')
  const keyFile = join(dir, 'key.pem')
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${LOOPBACK}`, '-addext', `subjectAltName=IP:${LOOPBACK}`])
  const [cert, key] = await Promise.all([readFile(certFile), readFile(keyFile)])
  return {certFile, keyFile, cert, key}
}

/** Listens on a free loopback port; each TLS connection is piped to `target` in clear text. */
export async function startTlsFront(target: {host: string; port: number}, certificate: Pick<Certificate, 'cert' | 'key'>, options: {maxVersion?: SecureVersion} = {}): Promise<Listener> {
  const upstreams = new Set<Socket>()
  const server = createTlsServer({cert: certificate.cert, key: certificate.key, ...options}, (socket) => {
    const upstream = netConnect({host: target.host, port: target.port})
    upstreams.add(upstream)
    upstream.on('close', () => upstreams.delete(upstream))
    socket.pipe(upstream).pipe(socket)
    socket.on('error', () => upstream.destroy())
    upstream.on('error', () => socket.destroy())
  })
  return listenOnLoopback(server as unknown as Server, upstreams)
}
