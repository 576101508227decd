import {Readable} from 'node:stream'
import {describe, expect, test} from 'vitest'
import {encodeMessage} from './encoder.js'
import {isEntryStart, scanEntries, scanEntriesAsync, type ScanRule} from './entry-scan.js'

const b = (s: string): Buffer => Buffer.from(s, 'latin1')

function chunked(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = []
  for (let at = 0; at < buf.length; at += size) out.push(buf.subarray(at, at + size))
  return out
}

function spansOf(entries: string[]): {offset: number; length: number}[] {
  let offset = 0
  return entries.map((e) => {
    const span = {offset, length: Buffer.byteLength(e, 'latin1')}
    offset += span.length
    return span
  })
}

/** Checks both the whole-buffer and every chunked scan. */
function expectScan(mbox: string, rule: ScanRule, entries: string[]): void {
  const bytes = b(mbox)
  const expected = spansOf(entries)
  expect(scanEntries(bytes, rule)).toEqual(expected)
  for (let size = 1; size <= Math.min(bytes.length, 40); size++) expect(scanEntries(chunked(bytes, size), rule)).toEqual(expected)
}

describe('isEntryStart', () => {
  test('needs "From " with the space', () => {
    expect(isEntryStart(b('From x'))).toBe(true)
    expect(isEntryStart(b('From '))).toBe(true)
    expect(isEntryStart(b('From:'))).toBe(false)
    expect(isEntryStart(b('From'))).toBe(false)
    expect(isEntryStart(b(''))).toBe(false)
  })
})

describe('scanEntries', () => {
  test('an empty file has no entries', () => {
    expect(scanEntries(Buffer.alloc(0))).toEqual([])
    expect(scanEntries([])).toEqual([])
  })

  test('entries written by mailkeep, with either rule', () => {
    const entries = ['From \nFrom env\n', 'Subject: x\n\nFrom y\n', '', '>From z\r\n'].map((m) => encodeMessage(b(m)).entry.toString('latin1'))
    for (const rule of ['strict', 'legacy'] as const) expectScan(entries.join(''), rule, entries)
  })

  test('legacy: imap-backup left the first message line unquoted', () => {
    const first = 'From a@x Tue Mar  5 08:07:09 2024\nFrom envelope@x Tue Mar  5 08:07:09 2024\nSubject: a\n\nbody\n\n'
    const second = 'From b@x\nSubject: b\n\n>From quoted\n\n'
    expectScan(first + second, 'legacy', [first, second])
  })

  test('legacy: an empty line may be a lone CR; a separator must follow an empty line', () => {
    const first = 'From a\nx\r\n\r\n'
    const second = 'From b\nFrom c\ny\n\n'
    expectScan(first + second, 'legacy', [first, second])
  })

  test('strict: every unquoted From line separates, also after a torn entry', () => {
    const torn = 'From a\nSubject: cut off he'
    const next = 'From b\n\n'
    expectScan(`${torn}\n${next}`, 'strict', [`${torn}\n`, next])
    expectScan(`${torn}\n${next}`, 'legacy', [`${torn}\n${next}`])
  })

  test('bytes before the first separator are a first entry', () => {
    expectScan('garbage\n\nFrom a\n\n', 'legacy', ['garbage\n\n', 'From a\n\n'])
    expectScan('no separator at all\n', 'strict', ['no separator at all\n'])
  })

  test('"From" without the space does not separate', () => {
    expectScan('From a\n\nFrom:x\n\nFrom b\n\n', 'legacy', ['From a\n\nFrom:x\n\n', 'From b\n\n'])
  })

  test('scanEntriesAsync reads a stream', async () => {
    const mbox = b('From a\n\nFrom b\nx\n\n')
    expect(await scanEntriesAsync(Readable.from(chunked(mbox, 3)))).toEqual(spansOf(['From a\n\n', 'From b\nx\n\n']))
  })

  test('many entries in one buffer', () => {
    const entry = encodeMessage(b('From: a@x.example\r\n\r\nhello\r\n')).entry
    const mbox = Buffer.concat(Array.from({length: 200_000}, () => entry))
    const spans = scanEntries(mbox, 'strict')
    expect(spans.length).toBe(200_000)
    expect(spans[199_999]).toEqual({offset: 199_999 * entry.length, length: entry.length})
  })
})
