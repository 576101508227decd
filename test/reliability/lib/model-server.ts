/**
 * A scriptable IMAP server with a mailbox model, on loopback, for the hostile-server scenarios:
 * it answers what `mailkeep backup` sends (LIST, STATUS, EXAMINE/SELECT, UID SEARCH, UID FETCH
 * with whole and partial bodies) from folders held in memory, and lets a scenario replace any
 * answer (`hostile`) to send garbage, lie about literal sizes, add UIDs nobody asked for, change
 * UIDVALIDITY between two commands, name folders `../..`, or announce a 2 GB literal. Built on
 * test/imap/fake-server.ts (greeting, LOGIN, LOGOUT, NOOP).
 */
import {startFakeServer, type FakeCommand, type FakeConnection, type FakeServer} from '../../imap/fake-server.js'

export interface ModelMessage {
  uid: number
  flags: string[]
  raw: Buffer
}

export interface ModelFolder {
  /** The name as it goes on the wire after `LIST () "/" `: a quoted string or a literal. */
  wire: string
  /** The name as a client decodes it (what the local backup is named after). */
  name: string
  uidValidity: number
  messages: ModelMessage[]
}

export interface HostileHooks {
  /**
   * Called before the model answers; return true when the hook answered (or dropped the
   * connection) itself. `connection` counts connections from 1.
   */
  before?: (command: FakeCommand, conn: FakeConnection, state: ConnectionState) => boolean | Promise<boolean>
  /** Extra untagged lines (already framed) sent before the tagged OK of a UID FETCH. */
  extraFetch?: (command: FakeCommand, state: ConnectionState) => Array<string | Buffer>
  /** The UIDVALIDITY to announce for a folder on this connection (default: the model's). */
  uidValidity?: (folder: ModelFolder, state: ConnectionState) => number
  /** The messages of a folder as seen on this connection (default: the model's). */
  messages?: (folder: ModelFolder, state: ConnectionState) => ModelMessage[]
}

export interface ConnectionState {
  connection: number
  selected: ModelFolder | undefined
}

export interface ModelServer {
  readonly host: string
  readonly port: number
  fake: FakeServer
  folders: ModelFolder[]
  hooks: HostileHooks
  close(): Promise<void>
}

export const MODEL_PASSWORD = 'model-Pw-3b91e0'
const CAPABILITIES = 'IMAP4rev1 LITERAL+ AUTH=PLAIN'

export async function startModelServer(folders: ModelFolder[], hooks: HostileHooks = {}, options: {capabilities?: string} = {}): Promise<ModelServer> {
  const model: ModelServer = {host: '', port: 0, fake: undefined as unknown as FakeServer, folders, hooks, close: async () => undefined}
  let connections = 0
  const states = new WeakMap<FakeConnection, ConnectionState>()
  const fake = await startFakeServer({
    capabilities: options.capabilities ?? CAPABILITIES,
    password: MODEL_PASSWORD,
    onCommand: async (command, conn) => {
      let state = states.get(conn)
      if (state === undefined) {
        state = {connection: ++connections, selected: undefined}
        states.set(conn, state)
      }
      if (model.hooks.before !== undefined && (await model.hooks.before(command, conn, state))) return true
      return answer(model, command, conn, state)
    },
  })
  model.fake = fake
  Object.assign(model, {host: fake.host, port: fake.port, close: () => fake.close()})
  return model
}

/** A folder whose wire name is a plain quoted string. */
export function folder(name: string, uidValidity: number, messages: ModelMessage[]): ModelFolder {
  return {wire: quoted(name), name, uidValidity, messages}
}

export function quoted(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`
}

export function messagesOf(folder: ModelFolder, model: ModelServer, state: ConnectionState): ModelMessage[] {
  return model.hooks.messages?.(folder, state) ?? folder.messages
}

/** The model's answer; false for what the fake server's defaults handle (LOGIN, LOGOUT, NOOP). */
function answer(model: ModelServer, command: FakeCommand, conn: FakeConnection, state: ConnectionState): boolean {
  switch (command.name) {
    case 'LIST': {
      // `LIST "" ""` asks for the hierarchy delimiter (RFC 3501 §6.3.8).
      if (/^"" ""$/.test(command.args.trim())) {
        conn.send('* LIST (\\Noselect) "/" ""\r\n')
        conn.ok(command)
        return true
      }
      for (const f of model.folders) conn.send(`* LIST (\\HasNoChildren) "/" ${f.wire}\r\n`)
      conn.ok(command)
      return true
    }
    case 'STATUS': {
      const f = findFolder(model, command.args)
      if (f === undefined) return noSuchFolder(conn, command)
      const messages = messagesOf(f, model, state)
      const validity = model.hooks.uidValidity?.(f, state) ?? f.uidValidity
      conn.send(`* STATUS ${f.wire} (UIDVALIDITY ${validity} UIDNEXT ${uidNext(messages)} MESSAGES ${messages.length})\r\n`)
      conn.ok(command)
      return true
    }
    case 'EXAMINE':
    case 'SELECT': {
      const f = findFolder(model, command.args)
      if (f === undefined) return noSuchFolder(conn, command)
      state.selected = f
      const messages = messagesOf(f, model, state)
      const validity = model.hooks.uidValidity?.(f, state) ?? f.uidValidity
      conn.send(`* FLAGS (\\Seen \\Flagged \\Answered \\Draft \\Deleted)\r\n* ${messages.length} EXISTS\r\n* 0 RECENT\r\n`)
      conn.send(`* OK [UIDVALIDITY ${validity}] ok\r\n* OK [UIDNEXT ${uidNext(messages)}] ok\r\n* OK [PERMANENTFLAGS ()] ok\r\n`)
      conn.ok(command, command.name === 'SELECT' ? '[READ-WRITE] done' : '[READ-ONLY] done')
      return true
    }
    case 'UID SEARCH': {
      const messages = state.selected === undefined ? [] : messagesOf(state.selected, model, state)
      conn.send(`* SEARCH ${search(messages, command.args).join(' ')}\r\n`.replace(' \r\n', '\r\n'))
      conn.ok(command)
      return true
    }
    case 'UID FETCH': {
      const messages = state.selected === undefined ? [] : messagesOf(state.selected, model, state)
      const [set = '', ...rest] = command.args.split(' ')
      const items = rest.join(' ')
      const wanted = uidMatcher(set)
      for (const [i, m] of messages.entries()) if (wanted(m.uid)) conn.send(fetchResponse(i + 1, m, items))
      for (const extra of model.hooks.extraFetch?.(command, state) ?? []) conn.send(extra)
      conn.ok(command)
      return true
    }
    case 'CLOSE':
    case 'UNSELECT':
      state.selected = undefined
      conn.ok(command)
      return true
    default:
      return false
  }
}

function noSuchFolder(conn: FakeConnection, command: FakeCommand): boolean {
  conn.send(`${command.tag} NO [NONEXISTENT] Mailbox doesn't exist\r\n`)
  return true
}

/** The folder named by the first argument (quoted, atom or literal already inlined). */
function findFolder(model: ModelServer, args: string): ModelFolder | undefined {
  const name = firstArgument(args)
  // A literal argument arrives inlined: the name, then the rest of the command (STATUS items).
  return model.folders.find((f) => f.name === name || firstArgument(f.wire) === name || args === f.name || args.startsWith(`${f.name} (`))
}

/** A folder whose wire name is a literal (any bytes: CR, LF, NUL). */
export function literalFolder(name: string, uidValidity: number, messages: ModelMessage[]): ModelFolder {
  return {wire: `{${Buffer.byteLength(name)}}\r\n${name}`, name, uidValidity, messages}
}

function firstArgument(args: string): string {
  if (args.startsWith('"')) {
    let out = ''
    for (let i = 1; i < args.length; i++) {
      const c = args[i]!
      if (c === '\\') out += args[++i] ?? ''
      else if (c === '"') return out
      else out += c
    }
    return out
  }
  return args.split(' ')[0] ?? ''
}

export function uidNext(messages: readonly ModelMessage[]): number {
  return messages.reduce((n, m) => Math.max(n, m.uid + 1), 1)
}

/** UID SEARCH with the criteria mailkeep uses: ALL, UID set, LARGER n, UNSEEN. */
function search(messages: readonly ModelMessage[], args: string): number[] {
  let out = [...messages]
  const words = args.split(' ')
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!.toUpperCase()
    if (word === 'UID') {
      const match = uidMatcher(words[++i] ?? '')
      out = out.filter((m) => match(m.uid))
    } else if (word === 'LARGER') {
      const n = Number(words[++i])
      out = out.filter((m) => m.raw.length > n)
    } else if (word === 'UNSEEN') {
      out = out.filter((m) => !m.flags.includes('\\Seen'))
    }
  }
  return out.map((m) => m.uid)
}

export function uidMatcher(set: string): (uid: number) => boolean {
  const ranges = set.split(',').map((part) => {
    const [a = '', b = a] = part.split(':')
    const lo = a === '*' ? Infinity : Number(a)
    const hi = b === '*' ? Infinity : Number(b)
    return [Math.min(lo, hi), Math.max(lo, hi)] as const
  })
  return (uid) => ranges.some(([lo, hi]) => uid >= lo && uid <= hi)
}

/** `* n FETCH (...)` with the items asked for; a partial BODY.PEEK[]<o.l> is honoured. */
export function fetchResponse(seq: number, m: ModelMessage, items: string): Buffer {
  const parts: Array<string | Buffer> = [`* ${seq} FETCH (UID ${m.uid}`]
  const upper = items.toUpperCase()
  if (upper.includes('FLAGS')) parts.push(` FLAGS (${m.flags.join(' ')})`)
  if (upper.includes('INTERNALDATE')) parts.push(' INTERNALDATE "01-Jan-2024 10:00:00 +0000"')
  if (upper.includes('RFC822.SIZE')) parts.push(` RFC822.SIZE ${m.raw.length}`)
  const partial = /BODY\.PEEK\[\]<(\d+)\.(\d+)>/i.exec(items)
  if (partial !== null) {
    const start = Number(partial[1])
    const body = m.raw.subarray(start, start + Number(partial[2]))
    parts.push(` BODY[]<${start}> {${body.length}}\r\n`, body)
  } else if (/BODY\.PEEK\[\]/i.test(items)) {
    parts.push(` BODY[] {${m.raw.length}}\r\n`, m.raw)
  }
  parts.push(')\r\n')
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p)))
}

/** A small distinct message. */
export function modelMessage(uid: number, tag: string, size = 200): ModelMessage {
  const head = `From: model@example.test\r\nSubject: ${tag} ${uid}\r\nMessage-ID: <${tag}-${uid}@model.test>\r\n\r\n`
  const body = `${tag} body of ${uid}\r\n`.repeat(Math.max(1, Math.ceil((size - head.length) / 24)))
  return {uid, flags: uid % 2 === 0 ? ['\\Seen'] : [], raw: Buffer.from(head + body)}
}
