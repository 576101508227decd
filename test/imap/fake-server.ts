/**
 * A tiny scriptable IMAP server on loopback, for what Dovecot will not do: garbage, a BYE in
 * the middle of a FETCH, a literal cut short, OAuth mechanisms, a server without ID or
 * AUTH=PLAIN. It speaks just enough IMAP4rev1 to get a client logged in and a folder opened;
 * each test scripts the rest through `onCommand`.
 */
import {createServer, type Server, type Socket} from 'node:net'
import {LOOPBACK} from '../support/ports.js'

export interface FakeCommand {
  tag: string
  /** Upper case, `UID FETCH` for UID commands. */
  name: string
  /** The rest of the line after the command name (literals inlined as text). */
  args: string
  line: string
}

export interface FakeConnection {
  send(data: string | Buffer): void
  /** `tag OK text` */
  ok(command: FakeCommand, text?: string): void
  end(): void
  destroy(): void
  readonly socket: Socket
}

export interface FakeServerOptions {
  /** Capabilities after login (and in the greeting). */
  capabilities?: string
  /** Accepts the login: a password for LOGIN / AUTHENTICATE PLAIN. */
  password?: string
  /** Accepted OAuth tokens (XOAUTH2 / OAUTHBEARER). */
  tokens?: string[]
  /** Sent instead of the usual greeting. */
  greeting?: string
  /** Return true when the command was handled. */
  onCommand?: (command: FakeCommand, connection: FakeConnection) => boolean | Promise<boolean>
}

export interface FakeServer {
  readonly host: string
  readonly port: number
  /** Every command line received, in order, over all connections. */
  readonly commands: FakeCommand[]
  /** Decoded OAuth payloads received. */
  readonly oauth: Array<{mechanism: string; token: string; user: string}>
  close(): Promise<void>
}

const DEFAULT_CAPABILITIES = 'IMAP4rev1 SASL-IR ID ENABLE UIDPLUS LITERAL+ AUTH=PLAIN'

export async function startFakeServer(options: FakeServerOptions = {}): Promise<FakeServer> {
  const commands: FakeCommand[] = []
  const oauth: FakeServer['oauth'] = []
  const sockets = new Set<Socket>()
  const capabilities = options.capabilities ?? DEFAULT_CAPABILITIES
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => undefined)
    const connection: FakeConnection = {
      socket,
      send: (data) => {
        if (!socket.destroyed) socket.write(data)
      },
      ok: (command, text = 'done') => connection.send(`${command.tag} OK ${text}\r\n`),
      end: () => socket.end(),
      destroy: () => socket.destroy(),
    }
    connection.send(options.greeting ?? `* OK [CAPABILITY ${capabilities}] fake server ready\r\n`)
    let buffer = Buffer.alloc(0)
    let literal = 0
    let parts: string[] = []
    let pendingSasl: ((line: string) => void) | undefined
    let queue = Promise.resolve()
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk])
      for (;;) {
        if (literal > 0) {
          if (buffer.length < literal) return
          parts.push(buffer.subarray(0, literal).toString('latin1'))
          buffer = buffer.subarray(literal)
          literal = 0
          continue
        }
        const lf = buffer.indexOf(0x0a)
        if (lf < 0) return
        const line = buffer.subarray(0, lf).toString('latin1').replace(/\r$/, '')
        buffer = buffer.subarray(lf + 1)
        const marker = /\{(\d+)(\+?)\}$/.exec(line)
        if (marker) {
          parts.push(line.slice(0, marker.index))
          literal = Number(marker[1])
          if (marker[2] !== '+') connection.send('+ go ahead\r\n')
          if (literal > 0) continue
        }
        parts.push(marker ? '' : line)
        const full = parts.join('')
        parts = []
        if (pendingSasl) {
          const reply = pendingSasl
          pendingSasl = undefined
          reply(full)
          continue
        }
        const command = parse(full)
        commands.push(command)
        queue = queue.then(() => handle(command)).catch(() => connection.destroy())
      }
    })
    const saslLine = (): Promise<string> => new Promise((resolve) => (pendingSasl = resolve))

    async function handle(command: FakeCommand): Promise<void> {
      if (options.onCommand && (await options.onCommand(command, connection))) return
      switch (command.name) {
        case 'CAPABILITY':
          connection.send(`* CAPABILITY ${capabilities}\r\n`)
          return connection.ok(command)
        case 'LOGIN': {
          const [, pass] = /^"?[^" ]*"? "((?:[^"\\]|\\.)*)"$/.exec(command.args) ?? []
          const password = pass?.replace(/\\(.)/g, '$1')
          if (password === options.password) return connection.ok(command, `[CAPABILITY ${capabilities}] Logged in`)
          return connection.send(`${command.tag} NO [AUTHENTICATIONFAILED] Authentication failed.\r\n`)
        }
        case 'AUTHENTICATE': {
          const [mechanism, initial] = command.args.split(' ')
          let response = initial
          if (response === undefined) {
            connection.send('+ \r\n')
            response = await saslLine()
          }
          const decoded = Buffer.from(response, 'base64').toString('utf8')
          let accepted = false
          if (mechanism?.toUpperCase() === 'PLAIN') {
            accepted = decoded.split('\0')[2] === options.password
          } else {
            // Fields are separated by ^A (0x01), RFC 7628 §3.1.
            const fields = decoded.split('\x01')
            const token = fields.find((f) => f.startsWith('auth=Bearer '))?.slice('auth=Bearer '.length) ?? ''
            const user = fields.find((f) => f.startsWith('user='))?.slice(5) ?? /a=([^,]*),/.exec(decoded)?.[1] ?? ''
            oauth.push({mechanism: mechanism!.toUpperCase(), token, user})
            accepted = (options.tokens ?? []).includes(token)
            if (!accepted) {
              // RFC 7628 §3.2.2: an error challenge, answered by the client with a dummy line.
              connection.send(`+ ${Buffer.from('{"status":"401","schemes":"bearer"}').toString('base64')}\r\n`)
              await saslLine()
            }
          }
          if (accepted) return connection.ok(command, `[CAPABILITY ${capabilities}] Logged in`)
          return connection.send(`${command.tag} NO [AUTHENTICATIONFAILED] Authentication failed.\r\n`)
        }
        case 'ID':
          connection.send('* ID ("name" "fake")\r\n')
          return connection.ok(command)
        case 'NAMESPACE':
          connection.send('* NAMESPACE (("" "/")) NIL NIL\r\n')
          return connection.ok(command)
        case 'ENABLE':
          return connection.ok(command)
        case 'NOOP':
          return connection.ok(command)
        case 'SELECT':
        case 'EXAMINE':
          connection.send('* 3 EXISTS\r\n* OK [UIDVALIDITY 42] ok\r\n* OK [UIDNEXT 4] ok\r\n')
          return connection.ok(command, command.name === 'SELECT' ? '[READ-WRITE] done' : '[READ-ONLY] done')
        case 'LOGOUT':
          connection.send('* BYE bye\r\n')
          connection.ok(command)
          return connection.end()
        default:
          connection.send(`${command.tag} BAD unknown command\r\n`)
      }
    }
  })
  await new Promise<void>((resolve) => server.listen({host: LOOPBACK, port: 0}, resolve))
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  return {
    host: LOOPBACK,
    port,
    commands,
    oauth,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

function parse(line: string): FakeCommand {
  const [tag = '', word = '', ...rest] = line.split(' ')
  let name = word.toUpperCase()
  let args = rest.join(' ')
  if (name === 'UID' && rest.length > 0) {
    name = `UID ${rest[0]!.toUpperCase()}`
    args = rest.slice(1).join(' ')
  }
  return {tag, name, args, line}
}

/**
 * Writes `total` bytes of junk (`x`) to the client as fast as it reads them, until it goes
 * away: the body of a literal a hostile server announces and then sends.
 */
export function streamJunk(socket: Socket, total: number): void {
  const chunk = Buffer.alloc(256 * 1024, 0x78)
  let sent = 0
  const pump = (): void => {
    while (sent < total && !socket.destroyed) {
      sent += chunk.length
      if (!socket.write(chunk)) {
        socket.once('drain', pump)
        return
      }
    }
  }
  pump()
}
