import {describe, expect, it} from 'vitest'
import {parseJournal} from './journal.js'

const header = '{"j":1,"id":"x","uid_validity":5,"base_count":0,"base_end":0}'
const a1 = '{"t":"a","m":{"uid":1,"offset":0,"length":10,"flags":[]}}'
const a2 = '{"t":"a","m":{"uid":2,"offset":10,"length":10,"flags":[]}}'
const c1 = '{"t":"c","end":10,"count":1}'
const c2 = '{"t":"c","end":20,"count":2}'

describe('parseJournal', () => {
  it('keeps only records followed by a savepoint', () => {
    const j = parseJournal([header, a1, c1, a2, ''].join('\n'), 'J')!
    expect(j.header.id).toBe('x')
    expect(j.committed.map((r) => r.t)).toEqual(['a', 'c'])
    expect(j.ignoredBytes).toBe(a2.length + 1)
  })

  it('ignores a torn last line, even a torn savepoint', () => {
    const j = parseJournal([header, a1, c1, a2, c2.slice(0, 12)].join('\n'), 'J')!
    expect(j.committed).toHaveLength(2)
  })

  it('stops at a garbled line: nothing after it is trusted', () => {
    const j = parseJournal([header, a1, 'garbage', c1, ''].join('\n'), 'J')!
    expect(j.committed).toEqual([])
  })

  it('treats a journal whose header is torn as empty', () => {
    expect(parseJournal(header.slice(0, 20), 'J')).toBeUndefined()
    expect(parseJournal('', 'J')).toBeUndefined()
  })

  it('refuses a complete but invalid header', () => {
    expect(() => parseJournal('{"j":2}\n', 'J')).toThrow(/invalid header/)
  })
})
