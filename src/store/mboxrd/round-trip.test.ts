/**
 * The codec's contract as properties: for any bytes, decode(encode(raw)) is raw, the entry is a
 * well-formed MBOXRD entry, and streaming (any chunking) gives exactly what whole-buffer coding
 * gives. Run over generated messages biased towards the hard cases, and over every `.eml` file
 * of the fixture corpus under test/fixtures.
 */
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'
import fc from 'fast-check'
import {describe, expect, test} from 'vitest'
import {MboxrdDecoder, decodeEntry} from './decoder.js'
import {MboxrdEncoder, encodeMessage, type EncoderOptions} from './encoder.js'
import {scanEntries} from './entry-scan.js'
import {validateExactnessRecord, type ExactnessRecord} from './exactness.js'
import {legacyDecode} from './legacy.js'

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url))

const b = (s: string): Buffer => Buffer.from(s, 'latin1')

// ---------------------------------------------------------------------------------------------
// Generators

const FRAGMENTS = [
  '\r', '\n', '\r\n', '\r\r\n', '\n\n', 'From ', 'From', 'From:', 'Fro', 'm ', '>', '>>', '>From ', '>>From ',
  '>From:', ' ', '\t', 'a', 'xyz', '\0', '\xff\xfe', '\xc3\x28', 'From: a@b.example', 'Sender: s@x.example',
  'Date: Tue, 5 Mar 2024 08:07:09 +0100', 'Date: 31 Feb 99 10:00 EST', 'Return-Path: <r@x.example>',
].map(b)

const fragment = fc.oneof(
  {weight: 4, arbitrary: fc.constantFrom(...FRAGMENTS)},
  {weight: 1, arbitrary: fc.uint8Array({maxLength: 8}).map((u) => Buffer.from(u))},
)

const HEADER_LINES = [
  'From: "Doe, J" <j@x.example>', 'From: example <www.example.com>', 'Sender: s@x.example', 'Subject: hi',
  'Date: Tue, 5 Mar 2024 08:07:09 +0100', 'Date: Wed, 6 Mar 24 1:02 GMT (comment)', 'Date: garbage',
  'Return-Path: <r@x.example>', ' folded continuation', 'From env@x.example Tue Mar  5 08:07:09 2024',
  '>From: quoted header', 'X-\xe9: 8bit \xff',
]

const headerBlock = fc
  .tuple(fc.array(fc.constantFrom(...HEADER_LINES), {maxLength: 5}), fc.constantFrom('\r\n', '\n'), fc.boolean())
  .map(([lines, eol, blank]) => b(lines.map((l) => l + eol).join('') + (blank ? eol : '')))

/** Arbitrary bytes, biased: a header-like prefix, then fragments full of CR, LF, From, >. */
const message = fc
  .tuple(headerBlock, fc.array(fragment, {maxLength: 40}))
  .map(([header, body]) => Buffer.concat([header, ...body]))

const chunkSizes = fc.array(fc.integer({min: 1, max: 16}), {minLength: 1, maxLength: 8})

const encoderOptions = fc.oneof(
  {weight: 3, arbitrary: fc.constant<EncoderOptions>({})},
  {weight: 1, arbitrary: fc.integer({min: 1, max: 80}).map((headerCap): EncoderOptions => ({headerCap}))},
)

// ---------------------------------------------------------------------------------------------
// Checks

function pieces(buf: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = []
  let k = 0
  for (let at = 0; at < buf.length; ) {
    const size = sizes[k++ % sizes.length] as number
    out.push(buf.subarray(at, at + size))
    at += size
  }
  return out
}

function streamEncode(raw: Buffer, sizes: number[], options?: EncoderOptions): {entry: Buffer; length: number; record: ExactnessRecord} {
  const encoder = new MboxrdEncoder(options)
  const out: Buffer[] = []
  for (const piece of pieces(raw, sizes)) out.push(...encoder.push(piece))
  const end = encoder.end()
  out.push(...end.chunks)
  return {entry: Buffer.concat(out), length: end.length, record: end.record}
}

function streamDecode(entry: Buffer, record: ExactnessRecord, sizes: number[]): Buffer {
  const decoder = new MboxrdDecoder(record, 'compat')
  const out: Buffer[] = []
  for (const piece of pieces(entry, sizes)) out.push(...decoder.push(piece))
  out.push(...decoder.end())
  return Buffer.concat(out)
}

/** Every property the brief asks of one message. */
function checkMessage(raw: Buffer, encodeSizes: number[][], decodeSizes: number[][], options: EncoderOptions = {}): void {
  const {entry, record} = encodeMessage(raw, options)

  // exact round trip, and a record that survives JSON and validation
  expect(decodeEntry(entry, record).equals(raw)).toBe(true)
  expect(record.size).toBe(raw.length)
  expect(validateExactnessRecord(JSON.parse(JSON.stringify(record)))).toEqual(record)

  // a well-formed entry: separator, no unquoted From line, blank line at the end
  expect(entry.subarray(0, 5).toString('latin1')).toBe('From ')
  const separatorEnd = entry.indexOf(0x0a)
  expect(entry.subarray(0, separatorEnd).includes(0x0d) || entry.subarray(0, separatorEnd).includes(0)).toBe(false)
  expect(entry.indexOf('\nFrom ', separatorEnd, 'latin1')).toBe(-1)
  expect(entry.subarray(-2).toString('latin1')).toBe('\n\n')

  // streaming equals whole, for encoding and decoding
  for (const sizes of encodeSizes) {
    const streamed = streamEncode(raw, sizes, options)
    expect(streamed.entry.equals(entry)).toBe(true)
    expect(streamed.length).toBe(entry.length)
    expect(streamed.record).toEqual(record)
  }
  for (const sizes of decodeSizes) expect(streamDecode(entry, record, sizes).equals(raw)).toBe(true)
}

/** What imap-backup's reading gives for an entry we wrote: LF endings, padding kept. */
function expectedLegacyText(raw: Buffer, appended: number): string {
  return raw.toString('latin1').replace(/\r\n/g, '\n') + '\n'.repeat(appended)
}

/**
 * imap-backup's rule is the exact inverse of our quoting; its reading differs from the message
 * only where it drops line breaks after the separator (a message that starts with a blank line).
 */
function legacyReadable(raw: Buffer): boolean {
  return !/^[\r\n]/.test(raw.toString('latin1'))
}

// ---------------------------------------------------------------------------------------------

describe('round trip (generated messages)', () => {
  test('decode(encode(raw)) = raw; entries are well-formed; streaming = whole', () => {
    fc.assert(
      fc.property(message, fc.array(chunkSizes, {minLength: 1, maxLength: 3}), chunkSizes, encoderOptions, (raw, encodeSizes, decodeSizes, options) => {
        checkMessage(raw, encodeSizes, [decodeSizes], options)
      }),
      {numRuns: 3000},
    )
  })

  test('plain arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({maxLength: 300}), chunkSizes, (u, sizes) => {
        checkMessage(Buffer.from(u), [sizes], [sizes])
      }),
      {numRuns: 1000},
    )
  })

  test('an mbox of many entries scans back into the same entries, with either rule', () => {
    fc.assert(
      fc.property(fc.array(message, {maxLength: 8}), chunkSizes, (raws, sizes) => {
        const entries = raws.map((raw) => encodeMessage(raw).entry)
        let offset = 0
        const expected = entries.map((e) => ({offset: (offset += e.length) - e.length, length: e.length}))
        const mbox = Buffer.concat(entries)
        expect(scanEntries(mbox, 'strict')).toEqual(expected)
        expect(scanEntries(pieces(mbox, sizes), 'legacy')).toEqual(expected)
      }),
      {numRuns: 500},
    )
  })

  test('imap-backup reading our entries gets the message with LF endings', () => {
    const corpusLike = fc
      .tuple(
        fc.array(fc.constantFrom('From: a@x.example', 'Subject: s', 'Date: Tue, 5 Mar 2024 08:07:09 +0100', 'To: b@y.example'), {minLength: 1, maxLength: 4}),
        fc.array(fc.constantFrom('From the top', '>From quoted', '>>From twice', 'text', '', 'From: in body? no, a header look-alike is fine', 'x\ry'), {maxLength: 8}),
        fc.constantFrom('\r\n', '\n'),
        fc.boolean(),
      )
      .map(([headers, body, eol, finalEol]) => b(headers.join(eol) + eol + eol + body.join(eol) + (finalEol ? eol : '')))
    fc.assert(
      fc.property(corpusLike, (raw) => {
        fc.pre(legacyReadable(raw))
        const {entry, record} = encodeMessage(raw)
        expect(legacyDecode(entry).toString('latin1')).toBe(expectedLegacyText(raw, record.appended))
      }),
      {numRuns: 1000},
    )
  })
})

// ---------------------------------------------------------------------------------------------

/**
 * Every `.eml` file under `dir`, sorted. A directory that cannot be read is an error, not an
 * empty corpus: a wrong path must fail the test, never turn it into zero cases.
 */
function emlFiles(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name)
    const stat = statSync(path)
    if (stat.isDirectory()) out.push(...emlFiles(path))
    else if (stat.isFile() && name.endsWith('.eml')) out.push(path)
  }
  return out
}

/** The corpus has 28 messages (test/fixtures/corpus); far fewer means it was not found. */
const MIN_CORPUS_FILES = 20

describe('round trip (fixture corpus)', () => {
  const files = emlFiles(FIXTURES)

  test(`the corpus is there: at least ${MIN_CORPUS_FILES} .eml files, test/fixtures/corpus among them`, () => {
    expect(files.length).toBeGreaterThanOrEqual(MIN_CORPUS_FILES)
    expect(files.filter((f) => relative(FIXTURES, f).startsWith('corpus/')).length).toBeGreaterThanOrEqual(MIN_CORPUS_FILES)
  })

  test('a path that is not there is an error, not an empty corpus', () => {
    expect(() => emlFiles(join(FIXTURES, 'no-such-directory'))).toThrow(/ENOENT/)
  })

  test.each(files.map((f) => [relative(FIXTURES, f), f]))('%s', (_name, path) => {
    const raw = readFileSync(path as string)
    const sizes = [[4096], [65536], [7, 1, 13], [3]]
    if (raw.length <= 64 * 1024) sizes.push([1])
    checkMessage(raw, sizes, [[1, 5, 64], [65536]])
    if (legacyReadable(raw)) {
      const {entry, record} = encodeMessage(raw)
      expect(legacyDecode(entry).toString('latin1')).toBe(expectedLegacyText(raw, record.appended))
    }
  })
})
