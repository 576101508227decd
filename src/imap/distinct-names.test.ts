import {describe, expect, it} from 'vitest'
import {distinctNames, type ListedName} from './distinct-names.js'
import {decodeMailboxName} from './mutf7.js'

const listed = (wire: string, delimiter: string | null = '/'): ListedName => ({wire, name: decodeMailboxName(wire), delimiter})

describe('distinctNames', () => {
  it('leaves names that no other listed name decodes to as they are, raw UTF-8 and stray `&` included', () => {
    expect(distinctNames([listed('INBOX'), listed('ä'), listed('Lists/x'), listed('Tom & Jerry'), listed('R&-D'), listed('&AOQ-x')])).toEqual(['INBOX', 'ä', 'Lists/x', 'Tom & Jerry', 'R&D', 'äx'])
  })

  it('always names a non-canonical modified UTF-7 spelling by its spelling, so that its name does not depend on its twin', () => {
    expect(distinctNames([listed('&AGE-')])).toEqual(['a [&AGE-]'])
    expect(distinctNames([listed('&AGE-'), listed('a')])).toEqual(['a [&AGE-]', 'a'])
  })

  it('gives the canonical spelling the decoded name and every other spelling its own, in any order', () => {
    expect(decodeMailboxName('&AGE-')).toBe('a')
    expect(distinctNames([listed('&AGE-'), listed('a')])).toEqual(['a [&AGE-]', 'a'])
    expect(distinctNames([listed('a'), listed('&AGE-'), listed('&AGF-')])).toEqual(['a', 'a [&AGE-]', 'a [&AGF-]'])
    // A raw UTF-8 name beside its modified UTF-7 spelling: the 8-bit bytes are shown as \xHH.
    expect(distinctNames([listed('ä'), listed('&AOQ-')])).toEqual(['ä [\\xc3\\xa4]', 'ä'])
  })

  it('never adds a hierarchy level, and never takes a name that is already listed', () => {
    expect(distinctNames([listed('Lists/&AGE-'), listed('Lists/a')])).toEqual(['Lists/a [Lists\\x2f&AGE-]', 'Lists/a'])
    expect(distinctNames([listed('INBOX.&AGE-', '.'), listed('INBOX.a', '.')])).toEqual(['INBOX.a [INBOX\\x2e&AGE-]', 'INBOX.a'])
    const names = distinctNames([listed('a'), listed('&AGE-'), listed('a [&-AGE-]')])
    expect(names).toEqual(['a', 'a [&AGE- 2]', 'a [&AGE-]'])
    expect(new Set(names).size).toBe(3)
  })

  it('names every member of a group without a canonical spelling', () => {
    expect(distinctNames([listed('&AGE-'), listed('&AGF-')])).toEqual(['a [&AGE-]', 'a [&AGF-]'])
  })
})
