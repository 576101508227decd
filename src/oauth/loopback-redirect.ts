/**
 * The redirect target of the authorization code flow for a native app (RFC 8252 §7.3): an HTTP
 * listener on the loopback address 127.0.0.1 (the IP literal, not `localhost`, which may resolve
 * to ::1 or be firewalled differently: §8.3), on a port the system picks unless the user names one
 * (e.g. to forward it over SSH). The browser is sent to `http://127.0.0.1:PORT/?code=…&state=…`
 * (or `?error=…`); the listener answers with a short page and hands the URL to the flow, which
 * checks the state and exchanges the code. Only loopback connections can reach it.
 */
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {ConnectionError, UsageError} from '../shared/errors.js'

export interface LoopbackRedirect {
  /** `http://127.0.0.1:PORT/`: what the authorization request names as redirect_uri. */
  readonly redirectUri: string
  /** The first redirect carrying `code` or `error`. */
  callback(signal: AbortSignal, timeoutMs: number): Promise<URL>
  close(): Promise<void>
}

const PAGE = (title: string, text: string): string =>
  `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1><p>${text}</p></body></html>\n`

export async function listenLoopback(port = 0): Promise<LoopbackRedirect> {
  let deliver: ((url: URL) => void) | undefined
  let received: URL | undefined
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1')
    const params = url.searchParams
    if (request.method !== 'GET' || (!params.has('code') && !params.has('error'))) {
      response.writeHead(404, {'content-type': 'text/plain'}).end('not found\n')
      return
    }
    const failed = params.has('error')
    response
      .writeHead(200, {'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store'})
      .end(failed ? PAGE('mailkeep: login failed', 'The authorization server did not grant access. mailkeep shows why in the terminal.') : PAGE('mailkeep: logged in', 'You can close this window and go back to the terminal.'))
    if (received !== undefined) return
    received = new URL(`${redirectUriOf(server)}${url.search}`)
    deliver?.(received)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE' ? new UsageError(`port ${port} on 127.0.0.1 is in use; choose another with --port, or leave it out`, {cause: error}) : error)
    })
    server.listen(port, '127.0.0.1', () => resolve())
  })
  return {
    redirectUri: redirectUriOf(server),
    callback(signal, timeoutMs) {
      return new Promise<URL>((resolve, reject) => {
        const done = (): void => {
          clearTimeout(timer)
          signal.removeEventListener('abort', onAbort)
        }
        const onAbort = (): void => {
          done()
          reject(signal.reason)
        }
        const timer = setTimeout(() => {
          done()
          reject(new ConnectionError(`no login came back from the browser within ${Math.round(timeoutMs / 1000)} s; run the command again (--timeout to wait longer)`))
        }, timeoutMs)
        if (signal.aborted) return onAbort()
        signal.addEventListener('abort', onAbort, {once: true})
        deliver = (url) => {
          done()
          resolve(url)
        }
        if (received !== undefined) deliver(received)
      })
    },
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

function redirectUriOf(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
}
