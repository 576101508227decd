/**
 * A loopback TCP proxy in front of a server port, scriptable from a test: it counts bytes and
 * IMAP lines in each direction, records the client's command lines, and injects network faults
 * (drop after N bytes or in the middle of a literal, stall, throttle, refuse new connections).
 *
 * It understands IMAP framing (`ImapFrameScanner`), so literal contents are never taken for
 * lines or commands, and a drop can be placed at an exact byte of a FETCH literal. It forwards
 * bytes unchanged, except that it hides COMPRESS from the server's capabilities (see
 * `withoutCompress`); plain IMAP only (TLS or compression would hide the framing).
 */
import {connect, createServer, type Server, type Socket} from 'node:net'
import {LOOPBACK} from './ports.js'
import {ImapFrameScanner} from './raw-imap.js'

export interface ProxyOptions {
  targetPort: number
  targetHost?: string
  /** Where the proxy listens; the port is chosen by the kernel. */
  host?: string
}

export interface DirectionStats {
  /** Bytes forwarded. */
  bytes: number
  /** Protocol lines seen (a literal's contents are not lines). */
  lines: number
}

export interface ProxyStats {
  clientToServer: DirectionStats
  serverToClient: DirectionStats
  /** Connections accepted (since the last `resetStats`). */
  connections: number
  /** Connections open now. */
  active: number
  /** Fault-injected drops (each resets every connection open at that moment). */
  drops: number
}

export interface RecordedCommand {
  /** Number of the connection (1 = first accepted since the proxy started). */
  connection: number
  tag: string
  /** Upper-case command name; `UID FETCH`, `UID STORE`, … for UID commands; `DONE` ends IDLE. */
  name: string
  /**
   * The command's text without literal contents (the `{n}` markers stay), and without credentials
   * (withoutCredentials below).
   */
  line: string
}

/** How a fault ends connections: TCP reset (RST) or an orderly close (FIN). */
export type DropHow = 'reset' | 'end'

/**
 * What a refused connection sees: `refuse` closes the listening socket (ECONNREFUSED), `reset`
 * accepts and resets, `silent` accepts and never answers (a black hole: greeting timeout).
 */
export type RefuseMode = 'refuse' | 'reset' | 'silent'

export interface TcpProxy {
  readonly host: string
  readonly port: number
  readonly stats: ProxyStats
  readonly commands: readonly RecordedCommand[]
  /** The recorded command names, in order. */
  commandNames(): string[]
  /** Zeroes the counters and forgets the recorded commands (e.g. between two runs). */
  resetStats(): void
  /**
   * After `bytes` more server→client bytes (counted over all connections from now), forwards
   * exactly up to that byte and drops every open connection. With `once: false` it re-arms
   * after each drop.
   */
  dropAfter(bytes: number, options?: {once?: boolean; how?: DropHow}): void
  /**
   * Drops every open connection when the server is `offset` bytes into a literal of at least
   * `minSize` bytes (default: half-way into the first literal of 1 KiB or more), so the client
   * has part of a FETCH body.
   */
  dropInLiteral(options?: {minSize?: number; offset?: number; once?: boolean; how?: DropHow}): void
  /** Cancels pending `dropAfter` / `dropInLiteral` triggers. */
  disarm(): void
  dropNow(how?: DropHow): void
  /** Forwards nothing, in either direction, for `ms` (Infinity: until `resume()`). */
  stall(ms: number): void
  resume(): void
  /** Limits each direction to `bytesPerSecond` over all connections; null removes the limit. */
  throttle(bytesPerSecond: number | null): void
  refuseNew(refuse: boolean, mode?: RefuseMode): Promise<void>
  /** Called for each client command as it arrives, before it is forwarded (so `dropNow()` in
   * the listener means the server never sees it). Returns an unsubscribe function. */
  onCommand(listener: (command: RecordedCommand) => void): () => void
  /** Resolves with the first recorded command (including earlier ones) whose line matches. */
  waitForCommand(pattern: RegExp, timeoutMs?: number): Promise<RecordedCommand>
  /** Resolves at the next fault-injected drop. */
  waitForDrop(timeoutMs?: number): Promise<void>
  close(): Promise<void>
}

export async function startProxy(options: ProxyOptions): Promise<TcpProxy> {
  const proxy = new Proxy(options)
  await proxy.listen(0)
  return proxy
}

const HIGH_WATER = 1024 * 1024
const LOW_WATER = 256 * 1024
/** Time the client gets to read the bytes forwarded just before a drop. */
const DROP_GRACE_MS = 20

interface Trigger {
  kind: 'after' | 'literal'
  once: boolean
  how: DropHow
  /** dropAfter: bytes still to forward before the drop. */
  remaining: number
  bytes: number
  minSize: number
  offset: number | undefined
}

class Proxy implements TcpProxy {
  readonly host: string
  port = 0
  stats: ProxyStats = emptyStats()
  commands: RecordedCommand[] = []
  private server: Server | undefined
  private readonly links = new Set<Link>()
  private connectionCounter = 0
  private refusing: RefuseMode | undefined
  private stalledUntil = 0
  private stallTimer: NodeJS.Timeout | undefined
  private rate: number | null = null
  /** Per direction: when the throttled link is free to send again. */
  readonly nextFree = {up: 0, down: 0}
  trigger: Trigger | undefined
  private readonly commandListeners = new Set<(command: RecordedCommand) => void>()
  private readonly dropWaiters = new Set<() => void>()

  constructor(private readonly options: ProxyOptions) {
    this.host = options.host ?? LOOPBACK
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer({pauseOnConnect: true}, (socket) => this.accept(socket))
      server.once('error', reject)
      server.listen({host: this.host, port}, () => {
        server.off('error', reject)
        const address = server.address()
        if (address !== null && typeof address === 'object') this.port = address.port
        this.server = server
        resolve()
      })
    })
  }

  commandNames(): string[] {
    return this.commands.map((c) => c.name)
  }

  resetStats(): void {
    this.stats = {...emptyStats(), active: this.links.size}
    this.commands = []
  }

  dropAfter(bytes: number, options: {once?: boolean; how?: DropHow} = {}): void {
    if (!(bytes >= 0)) throw new Error(`dropAfter: bad byte count ${bytes}`)
    this.trigger = {kind: 'after', once: options.once ?? true, how: options.how ?? 'reset', remaining: bytes, bytes, minSize: 0, offset: undefined}
  }

  dropInLiteral(options: {minSize?: number; offset?: number; once?: boolean; how?: DropHow} = {}): void {
    this.trigger = {
      kind: 'literal',
      once: options.once ?? true,
      how: options.how ?? 'reset',
      remaining: 0,
      bytes: 0,
      minSize: Math.max(1, options.minSize ?? 1024),
      offset: options.offset,
    }
    for (const link of this.links) link.down.literalCut = undefined
  }

  disarm(): void {
    this.trigger = undefined
  }

  dropNow(how: DropHow = 'reset'): void {
    this.stats.drops++
    for (const link of this.links) link.destroy(how)
    this.notifyDrop()
  }

  stall(ms: number): void {
    clearTimeout(this.stallTimer)
    this.stalledUntil = Date.now() + ms
    if (Number.isFinite(ms)) this.stallTimer = setTimeout(() => this.resume(), ms)
  }

  resume(): void {
    clearTimeout(this.stallTimer)
    this.stalledUntil = 0
    this.pumpAll()
  }

  get stalled(): boolean {
    return Date.now() < this.stalledUntil
  }

  throttle(bytesPerSecond: number | null): void {
    if (bytesPerSecond !== null && !(bytesPerSecond > 0)) throw new Error(`throttle: bad rate ${bytesPerSecond}`)
    this.rate = bytesPerSecond
    this.nextFree.up = this.nextFree.down = 0
    this.pumpAll()
  }

  get bytesPerSecond(): number | null {
    return this.rate
  }

  async refuseNew(refuse: boolean, mode: RefuseMode = 'refuse'): Promise<void> {
    const wasClosed = this.refusing === 'refuse'
    this.refusing = refuse ? mode : undefined
    if (refuse && mode === 'refuse' && !wasClosed) await this.closeListener()
    // Listen again on the same port; EADDRINUSE here means another process took it meanwhile.
    if (wasClosed && this.refusing !== 'refuse') await this.listen(this.port)
  }

  onCommand(listener: (command: RecordedCommand) => void): () => void {
    this.commandListeners.add(listener)
    return () => this.commandListeners.delete(listener)
  }

  waitForCommand(pattern: RegExp, timeoutMs = 30_000): Promise<RecordedCommand> {
    const found = this.commands.find((c) => pattern.test(c.line))
    if (found) return Promise.resolve(found)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off()
        reject(new Error(`no client command matching ${pattern} within ${timeoutMs} ms (seen: ${this.commandNames().join(', ')})`))
      }, timeoutMs)
      const off = this.onCommand((command) => {
        if (!pattern.test(command.line)) return
        clearTimeout(timer)
        off()
        resolve(command)
      })
    })
  }

  waitForDrop(timeoutMs = 30_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer)
        resolve()
      }
      const timer = setTimeout(() => {
        this.dropWaiters.delete(done)
        reject(new Error(`no drop within ${timeoutMs} ms`))
      }, timeoutMs)
      this.dropWaiters.add(done)
    })
  }

  async close(): Promise<void> {
    this.refusing = 'refuse'
    clearTimeout(this.stallTimer)
    for (const link of this.links) link.destroy('reset')
    await this.closeListener(true)
  }

  // ---- called by links

  recordCommand(command: RecordedCommand): void {
    this.commands.push(command)
    for (const listener of [...this.commandListeners]) listener(command)
  }

  /** A trigger fired after its last forwarded byte: drop every connection open now. */
  fire(trigger: Trigger, written: Promise<void>): void {
    if (trigger.once) this.trigger = undefined
    else if (trigger.kind === 'after') trigger.remaining = trigger.bytes
    const links = [...this.links].filter((link) => link.pendingDrop === undefined)
    for (const link of links) link.pendingDrop = trigger.how
    this.stats.drops++
    void written.then(() =>
      setTimeout(() => {
        for (const link of links) link.destroy(trigger.how)
        this.notifyDrop()
      }, DROP_GRACE_MS),
    )
  }

  removeLink(link: Link): void {
    if (this.links.delete(link)) this.stats.active = this.links.size
  }

  pumpAll(): void {
    for (const link of this.links) {
      link.up.pump()
      link.down.pump()
    }
  }

  /** When this direction may send `bytes` more under the throttle (0: now). */
  throttleDelay(direction: 'up' | 'down', bytes: number): number {
    if (this.rate === null) return 0
    const now = Date.now()
    const wait = this.nextFree[direction] - now
    if (wait > 0) return wait
    this.nextFree[direction] = now + (bytes / this.rate) * 1000
    return 0
  }

  /** Slice size under the throttle: about 20 ms worth, so the rate is smooth. */
  get throttleSlice(): number {
    return this.rate === null ? Infinity : Math.max(1, Math.floor(this.rate / 50))
  }

  private accept(client: Socket): void {
    if (this.refusing === 'reset') {
      client.resetAndDestroy()
      return
    }
    if (this.refusing === 'silent') {
      // Held open and never answered; closed with the proxy.
      const link = new Link(this, ++this.connectionCounter, client, undefined)
      this.links.add(link)
      return
    }
    this.stats.connections++
    const upstream = connect({host: this.options.targetHost ?? LOOPBACK, port: this.options.targetPort})
    const link = new Link(this, ++this.connectionCounter, client, upstream)
    this.links.add(link)
    this.stats.active = this.links.size
  }

  private notifyDrop(): void {
    for (const waiter of [...this.dropWaiters]) waiter()
    this.dropWaiters.clear()
  }

  /**
   * Stops accepting at once. `server.close()` calls back only when every accepted connection
   * has ended, so wait for that only when the connections are being destroyed anyway.
   */
  private closeListener(waitForConnections = false): Promise<void> {
    const server = this.server
    this.server = undefined
    if (!server) return Promise.resolve()
    return new Promise((resolve) => {
      server.close(() => resolve())
      if (!waitForConnections) resolve()
    })
  }
}

/** One client connection and its upstream connection. */
class Link {
  readonly up: Pipe
  readonly down: Pipe
  /** Set when a drop is pending: nothing more is forwarded, and the drop decides how it ends. */
  pendingDrop: DropHow | undefined
  private closed = false

  get frozen(): boolean {
    return this.closed || this.pendingDrop !== undefined
  }

  constructor(
    readonly proxy: Proxy,
    readonly id: number,
    readonly client: Socket,
    readonly server: Socket | undefined,
  ) {
    this.up = new Pipe(this, 'up', client, server)
    this.down = new Pipe(this, 'down', server, client)
    // An error on one side (e.g. the server is down) resets the other; a close closes it. While
    // a drop is pending (e.g. the server said BYE and closed during the grace period), the drop
    // decides.
    const onError = (): void => this.destroy(this.pendingDrop ?? 'reset')
    const onClose = (): void => this.destroy(this.pendingDrop ?? 'end')
    client.on('error', onError)
    client.on('close', onClose)
    if (server) {
      server.on('error', onError)
      server.on('close', onClose)
      // The client is paused until the upstream connection exists (pauseOnConnect).
      server.once('connect', () => client.resume())
    }
  }

  destroy(how: DropHow): void {
    if (this.closed) return
    this.closed = true
    for (const socket of [this.client, this.server]) {
      if (!socket || socket.destroyed) continue
      if (how === 'reset') socket.resetAndDestroy()
      else socket.end(() => socket.destroy())
    }
    this.proxy.removeLink(this)
  }
}

/**
 * The proxy hides COMPRESS (RFC 4978) from the capabilities a server announces: a client that
 * compressed the session (imapflow does when Cyrus offers COMPRESS=DEFLATE) would make every
 * byte after it opaque, so no command could be counted and no literal found. Announcements come
 * at the start of a connection (greeting, CAPABILITY, the OK of LOGIN or AUTHENTICATE); only
 * that much of each connection is looked at, so message bytes are never touched.
 */
const ANNOUNCEMENT_BYTES = 16 * 1024

function withoutCompress(chunk: Buffer): Buffer {
  if (!chunk.includes('COMPRESS=')) return chunk
  return Buffer.from(chunk.toString('latin1').replace(/ COMPRESS=[A-Za-z0-9_-]+/g, ''), 'latin1')
}

/** One direction of a link: queue, framing, faults, throttle, backpressure. */
class Pipe {
  private queue: Buffer[] = []
  private queued = 0
  private waitingForDrain = false
  private timer: NodeJS.Timeout | undefined
  private received = 0
  private forwarded = 0
  /** dropInLiteral: stream offset at which to cut this connection. */
  literalCut: number | undefined
  private readonly scanner: ImapFrameScanner
  private commandParts: string[] = []

  constructor(
    private readonly link: Link,
    private readonly direction: 'up' | 'down',
    private readonly source: Socket | undefined,
    private readonly dest: Socket | undefined,
  ) {
    this.scanner = new ImapFrameScanner({
      line: (text, continues) => this.onLine(text, continues),
      literalStart: (size, start) => this.onLiteral(size, start),
    })
    source?.on('data', (chunk: Buffer) => this.receive(chunk))
    dest?.on('drain', () => {
      this.waitingForDrain = false
      this.pump()
    })
  }

  private chunkBase = 0

  private receive(chunk: Buffer): void {
    if (this.direction === 'down' && this.received < ANNOUNCEMENT_BYTES) chunk = withoutCompress(chunk)
    this.chunkBase = this.received
    this.received += chunk.length
    // Scan before queueing, so onCommand listeners run before the command is forwarded.
    this.scanner.push(chunk)
    if (this.link.frozen) return // a listener dropped the connection
    this.queue.push(chunk)
    this.queued += chunk.length
    if (this.queued > HIGH_WATER) this.source?.pause()
    this.pump()
  }

  private onLine(text: Buffer, continues: boolean): void {
    const proxy = this.link.proxy
    const stats = this.direction === 'up' ? proxy.stats.clientToServer : proxy.stats.serverToClient
    stats.lines++
    if (this.direction !== 'up') return
    this.commandParts.push(text.toString('utf8'))
    if (continues) return
    const line = this.commandParts.join('')
    this.commandParts = []
    const parsed = parseCommand(line)
    proxy.recordCommand({connection: this.link.id, ...parsed, line: withoutCredentials(line, parsed)})
  }

  private onLiteral(size: number, start: number): void {
    const trigger = this.link.proxy.trigger
    if (this.direction !== 'down' || trigger?.kind !== 'literal' || this.literalCut !== undefined) return
    if (size < trigger.minSize) return
    const offset = Math.min(size - 1, trigger.offset ?? Math.floor(size / 2))
    this.literalCut = this.chunkBase + start + offset
  }

  pump(): void {
    const proxy = this.link.proxy
    while (this.queued > 0 && this.dest && !this.waitingForDrain && !this.link.frozen) {
      if (proxy.stalled) return // resume() pumps again
      let size = Math.min(this.queue[0]!.length, proxy.throttleSlice)
      // Faults: cut exactly at the armed byte.
      const trigger = proxy.trigger
      let fire = false
      if (this.direction === 'down' && trigger?.kind === 'after' && size >= trigger.remaining) {
        size = trigger.remaining
        fire = true
      }
      if (this.direction === 'down' && this.literalCut !== undefined && trigger?.kind === 'literal' && this.forwarded + size >= this.literalCut) {
        size = this.literalCut - this.forwarded
        fire = true
      }
      const delay = size > 0 ? proxy.throttleDelay(this.direction, size) : 0
      if (delay > 0) {
        clearTimeout(this.timer)
        this.timer = setTimeout(() => this.pump(), delay)
        return
      }
      const slice = this.take(size)
      const written = new Promise<void>((resolve) => {
        if (slice.length === 0) resolve()
        else if (!this.dest!.write(slice, () => resolve())) this.waitingForDrain = true
      })
      this.forwarded += slice.length
      const stats = this.direction === 'up' ? proxy.stats.clientToServer : proxy.stats.serverToClient
      stats.bytes += slice.length
      if (this.direction === 'down' && trigger?.kind === 'after') trigger.remaining -= slice.length
      if (fire) {
        this.literalCut = undefined
        proxy.fire(trigger!, written)
        return
      }
    }
    if (this.queued < LOW_WATER && this.source?.isPaused() && !this.link.frozen) this.source.resume()
  }

  private take(size: number): Buffer {
    const head = this.queue[0]!
    if (size >= head.length) {
      this.queue.shift()
      this.queued -= head.length
      return head
    }
    this.queue[0] = head.subarray(size)
    this.queued -= size
    return head.subarray(0, size)
  }
}

/**
 * The line as it is recorded: LOGIN without its arguments, AUTHENTICATE without its initial
 * response (SASL-IR) and a SASL continuation not at all, so that a test that prints what crossed
 * the proxy (in a failure message) never prints a password (.ci/run scans all output).
 */
function withoutCredentials(line: string, {tag, name}: {tag: string; name: string}): string {
  if (name === 'LOGIN') return `${tag} LOGIN (credentials hidden)`
  if (name === 'AUTHENTICATE') {
    const [, , mechanism, ...rest] = line.split(' ')
    return `${tag} AUTHENTICATE ${mechanism ?? ''}${rest.length > 0 ? ' (initial response hidden)' : ''}`
  }
  if (tag === '' && name === '') return '(SASL response)'
  return line
}

function parseCommand(line: string): {tag: string; name: string} {
  const words = line.split(' ')
  if (words.length === 1) return {tag: '', name: line.trim().toUpperCase() === 'DONE' ? 'DONE' : ''}
  const tag = words[0]!
  let name = (words[1] ?? '').toUpperCase()
  if (name === 'UID' && words[2]) name += ` ${words[2].toUpperCase()}`
  return {tag, name}
}

function emptyStats(): ProxyStats {
  return {clientToServer: {bytes: 0, lines: 0}, serverToClient: {bytes: 0, lines: 0}, connections: 0, active: 0, drops: 0}
}
