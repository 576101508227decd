import fc from 'fast-check'
import {describe, expect, test} from 'vitest'
import {FromLineStart, quotesLine, quoteText, readerUnquotes, strictToCompat, unquotesLine, unquoteText, writerQuotes, type QuotingRule} from './quoting.js'

const b = (s: string): Buffer => Buffer.from(s, 'latin1')
const s = (buf: Buffer): string => buf.toString('latin1')

const PARTS = ['From ', 'From', 'From:', '>', '>>', ' ', 'x', '\r', '\n', '\n', 'Fro', 'm ', '\xff']
const text = fc.array(fc.constantFrom(...PARTS), {maxLength: 30}).map((parts) => b(parts.join('')))
const RULES: QuotingRule[] = ['compat', 'strict']

describe('the rule, line by line', () => {
  test.each<[string, boolean, boolean, boolean, boolean]>([
    // line, compat writer quotes, strict writer quotes, compat reader unquotes, strict reader unquotes
    ['From x', true, true, false, false],
    ['From', false, false, false, false],
    ['From:', false, false, false, false],
    ['Fromage', false, false, false, false],
    ['>From x', true, true, true, true],
    ['>From', true, false, true, false],
    ['>From:', true, false, true, false],
    ['>>Fromage', true, false, true, false],
    ['> From x', false, false, false, false],
    ['>Fro', false, false, false, false],
    ['x From y', false, false, false, false],
    ['', false, false, false, false],
  ])('%j', (line, compatW, strictW, compatR, strictR) => {
    expect([quotesLine(b(line), 0, 'compat'), quotesLine(b(line), 0, 'strict'), unquotesLine(b(line), 0, 'compat'), unquotesLine(b(line), 0, 'strict')]).toEqual([compatW, strictW, compatR, strictR])
  })

  test('the counts decide the same way as whole lines', () => {
    for (const quotes of [0, 1, 3]) {
      for (const matched of [0, 3, 4, 5]) {
        const line = b('>'.repeat(quotes) + 'From '.slice(0, matched) + (matched === 4 ? ':' : ''))
        for (const rule of RULES) {
          expect(writerQuotes(rule, quotes, matched), `${s(line)} ${rule}`).toBe(quotesLine(line, 0, rule))
          expect(readerUnquotes(rule, quotes, matched), `${s(line)} ${rule}`).toBe(unquotesLine(line, 0, rule))
        }
      }
    }
  })
})

describe('whole texts', () => {
  test('each reader undoes its writer exactly', () => {
    fc.assert(
      fc.property(text, (t) => {
        for (const rule of RULES) expect(s(unquoteText(quoteText(t, rule), rule))).toBe(s(t))
      }),
      {numRuns: 2000},
    )
  })

  test('only lines are touched: a bare CR does not start one', () => {
    expect(s(quoteText(b('From a\n>From:\nx\rFrom b\n>>From c')))).toBe('>From a\n>>From:\nx\rFrom b\n>>>From c')
    expect(s(unquoteText(b('>From a\n>>From:\nx\r>From b'), 'compat'))).toBe('From a\n>From:\nx\r>From b')
  })

  test('strictToCompat turns what the strict writer wrote into what the compat writer writes', () => {
    fc.assert(
      fc.property(text, (t) => {
        expect(s(strictToCompat(quoteText(t, 'strict')))).toBe(s(quoteText(t, 'compat')))
      }),
      {numRuns: 2000},
    )
    const unchanged = b('From \n>From x\nFrom:\n\n')
    expect(strictToCompat(unchanged)).toBe(unchanged)
  })
})

describe('FromLineStart (streaming)', () => {
  test('a line start split at every byte decides as the whole line does', () => {
    for (const line of ['>>>From x', '>>From:', 'From y', 'Fro\n', '>>>>', '>From', 'From']) {
      const bytes = b(line)
      for (let cut = 0; cut <= bytes.length; cut++) {
        const start = new FromLineStart()
        const decided = start.scan(bytes.subarray(0, cut), 0) || start.scan(bytes.subarray(cut), 0)
        const whole = new FromLineStart()
        expect(whole.scan(bytes, 0), line).toBe(decided)
        expect([start.quotes, start.matched], `${line} cut at ${cut}`).toEqual([whole.quotes, whole.matched])
      }
    }
  })

  test('a run of a million > is held as a count', () => {
    const start = new FromLineStart()
    const run = Buffer.alloc(1_000_000, 0x3e)
    expect(start.scan(run, 0)).toBe(false)
    expect(start.scan(b('From:'), 0)).toBe(true)
    expect([start.quotes, start.matched]).toEqual([1_000_000, 4])
    expect(writerQuotes('compat', start.quotes, start.matched)).toBe(true)
  })
})
