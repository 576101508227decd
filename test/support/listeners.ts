/**
 * Plain TCP listeners on loopback that are not IMAP servers, for tests of a wrong port: one that
 * sends a banner when a client connects (an SSH server's first line, say) and then waits, or
 * one that accepts and never says anything.
 */
import {createServer, type Server, type Socket} from 'node:net'
import {LOOPBACK} from './ports.js'

export interface Listener {
  host: string
  port: number
  close(): Promise<void>
}

/** What OpenSSH sends first; it then waits for the client's own banner. */
export const SSH_BANNER = 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3'

/** Sends `banner` (a line, CRLF added) to each connection, or nothing when it is undefined. */
export async function startListener(banner: string | undefined): Promise<Listener> {
  return listenOnLoopback(
    createServer((socket) => {
      socket.on('error', () => undefined)
      if (banner !== undefined) socket.write(`${banner}\r\n`)
    }),
  )
}

/**
 * Starts `server` on a free loopback port; close() destroys its open connections (and the
 * `extra` sockets a server opened on their behalf) before closing it.
 */
export async function listenOnLoopback(server: Server, extra: Set<Socket> = new Set()): Promise<Listener> {
  const sockets = new Set<Socket>()
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen({host: LOOPBACK, port: 0}, resolve))
  return {
    host: LOOPBACK,
    port: (server.address() as {port: number}).port,
    close: async () => {
      for (const s of [...sockets, ...extra]) s.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
