import {describe, expect, it} from 'vitest'
import {DamagedError, UnsupportedFormatError} from '../shared/errors.js'
import {parseMetadata, serializeMetadata, type ExactTuple, type FolderMetadata} from './metadata.js'
import {MessageTable} from './message-table.js'
import {bindExactFile, parseExactFile, serializeExactFile} from './exact-file.js'

const P = '/b/INBOX.imap'

describe('parseMetadata', () => {
  it('reads an imap-backup version 3 file (compat §4.3)', () => {
    const meta = parseMetadata('{"version":3,"uid_validity":1606316666,"messages":[{"uid":1,"offset":0,"length":3736,"flags":["Seen","Draft"]}]}', P) as FolderMetadata
    expect(meta.uidValidity).toBe(1606316666)
    expect([...meta.messages]).toEqual([{uid: 1, offset: 0, length: 3736, flags: ['Seen', 'Draft']}])
    expect(meta.messages.recordCount).toBe(0)
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
    expect(() => parseMetadata('{"version":3,"uid_validity":1,"mailkeep":{"format":3},"messages":[]}', P)).toThrow(UnsupportedFormatError)
    expect(() => parseMetadata('{"version":3,"uid_validity":1,"mailkeep":{"format":2,"exact":-1},"messages":[]}', P)).toThrow(/invalid "mailkeep.exact"/)
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
    messages: MessageTable.from(
      [
        {uid: 3, offset: 0, length: 100, flags: ['Seen']},
        {uid: 5, offset: 100, length: 50, flags: []},
      ],
      new Map([[5, [5, 40, 1700000000, 1, [0, 2, 3]]]]),
      'compat',
    ),
    extraKeys: {future_key: {a: 1}},
  }

  it('writes the header before the message list, and only imap-backup keys inside entries', () => {
    const text = serializeMetadata(meta)
    expect(text.startsWith('{"version":3,"uid_validity":99,"mailkeep":{')).toBe(true)
    expect(text.indexOf('"mailkeep"')).toBeLessThan(text.indexOf('"messages"'))
    const data = JSON.parse(text)
    for (const m of data.messages) expect(Object.keys(m)).toEqual(['uid', 'offset', 'length', 'flags'])
    expect(data.mailkeep).toEqual({format: 2, exact: 1, uidnext: 12, highestmodseq: '18446744073709551615', delimiter: '.', prefix: 'INBOX.', journal: 'abc'})
    expect(data.future_key).toEqual({a: 1})
  })

  it('writes exactly this text; the records go to the exactness file, bound to their entries', () => {
    expect(serializeMetadata(meta)).toBe(
      '{"version":3,"uid_validity":99,"mailkeep":{"format":2,"exact":1,"uidnext":12,"highestmodseq":"18446744073709551615","delimiter":".","prefix":"INBOX.","journal":"abc"},' +
        '"messages":[{"uid":3,"offset":0,"length":100,"flags":["Seen"]},{"uid":5,"offset":100,"length":50,"flags":[]}],' +
        '"future_key":{"a":1}}',
    )
    expect(serializeExactFile(meta)).toBe('{"mailkeep_exact":1,"uid_validity":99,"journal":"abc","messages":[[5,100,50,40,1700000000,1,[0,2,3],1]]}')
  })

  it('writes the flags and mirror checkpoints after highestmodseq, and reads them back', () => {
    const withCheckpoints: FolderMetadata = {...meta, highestModseq: '900', flagsModseq: '900', mirrorModseq: '850'}
    const text = serializeMetadata(withCheckpoints)
    expect(text).toContain('"highestmodseq":"900","flagsmodseq":"900","mirrormodseq":"850","delimiter"')
    const back = parseMetadata(text, P) as FolderMetadata
    expect(back).toMatchObject({highestModseq: '900', flagsModseq: '900', mirrorModseq: '850'})
    expect(() => parseMetadata(text.replace('"mirrormodseq":"850"', '"mirrormodseq":850'), P)).toThrow(/invalid "mailkeep.mirrormodseq"/)
    expect(() => parseMetadata(text.replace('"flagsmodseq":"900"', '"flagsmodseq":"x"'), P)).toThrow(/invalid "mailkeep.flagsmodseq"/)
  })

  it('round-trips, the records through the exactness file', () => {
    const back = parseMetadata(serializeMetadata(meta), P) as FolderMetadata
    expect({...back, messages: undefined}).toEqual({...meta, messages: undefined, exactCount: 1})
    expect([...back.messages]).toEqual([...meta.messages])
    expect(back.messages.recordCount).toBe(0)
    expect(bindExactFile(back.messages, parseExactFile(serializeExactFile(meta), 'X'), 99)).toEqual({rows: 1, bound: 1, superseded: 0, unmatchedUids: []})
    expect(back.messages.exactness(5)).toEqual([5, 40, 1700000000, 1, [0, 2, 3]])
    expect(back.messages.quotingAt(1)).toBe('compat')
    expect(back.messages.exactness(3)).toBeUndefined()
  })
})

describe('structure', () => {
  it('computes the committed end and finds duplicate UIDs', () => {
    const ok = [
      {uid: 1, offset: 0, length: 10, flags: []},
      {uid: 2, offset: 10, length: 5, flags: []},
    ]
    expect(MessageTable.from(ok).end).toBe(15)
    expect(new MessageTable().end).toBe(0)
    expect(MessageTable.from([...ok, {uid: 2, offset: 15, length: 5, flags: []}]).duplicateUids()).toEqual([2])
  })
})

describe('serializeMetadataChunks', () => {
  it('produces the same text in pieces for large folders, with and without exactness records', () => {
    const messages = Array.from({length: 10_000}, (_, i) => ({uid: i + 1, offset: i * 10, length: 10, flags: i % 3 === 0 ? ['Seen'] : []}))
    const exact = new Map<number, ExactTuple>()
    for (let i = 5000; i < 10_000; i++) exact.set(i + 1, [i + 1, 8, null, 1, 0])
    const meta: FolderMetadata = {uidValidity: 1, messages: MessageTable.from(messages, exact, 'compat'), extraKeys: {}}
    const text = serializeMetadata(meta)
    expect(text).toBe(JSON.stringify({version: 3, uid_validity: 1, mailkeep: {format: 2, exact: 5000}, messages}))
    const exactText = serializeExactFile(meta)
    const rows = messages.filter((m) => exact.has(m.uid)).map((m) => [m.uid, m.offset, m.length, 8, null, 1, 0, 1])
    expect(exactText).toBe(JSON.stringify({mailkeep_exact: 1, uid_validity: 1, messages: rows}))
    const back = parseMetadata(text, P) as FolderMetadata
    expect([...back.messages]).toEqual(messages)
    bindExactFile(back.messages, parseExactFile(exactText, 'X'), 1)
    expect(back.messages.recordCount).toBe(5000)
    for (const [uid, record] of exact) expect(back.messages.exactness(uid)).toEqual(record)
    expect(serializeMetadata(back)).toBe(text)
    expect(serializeExactFile(back)).toBe(exactText)
    const bare = serializeMetadata({...meta, messages: MessageTable.from(messages)})
    expect([...(parseMetadata(bare, P) as FolderMetadata).messages]).toEqual(messages)
  })

  it('shares one frozen flags array per distinct flag list', () => {
    const meta = parseMetadata('{"version":3,"uid_validity":1,"messages":[{"uid":1,"offset":0,"length":5,"flags":["Seen"]},{"uid":2,"offset":5,"length":5,"flags":["Seen"]}]}', P) as FolderMetadata
    expect(meta.messages.flagsAt(0)).toBe(meta.messages.flagsAt(1))
    expect(Object.isFrozen(meta.messages.flagsAt(0))).toBe(true)
  })
})

describe('parse, then serialize', () => {
  it('gives back a file written by mailkeep byte for byte, whatever the values', () => {
    const text =
      '{"version":3,"uid_validity":4294967295,"mailkeep":{"format":2,"exact":0,"uidnext":9007199254740991,"highestmodseq":"1","journal":"j"},"messages":[' +
      '{"uid":1,"offset":0,"length":1,"flags":[]},' +
      '{"uid":2,"offset":1,"length":4294967296,"flags":["Seen","$Forwarded"]},' +
      '{"uid":4294967296,"offset":4294967297,"length":9,"flags":["a\\"b","\\u0000","ü ∑"]},' +
      '{"uid":9007199254740991,"offset":9007199254740900,"length":91,"flags":["Seen","$Forwarded"]}],' +
      '"other":[1,{"x":null}]}'
    expect(serializeMetadata(parseMetadata(text, P) as FolderMetadata)).toBe(text)
  })

  it("moves a format-1 file's records (mailkeep 0.1.0, strict quoting) to the exactness file, every value kept", () => {
    const text =
      '{"version":3,"uid_validity":4294967295,"mailkeep":{"format":1,"quoting":"mboxrd","uidnext":9007199254740991,"highestmodseq":"1","journal":"j"},"messages":[' +
      '{"uid":1,"offset":0,"length":1,"flags":[]},' +
      '{"uid":2,"offset":1,"length":4294967296,"flags":["Seen","$Forwarded"]},' +
      '{"uid":4294967296,"offset":4294967297,"length":9,"flags":["a\\"b","\\u0000","ü ∑"]},' +
      '{"uid":9007199254740991,"offset":9007199254740900,"length":91,"flags":["Seen","$Forwarded"]}],' +
      '"mailkeep_messages":[[1,0,null,0,0],[2,4294967299,-1,2,1],[4294967296,5,1e+21,1,[1,0,3]],[9007199254740991,9007199254740991,1700000000,0,"odd"]],' +
      '"other":[1,{"x":null}]}'
    const meta = parseMetadata(text, P) as FolderMetadata
    expect(meta.recordsInFile).toBe(4)
    for (let row = 0; row < 4; row++) expect(meta.messages.quotingAt(row)).toBe('strict')
    const rewritten = serializeMetadata(meta)
    expect(rewritten).toBe(text.replace('"format":1,"quoting":"mboxrd"', '"format":2,"exact":4').replace(/,"mailkeep_messages":\[.*\]\],/, ','))
    expect(serializeExactFile(meta)).toBe(
      '{"mailkeep_exact":1,"uid_validity":4294967295,"journal":"j","messages":[' +
        '[1,0,1,0,null,0,0,0],[2,1,4294967296,4294967299,-1,2,1,0],[4294967296,4294967297,9,5,1e+21,1,[1,0,3],0],[9007199254740991,9007199254740900,91,9007199254740991,1700000000,0,"odd",0]]}',
    )
  })

  it('binds format-1 records by UID, in the order of the messages', () => {
    const messages = '"messages":[{"uid":1,"offset":0,"length":5,"flags":[]},{"uid":2,"offset":5,"length":5,"flags":[]},{"uid":1,"offset":10,"length":5,"flags":[]}]'
    const head = '{"version":3,"uid_validity":1,"mailkeep":{"format":1,"quoting":"mboxrd"},'
    const cases: Array<[string, string]> = [
      // out of order, a record without its message (dropped), a UID's second record (it wins)
      ['[[3,1,null,0,0],[2,1,null,0,0],[1,1,null,0,0],[1,2,null,0,0]]', '[1,0,5,2,null,0,0,0],[2,5,5,1,null,0,0,0],[1,10,5,2,null,0,0,0]'],
      ['[]', ''],
      ['[[2 , 7, null, 0, 0]]', '[2,5,5,7,null,0,0,0]'],
    ]
    for (const [records, written] of cases) {
      const meta = parseMetadata(`${head}${messages},"mailkeep_messages":${records}}`, P) as FolderMetadata
      expect(serializeExactFile(meta)).toBe(`{"mailkeep_exact":1,"uid_validity":1,"messages":[${written}]}`)
    }
  })
})
