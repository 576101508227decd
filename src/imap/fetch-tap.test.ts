// The FETCH tap against the reference: imapflow's own reader and parser, fed the same bytes. For
// random answers (responses the tap reads, responses it passes on, other untagged lines,
// malformed lines, literals holding protocol-like bytes) cut into random chunks, what reaches the
// consumer must be what parseFetch() makes of imapflow's parse, response by response, with the same
// number of lines counted as unreadable; and a literal over the limit must end both streams the
// same way. Then the shapes the tap reads itself, the backpressure it keeps and its own failures.
import {once} from 'node:events'
import fc from 'fast-check'
import parseResponse from 'imapflow/lib/handler/imap-parser.js'
import {ImapStream} from 'imapflow/lib/handler/imap-stream.js'
import {describe, expect, it} from 'vitest'
import {parseFetch, type FetchData} from './commands/fetch-response.js'
import {merge} from './commands/fetch-stream.js'
import {FetchTap, type TapJob} from './fetch-tap.js'
import type {FlowLogger} from './flow-logger.js'
import type {StreamInternals} from './flow-internals.js'

interface Outcome {
  /** Every FETCH response, as parseFetch() gives it (body as one Buffer). */
  fetches: FetchData[]
  /** Lines counted as unreadable. */
  unparsed: number
  /** Other untagged lines passed on (their command words). */
  others: string[]
  /** How the stream ended, if by an error. */
  error?: string
  /** Responses the tap read itself. */
  tapped: number
}

interface Limits {
  maxLiteralSize?: number
  maxResponseSize?: number
}

function testLogger(onUnparsed: () => void): FlowLogger {
  const noop = (): void => undefined
  return {
    trace: noop,
    debug: noop,
    info: noop,
    warn: noop,
    fatal: noop,
    error: (record: unknown) => {
      if ((record as {src?: unknown}).src === 's') onUnparsed()
    },
    protocolLines: false,
    unparsed: {count: 0, last: undefined},
  }
}

/** Feeds `chunks` to a reader, with the tap on it or not, and records what comes out. */
async function read(chunks: Buffer[], withTap: boolean, limits: Limits = {}, job: Partial<TapJob> = {}): Promise<Outcome> {
  const outcome: Outcome = {fetches: [], unparsed: 0, others: [], tapped: 0}
  // A logger as connect() gives imapflow one (without, imapflow makes its default pino logger,
  // one of the modules left out of the build: scripts/imapflow-stubs.mjs).
  const stream = new ImapStream({logger: testLogger(() => undefined), ...limits})
  const onFetch = (data: FetchData): void => void outcome.fetches.push(data)
  if (withTap) {
    const tap = new FetchTap(stream as unknown as StreamInternals, testLogger(() => outcome.unparsed++))
    tap.arm({
      gate: () => undefined,
      failed: (error) => {
        throw error
      },
      consumer: {
        data: (data) => {
          outcome.tapped++
          onFetch(data)
        },
        body: (head) => {
          outcome.tapped++
          const parts: Buffer[] = []
          return {
            write: (bytes) => void parts.push(Buffer.from(bytes)),
            end: (tail) => onFetch({...merge(head, tail), body: Buffer.concat(parts)}),
            abort: () => undefined,
          }
        },
      },
      ...job,
    })
  }
  stream.on('error', (error: Error & {code?: string}) => (outcome.error = error.code ?? error.message))
  const writer = (async () => {
    for (const chunk of chunks) {
      if (stream.destroyed) return
      if (!stream.write(chunk)) await Promise.race([once(stream, 'drain'), once(stream, 'close')])
    }
    stream.end()
  })().catch(() => undefined) // an error ends the stream: recorded by the 'error' listener
  try {
    for await (const item of stream as AsyncIterable<{payload: Buffer; literals: Buffer[]; next: () => void}>) {
      try {
        const parsed = await parseResponse(item.payload, {literals: item.literals})
        if (parsed.tag === '*' && /^\d+$/.test(parsed.command ?? '') && String(parsed.attributes?.[0] && !Array.isArray(parsed.attributes[0]) ? parsed.attributes[0].value : '').toUpperCase() === 'FETCH') onFetch(parseFetch(parsed))
        else outcome.others.push(`${parsed.tag} ${parsed.command}`)
      } catch {
        outcome.unparsed++
      } finally {
        item.next()
      }
    }
  } catch {
    // the stream was destroyed: recorded by the 'error' listener
  }
  await writer
  return outcome
}

/** Splits `bytes` at the given cut points (each taken modulo the length). */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % Math.max(1, bytes.length)))].sort((a, b) => a - b)
  const out: Buffer[] = []
  let at = 0
  for (const p of points) {
    if (p > at) out.push(bytes.subarray(at, p))
    at = Math.max(at, p)
  }
  if (at < bytes.length) out.push(bytes.subarray(at))
  return out
}

const word = (w: string): fc.Arbitrary<string> => fc.constantFrom(w, w.toLowerCase(), w[0] + w.slice(1).toLowerCase())
const flag = fc.constantFrom('\\Seen', '\\Answered', '\\Recent', '\\RECENT', '$Label1', 'Junk', '\\Flagged', 'NonJunk', 'a.b-c', '$X_y')
const date = fc.constantFrom('"17-Jul-1996 02:44:25 -0700"', '" 1-Jan-2024 00:00:00 +0000"', '"31-Dec-1999 23:59:59 +1400"', '"garbage"', '""')
const literalBytes = fc.oneof(
  fc.uint8Array({maxLength: 300}).map((a) => Buffer.from(a)),
  fc.constantFrom('', 'hello', '\r\n', 'x\r\n* 1 FETCH (UID 9 BODY[] {3}\r\nabc)\r\n', 'A1 OK done\r\n', '{5}\r\n').map((s) => Buffer.from(s)),
  fc.integer({min: 0, max: 70_000}).map((n) => Buffer.alloc(n, 0x61)),
)

/** An item the tap reads itself. */
const readable = fc.oneof(
  fc.tuple(word('UID'), fc.integer({min: 0, max: 2 ** 32})).map(([w, n]) => `${w} ${n}`),
  fc.tuple(word('UID'), fc.integer({min: 1, max: 99})).map(([w, n]) => `${w} 00${n}`),
  fc.tuple(word('FLAGS'), fc.array(flag, {maxLength: 4})).map(([w, f]) => `${w} (${f.join(' ')})`),
  fc.tuple(word('INTERNALDATE'), date).map(([w, d]) => `${w} ${d}`),
  fc.tuple(word('RFC822.SIZE'), fc.nat()).map(([w, n]) => `${w} ${n}`),
  fc.tuple(word('MODSEQ'), fc.bigInt({min: 0n, max: 2n ** 63n})).map(([w, n]) => `${w} (${n})`),
  word('BODY').map((w) => `${w}[] NIL`),
)
/** Items that make the tap pass the response on. */
const unusual = fc.constantFrom(
  'X-GM-MSGID 1278455344230334865',
  'FLAGS (\\*)',
  'FLAGS ([x])',
  'BODY[] "quoted body"',
  'BODY[HEADER] NIL',
  'ENVELOPE NIL',
  'INTERNALDATE "a\\"b"',
  'UID  5',
  'RFC822.SIZE x',
  'EMAILID (M6d99ac3275bb4e)',
)
const bodyName = fc.constantFrom('BODY[]', 'body[]', 'BODY[]<0>', 'BODY[]<1048576>')
const eol = fc.constantFrom('\r\n', '\n')

/** One untagged FETCH response, maybe with a body literal (in the middle or at the end). */
const fetchResponse = fc
  .record({
    seq: fc.integer({min: 1, max: 99_999}),
    before: fc.array(fc.oneof({weight: 8, arbitrary: readable}, {weight: 1, arbitrary: unusual}), {maxLength: 5}),
    body: fc.option(fc.tuple(bodyName, literalBytes), {freq: 3}),
    after: fc.array(readable, {maxLength: 2}),
    tailSpace: fc.constantFrom('', '', '', ' ', 'x'),
    eol,
  })
  .map(({seq, before, body, after, tailSpace, eol: end}) => {
    if (body === null) return Buffer.from(`* ${seq} FETCH (${[...before, ...after].join(' ')})${end}`)
    const [name, bytes] = body
    const head = `* ${seq} FETCH (${[...before, name].join(' ')} {${bytes.length}}${end}`
    const tail = `${after.map((a) => ` ${a}`).join('')})${tailSpace}${end}`
    return Buffer.concat([Buffer.from(head), bytes, Buffer.from(tail)])
  })

/** Lines that are not FETCH responses, or FETCH responses that cannot be parsed. */
const otherLine = fc.constantFrom(
  '* 4 EXISTS\r\n',
  '* OK [HIGHESTMODSEQ 5] still here\r\n',
  '* VANISHED (EARLIER) 1:3\r\n',
  '* 2 FETCH (UID two FLAGS (((( BODY[] "unterminated\r\n',
  '* 3 FETCH (UID 3 BODY[] {5}\r\nhello\r\n',
  '* 3 FETCH (UID 3 BODY[] {5}\r\nhello FLAGS (\\Seen)\r\n',
  '* 3 FETCH (UID 3 BODY[] {5}\r\nhello) )\r\n',
  '* 5 FETCH (UID 5 FLAGS (\\Seen))\r\n',
  '* 6 FETCH (UID 6 BODY[HEADER.FIELDS (DATE)] {8}\r\nDate: x\n)\r\n',
  '* 1 FETCHED (UID 1)\r\n',
  '* LIST () "/" INBOX\r\n',
  '*\r\n',
  '\r\n',
)

const answer = fc.array(fc.oneof({weight: 4, arbitrary: fetchResponse}, {weight: 1, arbitrary: otherLine.map((l) => Buffer.from(l))}), {maxLength: 12}).map((parts) => Buffer.concat(parts))

describe('the FETCH tap', () => {
  it('delivers what imapflow parses, response by response, however the answer is cut into chunks', async () => {
    await fc.assert(
      fc.asyncProperty(answer, fc.array(fc.nat(), {maxLength: 40}), async (bytes, cuts) => {
        const chunks = split(bytes, cuts)
        const reference = await read(chunks, false)
        const tapped = await read(chunks, true)
        expect(tapped.error).toBeUndefined()
        expect(reference.error).toBeUndefined()
        // Bodies as text: a deep comparison of Buffers goes byte by byte, slowly.
        const shown = (list: FetchData[]): unknown[] => list.map((d) => (Buffer.isBuffer(d.body) ? {...d, body: d.body.toString('base64')} : d))
        expect(shown(tapped.fetches)).toEqual(shown(reference.fetches))
        expect(tapped.unparsed).toBe(reference.unparsed)
        expect(tapped.others).toEqual(reference.others)
      }),
      {numRuns: 300},
    )
  })

  it('reads the usual responses itself, and passes on only what it does not know', async () => {
    const body = 'Subject: hi\r\n\r\nbody\r\n'
    const bytes = Buffer.from(
      `* 1 FETCH (UID 7 FLAGS (\\Seen) INTERNALDATE "01-Jan-2024 00:00:00 +0000" RFC822.SIZE ${body.length} BODY[] {${body.length}}\r\n${body})\r\n` +
        `* 2 FETCH (UID 8 FLAGS (\\Seen $X) MODSEQ (42))\r\n` +
        `* 3 FETCH (UID 9 X-GM-MSGID 1 BODY[] NIL)\r\n`,
    )
    const outcome = await read(split(bytes, [3, 50, 51, 130, 170]), true)
    expect(outcome.tapped).toBe(2)
    expect(outcome.fetches).toEqual([
      {uid: 7, flags: ['\\Seen'], internalDate: new Date('2024-01-01T00:00:00Z'), size: body.length, body: Buffer.from(body)},
      {uid: 8, flags: ['\\Seen', '$X'], modseq: '42'},
      {uid: 9, body: null},
    ])
  })

  it('refuses a literal over the limit at its announcement, as imapflow does', async () => {
    const bytes = Buffer.from(`* 1 FETCH (UID 1 BODY[] {943718400}\r\n${'x'.repeat(1000)}`)
    for (const withTap of [false, true]) {
      const outcome = await read([bytes], withTap, {maxLiteralSize: 1 << 20})
      expect(outcome.error).toBe('LiteralTooLarge')
      expect(outcome.fetches).toEqual([])
    }
    const response = await read([Buffer.from(`* 1 FETCH (UID 1 BODY[] {2000}\r\n${'x'.repeat(2000)})\r\n`)], true, {maxLiteralSize: 4096, maxResponseSize: 1024})
    expect(response.error).toBe('ResponseTooLarge')
  })

  it('counts a second literal after the body as unreadable (a response it cannot read, not passed on)', async () => {
    const bytes = Buffer.from('* 1 FETCH (UID 1 BODY[] {5}\r\nhello BODY[HEADER] {3}\r\nabc)\r\n* 2 FETCH (UID 2 FLAGS ())\r\n')
    const outcome = await read(split(bytes, [20, 33]), true)
    expect(outcome.unparsed).toBe(1)
    expect(outcome.fetches).toEqual([{uid: 2, flags: []}])
  })

  it('holds the connection while the consumer holds a promise, and passes the literal as it arrives', async () => {
    const body = Buffer.alloc(200_000, 0x62)
    const bytes = Buffer.concat([Buffer.from(`* 1 FETCH (UID 1 BODY[] {${body.length}}\r\n`), body, Buffer.from(')\r\n')])
    const writes: number[] = []
    let inFlight = 0
    let most = 0
    const outcome = await read(split(bytes, [10, 30_000, 90_000, 150_000]), true, {}, {
      consumer: {
        data: () => undefined,
        body: () => ({
          write: async (chunk) => {
            inFlight++
            most = Math.max(most, inFlight)
            writes.push(chunk.length)
            await new Promise((resolve) => setTimeout(resolve, 5))
            inFlight--
          },
          end: () => undefined,
          abort: () => undefined,
        }),
      },
    })
    expect(outcome.error).toBeUndefined()
    expect(writes.length).toBeGreaterThan(1)
    expect(writes.reduce((a, b) => a + b, 0)).toBe(body.length)
    expect(most).toBe(1)
  })

  it('reports a consumer that throws, drops the rest, and keeps the framing', async () => {
    const bytes = Buffer.from('* 1 FETCH (UID 1 BODY[] {5}\r\nhello)\r\n* 2 FETCH (UID 2 BODY[] {5}\r\nworld)\r\n* 3 EXISTS\r\n')
    const failures: unknown[] = []
    let aborted = 0
    const outcome = await read([bytes], true, {}, {
      failed: (error) => failures.push(error),
      consumer: {
        data: () => undefined,
        body: () => ({
          write: () => {
            throw new Error('disk full')
          },
          end: () => undefined,
          abort: () => void aborted++,
        }),
      },
    })
    expect(failures).toHaveLength(1)
    expect(aborted).toBe(1)
    expect(outcome.others).toEqual(['* 3'])
  })
})
