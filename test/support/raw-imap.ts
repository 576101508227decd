/**
 * A tiny IMAP4rev1 client over `node:net` (RFC 3501) for tests that need exact control over what
 * is sent: seeding (MULTIAPPEND with LITERAL+, RFC 3502 / RFC 7888), checking the server's view
 * of a mailbox independently of the code under test (which uses imapflow), and provoking odd
 * protocol situations. It is deliberately small: one command at a time, no TLS, no IDLE.
 *
 * The stream framing (lines and `{n}` literals) lives in `ImapFrameScanner`, shared with the
 * fault-injecting proxy so that both agree on where a literal starts and ends.
 */
import {connect, type Socket} from 'node:net'

// ---------------------------------------------------------------------------------------------
// Framing

/** `{n}`, `{n+}`, `{n-}` (RFC 7888) or `~{n}` (RFC 3516) at the end of a line announces n bytes. */
const LITERAL_AT_END = /~?\{(\d+)[+-]?\}$/

export interface FrameHandlers {
  /**
   * One line without its CRLF (or LF). `continues` is true when it ends with a literal marker, so
   * the response or command goes on after the literal. `end` is the offset in the current chunk
   * just after the line's LF.
   */
  line?(text: Buffer, continues: boolean, end: number): void
  /** A literal of `size` bytes begins at offset `start` of the current chunk (may equal its length). */
  literalStart?(size: number, start: number): void
  literalData?(data: Buffer): void
  /** The literal ended at offset `end` of the current chunk. */
  literalEnd?(end: number): void
}

/**
 * Splits an IMAP byte stream (either direction) into lines and literals without buffering
 * literal bytes, so it copes with messages of any size. Offsets passed to the handlers refer
 * to the chunk given to the current `push` call.
 *
 * Limitation: a synchronizing literal that the server refuses (tagged NO instead of `+`) is
 * never sent by the client, and the scanner of the client→server direction then takes the next
 * command for literal bytes. Our tests use LITERAL+ or servers that accept.
 */
export class ImapFrameScanner {
  private lineParts: Buffer[] = []
  private literalLeft = 0

  constructor(private readonly handlers: FrameHandlers) {}

  /** True while inside a literal; `literalRemaining` bytes of it are still to come. */
  get inLiteral(): boolean {
    return this.literalLeft > 0
  }

  get literalRemaining(): number {
    return this.literalLeft
  }

  push(chunk: Buffer): void {
    let pos = 0
    while (pos < chunk.length) {
      if (this.literalLeft > 0) {
        const take = Math.min(this.literalLeft, chunk.length - pos)
        this.handlers.literalData?.(chunk.subarray(pos, pos + take))
        this.literalLeft -= take
        pos += take
        if (this.literalLeft === 0) this.handlers.literalEnd?.(pos)
        continue
      }
      const lf = chunk.indexOf(0x0a, pos)
      if (lf === -1) {
        this.lineParts.push(chunk.subarray(pos))
        return
      }
      this.lineParts.push(chunk.subarray(pos, lf))
      pos = lf + 1
      let line = this.lineParts.length === 1 ? this.lineParts[0]! : Buffer.concat(this.lineParts)
      this.lineParts = []
      if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1)
      const match = LITERAL_AT_END.exec(line.subarray(Math.max(0, line.length - 24)).toString('latin1'))
      const size = match ? Number(match[1]) : -1
      this.handlers.line?.(line, size >= 0, pos)
      if (size > 0) {
        this.literalLeft = size
        this.handlers.literalStart?.(size, pos)
      } else if (size === 0) {
        this.handlers.literalStart?.(0, pos)
        this.handlers.literalEnd?.(pos)
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing

/** Atoms and quoted strings are strings, literals are Buffers, NIL is null, lists are arrays. */
export type ImapValue = string | Buffer | null | ImapValue[]

export interface ImapResponse {
  /** `*` (untagged), `+` (continuation) or the command's tag. */
  tag: string
  /** The number of `* 3 FETCH`, `* 12 EXISTS`; undefined otherwise. */
  number?: number
  /** Upper-case response name: OK, NO, BAD, BYE, PREAUTH, FETCH, LIST, STATUS, SEARCH, … */
  kind: string
  /** For status responses: the response code without brackets, e.g. `APPENDUID 17 1:5`. */
  code?: string
  /** For status and continuation responses: the human-readable text after the code. */
  text: string
  /** For data responses: the parsed values after `kind`. */
  values: ImapValue[]
  /** The whole response as received, literals included. */
  raw: Buffer
}

const STATUS_KINDS = new Set(['OK', 'NO', 'BAD', 'BYE', 'PREAUTH'])

export function parseResponse(raw: Buffer): ImapResponse {
  const reader = new ValueReader(raw)
  const tag = reader.atom()
  if (tag === '+') return {tag, kind: '+', text: reader.rest(), values: [], raw}
  let kind = reader.atom().toUpperCase()
  let number: number | undefined
  if (/^\d+$/.test(kind)) {
    number = Number(kind)
    kind = reader.atom().toUpperCase()
  }
  if (STATUS_KINDS.has(kind)) {
    const rest = reader.rest()
    const coded = /^\[([^\]]*)\]\s?(.*)$/s.exec(rest)
    return coded
      ? {tag, number, kind, code: coded[1], text: coded[2] ?? '', values: [], raw}
      : {tag, number, kind, text: rest, values: [], raw}
  }
  return {tag, number, kind, text: '', values: reader.values(), raw}
}

class ValueReader {
  private pos = 0

  constructor(private readonly buf: Buffer) {}

  atom(): string {
    this.skipSpaces()
    const start = this.pos
    let depth = 0
    while (this.pos < this.buf.length) {
      const c = this.buf[this.pos]!
      if (c === 0x5b) depth++ // '[' of BODY[...] or a response code
      else if (c === 0x5d) depth--
      else if (depth <= 0 && (c === 0x20 || c === 0x28 || c === 0x29 || c === 0x0d || c === 0x0a)) break
      this.pos++
    }
    return this.buf.toString('utf8', start, this.pos)
  }

  rest(): string {
    this.skipSpaces()
    return this.buf.toString('utf8', this.pos).replace(/\r?\n$/, '')
  }

  values(): ImapValue[] {
    const out: ImapValue[] = []
    for (;;) {
      this.skipSpaces()
      const c = this.buf[this.pos]
      if (c === undefined || c === 0x0d || c === 0x0a || c === 0x29) return out
      out.push(this.value())
    }
  }

  private value(): ImapValue {
    const c = this.buf[this.pos]
    if (c === 0x28) {
      this.pos++
      const list = this.values()
      if (this.buf[this.pos] === 0x29) this.pos++
      return list
    }
    if (c === 0x22) return this.quoted()
    if (c === 0x7b || (c === 0x7e && this.buf[this.pos + 1] === 0x7b)) return this.literal()
    const atom = this.atom()
    return atom.toUpperCase() === 'NIL' ? null : atom
  }

  private quoted(): string {
    const bytes: number[] = []
    this.pos++
    while (this.pos < this.buf.length) {
      const c = this.buf[this.pos++]!
      if (c === 0x22) break
      if (c === 0x5c && this.pos < this.buf.length) bytes.push(this.buf[this.pos++]!)
      else bytes.push(c)
    }
    return Buffer.from(bytes).toString('utf8')
  }

  private literal(): Buffer {
    const close = this.buf.indexOf(0x7d, this.pos)
    const size = Number(/\d+/.exec(this.buf.toString('latin1', this.pos, close))?.[0])
    let start = close + 1
    if (this.buf[start] === 0x0d) start++
    if (this.buf[start] === 0x0a) start++
    this.pos = start + size
    return this.buf.subarray(start, start + size)
  }

  private skipSpaces(): void {
    while (this.buf[this.pos] === 0x20) this.pos++
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers for building commands and reading values

/** Modified UTF-7 for mailbox names (RFC 3501 §5.1.3). */
export function encodeMailboxName(name: string): string {
  let out = ''
  let run = ''
  const flush = (): void => {
    if (run === '') return
    const utf16 = Buffer.from(run, 'utf16le').swap16()
    out += '&' + utf16.toString('base64').replace(/=+$/, '').replace(/\//g, ',') + '-'
    run = ''
  }
  for (const ch of name) {
    const code = ch.codePointAt(0)!
    if (code >= 0x20 && code <= 0x7e) {
      flush()
      out += ch === '&' ? '&-' : ch
    } else {
      run += ch
    }
  }
  flush()
  return out
}

export function decodeMailboxName(name: string): string {
  return name.replace(/&([^-]*)-/g, (_, b64: string) => {
    if (b64 === '') return '&'
    const bytes = Buffer.from(b64.replace(/,/g, '/'), 'base64')
    return Buffer.from(bytes).swap16().toString('utf16le')
  })
}

/**
 * An astring argument: a quoted string when that is possible, otherwise a literal (a Buffer,
 * which `command()` sends as a literal).
 */
export function astring(value: string): string | Buffer {
  const quotable = [...value].every((ch) => ch >= ' ' && ch <= '~')
  if (!quotable) return Buffer.from(value, 'utf8')
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`
}

/** A mailbox argument: modified UTF-7, then quoted. */
export function mailboxArg(name: string): string {
  return astring(encodeMailboxName(name)) as string
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/** An IMAP date-time (RFC 3501 §9), always written in UTC. */
export function formatInternalDate(date: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0')
  return `"${p(date.getUTCDate())}-${MONTHS[date.getUTCMonth()]}-${date.getUTCFullYear()} ${p(date.getUTCHours())}:${p(
    date.getUTCMinutes(),
  )}:${p(date.getUTCSeconds())} +0000"`
}

export function parseInternalDate(text: string): Date {
  const m = /^\s?(\d{1,2})-(\w{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(text)
  const month = m ? MONTHS.indexOf(m[2]!) : -1
  if (!m || month < 0) throw new Error(`not an IMAP date-time: ${JSON.stringify(text)}`)
  const offsetMinutes = (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9]))
  const utc = Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]))
  return new Date(utc - offsetMinutes * 60_000)
}

/** A compact sequence set (`1:5,9,12:14`) from a list of numbers. */
export function sequenceSet(numbers: readonly number[]): string {
  const sorted = [...new Set(numbers)].sort((a, b) => a - b)
  const parts: string[] = []
  for (let i = 0; i < sorted.length; ) {
    let j = i
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}:${sorted[j]}`)
    i = j + 1
  }
  return parts.join(',')
}

/** Expands a sequence set as the server wrote it (order kept; `5:3` counts down, RFC 4315 §3). */
export function expandSequenceSet(set: string): number[] {
  const out: number[] = []
  for (const part of set.split(',')) {
    const [a, b] = part.split(':').map(Number)
    if (a === undefined || Number.isNaN(a)) throw new Error(`bad sequence set ${JSON.stringify(set)}`)
    if (b === undefined) out.push(a)
    else for (let n = a; a <= b ? n <= b : n >= b; n += a <= b ? 1 : -1) out.push(n)
  }
  return out
}

/** Turns the list of a FETCH response into a map keyed by upper-case item name. */
export function fetchItems(response: ImapResponse): Map<string, ImapValue> {
  const list = response.values[0]
  const items = new Map<string, ImapValue>()
  if (!Array.isArray(list)) return items
  for (let i = 0; i + 1 < list.length; i += 2) items.set(String(list[i]).toUpperCase(), list[i + 1]!)
  return items
}

export function valueText(value: ImapValue | undefined): string {
  if (typeof value === 'string') return value
  if (Buffer.isBuffer(value)) return value.toString('utf8')
  throw new Error(`expected a string, got ${JSON.stringify(value)}`)
}

// ---------------------------------------------------------------------------------------------
// The client

export interface RawImapOptions {
  host: string
  port: number
  /** Per-command (and connect) timeout; the connection is destroyed when it passes. */
  timeoutMs?: number
  /**
   * Send literals as `{n+}` without waiting for `+` (RFC 7888). Default: when the server
   * announced LITERAL+ (Dovecot and Cyrus do, Courier does not). Dovecot accepts LITERAL+ even
   * when a capability override hides it; set false to exercise synchronizing literals.
   */
  literalPlus?: boolean
}

export interface CommandResult {
  tagged: ImapResponse
  untagged: ImapResponse[]
}

export class ImapCommandError extends Error {
  constructor(
    readonly command: string,
    readonly response: ImapResponse,
  ) {
    super(`${command} failed: ${response.kind}${response.code ? ` [${response.code}]` : ''} ${response.text}`)
    this.name = 'ImapCommandError'
  }
}

/** A command: strings are sent as they are, Buffers as literals. */
export type CommandPart = string | Buffer

interface Pending {
  tag: string
  name: string
  untagged: ImapResponse[]
  resolve(result: CommandResult): void
  reject(error: Error): void
}

export class RawImapClient {
  greeting!: ImapResponse
  capabilities = new Set<string>()
  /** Untagged responses that arrived while no command was running. */
  readonly unsolicited: ImapResponse[] = []

  private readonly scanner: ImapFrameScanner
  private unitParts: Buffer[] = []
  private pending: Pending | undefined
  /** Resolves true on `+`, false when the server answered the command instead (refusal). */
  private continuationWaiter: {resolve(go: boolean): void; reject(error: Error): void} | undefined
  private greetingWaiter: ((response: ImapResponse) => void) | undefined
  private queue: Promise<unknown> = Promise.resolve()
  private tagCounter = 0
  private closedError: Error | undefined
  private readonly timeoutMs: number
  private readonly literalPlus: boolean | undefined

  private constructor(
    private readonly socket: Socket,
    options: RawImapOptions,
  ) {
    this.timeoutMs = options.timeoutMs ?? 120_000
    this.literalPlus = options.literalPlus
    this.scanner = new ImapFrameScanner({
      line: (text, continues) => {
        this.unitParts.push(text, CRLF)
        if (!continues) this.finishUnit()
      },
      literalData: (data) => this.unitParts.push(Buffer.from(data)),
    })
    socket.on('data', (chunk: Buffer) => this.scanner.push(chunk))
    socket.on('error', (error) => this.fail(error))
    socket.on('close', () => this.fail(new Error('connection closed by the server')))
  }

  /**
   * Connects and waits for the real greeting. Dovecot may first send `* OK Waiting for
   * authentication process to respond..` while its auth process starts; that is skipped.
   */
  static async connect(options: RawImapOptions): Promise<RawImapClient> {
    const socket = connect({host: options.host, port: options.port})
    // A command goes out in several writes (tag, parts, literals, CRLF). With Nagle's algorithm
    // each write after the first waits for the ACK of the one before, and a server that delays
    // its ACKs (Courier: about 40 ms each) made every command take ~90 ms instead of ~1 ms.
    socket.setNoDelay(true)
    const client = new RawImapClient(socket, options)
    await client.withTimeout('connect', new Promise<void>((resolve, reject) => {
      client.greetingWaiter = (response) => {
        if (response.kind === 'OK' && /^Waiting for authentication/i.test(response.text)) return
        client.greetingWaiter = undefined
        if (response.kind !== 'OK' && response.kind !== 'PREAUTH') {
          reject(new Error(`server greeting is not OK: ${response.raw.toString('utf8').trim()}`))
          return
        }
        client.greeting = response
        client.takeCapabilities(response)
        resolve()
      }
      socket.once('error', reject)
      socket.once('close', () => reject(new Error(`connection to ${options.host}:${options.port} closed before the greeting`)))
    }))
    return client
  }

  /** Runs one command and resolves with its responses; rejects on NO or BAD. */
  command(parts: CommandPart | CommandPart[], options: {timeoutMs?: number} = {}): Promise<CommandResult> {
    const run = async (): Promise<CommandResult> => {
      if (this.closedError) throw this.closedError
      const list = Array.isArray(parts) ? parts : [parts]
      const tag = `T${++this.tagCounter}`
      const name = describe(list)
      const done = new Promise<CommandResult>((resolve, reject) => {
        this.pending = {tag, name, untagged: [], resolve, reject}
      })
      // A failed send (connection gone) fails the pending command, so `done` settles either way.
      void this.send(tag, list).catch((error: Error) => this.fail(error))
      const result = await this.withTimeout(name, done, options.timeoutMs)
      if (result.tagged.kind !== 'OK') throw new ImapCommandError(name, result.tagged)
      return result
    }
    const next = this.queue.then(run, run)
    this.queue = next.catch(() => undefined)
    return next
  }

  async login(user: string, password: string): Promise<CommandResult> {
    const result = await this.command(['LOGIN ', astring(user), ' ', astring(password)])
    if (!this.takeCapabilities(result.tagged)) await this.refreshCapabilities()
    return result
  }

  async refreshCapabilities(): Promise<Set<string>> {
    const result = await this.command('CAPABILITY')
    for (const response of result.untagged) if (response.kind === 'CAPABILITY') this.setCapabilities(response.values)
    return this.capabilities
  }

  /** LOGOUT, then close; never throws (the server may already be gone). */
  async logout(): Promise<void> {
    try {
      await this.command('LOGOUT', {timeoutMs: 5000})
    } catch {
      // Already closed or the server did not answer: closing is all that is left to do.
    }
    this.close()
  }

  close(): void {
    this.closedError ??= new Error('connection closed by the client')
    this.socket.destroy()
  }

  private async send(tag: string, parts: CommandPart[]): Promise<void> {
    await this.write(`${tag} `)
    for (const part of parts) {
      if (typeof part === 'string') {
        await this.write(part)
        continue
      }
      if (this.literalPlus ?? this.capabilities.has('LITERAL+')) {
        await this.write(`{${part.length}+}\r\n`)
      } else {
        const continuation = new Promise<boolean>((resolve, reject) => (this.continuationWaiter = {resolve, reject}))
        await this.write(`{${part.length}}\r\n`)
        if (!(await continuation)) return
      }
      await this.write(part)
    }
    await this.write(CRLF)
  }

  private write(data: string | Buffer): Promise<void> {
    if (this.closedError) return Promise.reject(this.closedError)
    return new Promise((resolve, reject) => {
      // Honour backpressure so that a 30 MB MULTIAPPEND does not sit in memory twice.
      if (this.socket.write(data)) resolve()
      else {
        const onDrain = (): void => {
          this.socket.off('close', onClose)
          resolve()
        }
        const onClose = (): void => {
          this.socket.off('drain', onDrain)
          reject(this.closedError ?? new Error('connection closed'))
        }
        this.socket.once('drain', onDrain)
        this.socket.once('close', onClose)
      }
    })
  }

  private finishUnit(): void {
    const raw = Buffer.concat(this.unitParts)
    this.unitParts = []
    const response = parseResponse(raw)
    if (this.greetingWaiter) {
      this.greetingWaiter(response)
      return
    }
    if (response.tag === '+') {
      const waiter = this.continuationWaiter
      this.continuationWaiter = undefined
      waiter?.resolve(true)
      return
    }
    const pending = this.pending
    if (response.tag === '*') {
      if (response.kind === 'CAPABILITY') this.setCapabilities(response.values)
      if (pending) pending.untagged.push(response)
      else this.unsolicited.push(response)
      return
    }
    if (pending && response.tag === pending.tag) {
      this.pending = undefined
      // The server refused a synchronizing literal: stop sending the rest of the command.
      this.continuationWaiter?.resolve(false)
      this.continuationWaiter = undefined
      pending.resolve({tagged: response, untagged: pending.untagged})
    }
  }

  private fail(error: Error): void {
    this.closedError ??= error
    this.continuationWaiter?.reject(error)
    this.continuationWaiter = undefined
    const pending = this.pending
    this.pending = undefined
    pending?.reject(new Error(`${pending.name}: ${error.message}`, {cause: error}))
  }

  private withTimeout<T>(what: string, promise: Promise<T>, timeoutMs = this.timeoutMs): Promise<T> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new Error(`${what}: no answer within ${timeoutMs} ms`)
        this.fail(error)
        this.socket.destroy()
        reject(error)
      }, timeoutMs)
    })
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
  }

  private takeCapabilities(response: ImapResponse): boolean {
    const match = /^CAPABILITY (.*)$/i.exec(response.code ?? '')
    if (!match) return false
    this.setCapabilities(match[1]!.split(' '))
    return true
  }

  private setCapabilities(values: ImapValue[]): void {
    this.capabilities = new Set(values.filter((v): v is string => typeof v === 'string').map((v) => v.toUpperCase()))
  }
}

const CRLF = Buffer.from('\r\n')

/** The command for error messages: its first words, never a password or a literal. */
function describe(parts: CommandPart[]): string {
  const first = parts[0]
  const text = typeof first === 'string' ? first : '(literal)'
  const words = text.trim().split(/\s+/)
  const upper = words[0]?.toUpperCase()
  const count = upper === 'UID' ? 2 : upper === 'LOGIN' ? 1 : Math.min(words.length, 3)
  return words.slice(0, count).join(' ')
}
