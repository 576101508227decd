import {describe, expect, it} from 'vitest'
import {DamagedError, UnsupportedFormatError} from '../shared/errors.js'
import {committedEnd, duplicateUids, parseMetadata, serializeMetadata, structuralProblems, type FolderMetadata} from './metadata.js'

const P = '/b/INBOX.imap'

describe('parseMetadata', () => {
  it('reads an imap-backup version 3 file (compat §4.3)', () => {
    const meta = parseMetadata('{"version":3,"uid_validity":1606316666,"messages":[{"uid":1,"offset":0,"length":3736,"flags":["Seen","Draft"]}]}', P) as FolderMetadata
    expect(meta.uidValidity).toBe(1606316666)
    expect(meta.messages).toEqual([{uid: 1, offset: 0, length: 3736, flags: ['Seen', 'Draft']}])
    expect(meta.exact.size).toBe(0)
    expect(meta.uidNext).toBeUndefined()
    // Written before the naming was recorded: nothing recorded, the servers are asked.
    expect(meta.delimiter).toBeUndefined()
    expect(meta.prefix).toBeUndefined()
  })

  it('reads the recorded naming: the LIST delimiter ("" for a flat name) and the namespace prefix', () => {
    const dot = parseMetadata('{"version":3,"uid_validity":1,"mailkeep":{"format":1,"delimiter":".","prefix":"INBOX."},"messages":[]}', P) as FolderMetadata
    expect([dot.delimiter, dot.prefix]).toEqual(['.', 'INBOX.'])
    const flat = parseMetadata('{"version":3,"uid_validity":1,"mailkeep":{"format":1,"delimiter":"","prefix":""},"messages":[]}', P) as FolderMetadata
    expect([flat.delimiter, flat.prefix]).toEqual(['', ''])
  })

  it('accepts a uid_validity written as a numeric string (imap-backup test helpers)', () => {
    expect((parseMetadata('{"version":3,"uid_validity":"42","messages":[]}', P) as FolderMetadata).uidValidity).toBe(42)
  })

  it('reads version 2 as a migration source', () => {
    expect(parseMetadata('{"version":2,"uid_validity":7,"uids":[3,5]}', P)).toEqual({version: 2, uidValidity: 7, uids: [3, 5]})
  })

  it.each([
    ['not JSON', '{"version":3,', /is not valid JSON/],
    ['an array', '[]', /is not a JSON object/],
    ['version 1', '{"version":1,"uids":[1]}', /unsupported metadata version 1/],
    ['no version', '{"uid_validity":1,"messages":[]}', /unsupported metadata version undefined/],
    ['no uid_validity', '{"version":3,"messages":[]}', /invalid uid_validity/],
    ['messages not an array', '{"version":3,"uid_validity":1,"messages":{}}', /no "messages" array/],
    ['negative offset', '{"version":3,"uid_validity":1,"messages":[{"uid":1,"offset":-1,"length":5,"flags":[]}]}', /invalid offset in messages\[0\]/],
    ['zero uid', '{"version":3,"uid_validity":1,"messages":[{"uid":0,"offset":0,"length":5,"flags":[]}]}', /invalid uid in messages\[0\]/],
    ['bad flags', '{"version":3,"uid_validity":1,"messages":[{"uid":1,"offset":0,"length":5,"flags":[1]}]}', /invalid flags/],
    ['bad record', '{"version":3,"uid_validity":1,"messages":[],"mailkeep_messages":[[1,2]]}', /invalid mailkeep_messages\[0\]/],
    ['a delimiter of two characters', '{"version":3,"uid_validity":1,"mailkeep":{"format":1,"delimiter":"::"},"messages":[]}', /invalid "mailkeep.delimiter"/],
    ['a prefix that is not text', '{"version":3,"uid_validity":1,"mailkeep":{"format":1,"prefix":5},"messages":[]}', /invalid "mailkeep.prefix"/],
  ])('refuses %s with a DamagedError naming the file', (_what, text, message) => {
    try {
      parseMetadata(text, P)
      expect.fail('should have thrown')
    } catch (error) {
      expect(error).toBeInstanceOf(DamagedError)
      expect((error as Error).message).toMatch(message)
      expect((error as Error).message).toContain(P)
      expect((error as DamagedError).hint).toContain('mailkeep local repair')
    }
  })

  it('refuses a file written by a newer mailkeep, or a newer metadata version', () => {
    expect(() => parseMetadata('{"version":3,"uid_validity":1,"mailkeep":{"format":2},"messages":[]}', P)).toThrow(UnsupportedFormatError)
    expect(() => parseMetadata('{"version":4,"uid_validity":1,"messages":[]}', P)).toThrow(UnsupportedFormatError)
  })
})

describe('serializeMetadata', () => {
  const meta: FolderMetadata = {
    uidValidity: 99,
    uidNext: 12,
    highestModseq: '18446744073709551615',
    delimiter: '.',
    prefix: 'INBOX.',
    journalId: 'abc',
    messages: [
      {uid: 3, offset: 0, length: 100, flags: ['Seen']},
      {uid: 5, offset: 100, length: 50, flags: []},
    ],
    exact: new Map([[5, [5, 40, 1700000000, 1, [0, 2, 3]]]]),
    extraKeys: {future_key: {a: 1}},
  }

  it('writes the header before the message list, and only imap-backup keys inside entries', () => {
    const text = serializeMetadata(meta)
    expect(text.startsWith('{"version":3,"uid_validity":99,"mailkeep":{')).toBe(true)
    expect(text.indexOf('"mailkeep"')).toBeLessThan(text.indexOf('"messages"'))
    const data = JSON.parse(text)
    for (const m of data.messages) expect(Object.keys(m)).toEqual(['uid', 'offset', 'length', 'flags'])
    expect(data.mailkeep).toEqual({format: 1, quoting: 'mboxrd', uidnext: 12, highestmodseq: '18446744073709551615', delimiter: '.', prefix: 'INBOX.', journal: 'abc'})
    expect(data.future_key).toEqual({a: 1})
  })

  it('round-trips', () => {
    expect(parseMetadata(serializeMetadata(meta), P)).toEqual(meta)
  })
})

describe('structure', () => {
  it('computes the committed end and finds out-of-order offsets and duplicate UIDs', () => {
    const ok = [
      {uid: 1, offset: 0, length: 10, flags: []},
      {uid: 2, offset: 10, length: 5, flags: []},
    ]
    expect(committedEnd(ok)).toBe(15)
    expect(committedEnd([])).toBe(0)
    expect(structuralProblems(ok)).toEqual([])
    expect(structuralProblems([ok[1]!, ok[0]!])[0]).toMatch(/out of order/)
    expect(duplicateUids([...ok, {uid: 2, offset: 15, length: 5, flags: []}])).toEqual([2])
  })
})

describe('serializeMetadataChunks', () => {
  it('produces the same text in pieces for large folders, with and without exactness records', () => {
    const messages = Array.from({length: 10_000}, (_, i) => ({uid: i + 1, offset: i * 10, length: 10, flags: i % 3 === 0 ? ['Seen'] : []}))
    const exact = new Map<number, [number, number, number | null, number, unknown]>()
    for (let i = 5000; i < 10_000; i++) exact.set(i + 1, [i + 1, 8, null, 1, 0])
    const meta: FolderMetadata = {uidValidity: 1, messages, exact, extraKeys: {}}
    const text = serializeMetadata(meta)
    const back = parseMetadata(text, P) as FolderMetadata
    expect(back.messages).toEqual(messages)
    expect(back.exact).toEqual(exact)
    expect(parseMetadata(serializeMetadata({...meta, exact: new Map()}), P)).toMatchObject({messages})
  })

  it('shares one frozen flags array per distinct flag list', () => {
    const meta = parseMetadata('{"version":3,"uid_validity":1,"messages":[{"uid":1,"offset":0,"length":5,"flags":["Seen"]},{"uid":2,"offset":5,"length":5,"flags":["Seen"]}]}', P) as FolderMetadata
    expect(meta.messages[0]!.flags).toBe(meta.messages[1]!.flags)
    expect(Object.isFrozen(meta.messages[0]!.flags)).toBe(true)
  })
})
