/**
 * Free TCP ports on 127.0.0.1 for servers the tests start themselves.
 *
 * A port can only be "free" at the moment we look: between our check and the server's bind,
 * another test file (vitest runs two forks) or an outgoing connection may take it. So callers
 * treat EADDRINUSE at start-up as "pick another port and try again" (`retryOnAddressInUse`).
 *
 * Candidates come from below the kernel's ephemeral range, which the kernel hands out for
 * outgoing connections and `listen(0)`; picking outside it makes a clash with the test's own
 * client sockets impossible and one with the other fork unlikely.
 */
import {readFile} from 'node:fs/promises'
import {createServer} from 'node:net'

export const LOOPBACK = '127.0.0.1'

const LOWEST_PORT = 20_000

/** Resolves true when nothing listens on `port` (we can bind it ourselves, then release it). */
export function isPortFree(port: number, host = LOOPBACK): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen({port, host}, () => server.close(() => resolve(true)))
  })
}

/** A port that was free a moment ago. */
export async function freePort(host = LOOPBACK): Promise<number> {
  const [low] = await ephemeralRange()
  const high = Math.min(low, 65_536) - 1
  if (high - LOWEST_PORT >= 1000) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const port = LOWEST_PORT + Math.floor(Math.random() * (high - LOWEST_PORT + 1))
      if (await isPortFree(port, host)) return port
    }
  }
  // Unusual ephemeral range: let the kernel choose.
  return kernelPort(host)
}

/** Polls until nothing listens on `port`; false when `timeoutMs` passed first. */
export async function waitForPortFree(port: number, timeoutMs = 5000, host = LOOPBACK): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await isPortFree(port, host)) return true
    if (Date.now() >= deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Marks an error as "the port was taken under us", so `retryOnAddressInUse` tries again. */
export class AddressInUseError extends Error {
  readonly code = 'EADDRINUSE'
  constructor(
    readonly port: number,
    message = `port ${port} is already in use`,
    options?: ErrorOptions,
  ) {
    super(message, options)
    this.name = 'AddressInUseError'
  }
}

export function isAddressInUse(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as {code?: unknown}).code === 'EADDRINUSE'
}

/**
 * Runs `start` with a fresh free port until it does not fail with EADDRINUSE (the race described
 * at the top of this file). Other errors are thrown at once.
 */
export async function retryOnAddressInUse<T>(start: (port: number) => Promise<T>, attempts = 5, host = LOOPBACK): Promise<T> {
  let last: unknown
  for (let attempt = 0; attempt < attempts; attempt++) {
    const port = await freePort(host)
    try {
      return await start(port)
    } catch (error) {
      if (!isAddressInUse(error)) throw error
      last = error
    }
  }
  throw new Error(`no free port after ${attempts} attempts`, {cause: last})
}

async function ephemeralRange(): Promise<[number, number]> {
  try {
    const text = await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
    const [low, high] = text.trim().split(/\s+/).map(Number)
    if (low !== undefined && high !== undefined && Number.isInteger(low) && Number.isInteger(high)) return [low, high]
  } catch {
    // Not Linux: fall through to the common default.
  }
  return [32_768, 60_999]
}

function kernelPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen({port: 0, host}, () => {
      const address = server.address()
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port)
        else reject(new Error('listen(0) returned no port'))
      })
    })
  })
}

/**
 * Runs `start` again while it fails with EADDRINUSE, for up to `timeoutMs`: a server restarted
 * on its own port, whose old listener can linger for a moment (the port is ours, so we wait).
 */
export async function retryWhileAddressInUse(start: () => Promise<void>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      await start()
      return
    } catch (error) {
      if (!isAddressInUse(error) || Date.now() > deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}
