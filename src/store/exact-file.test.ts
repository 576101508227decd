import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {bindExactFile, parseExactFile, scanExactFile, serializeExactChunks, serializeExactFile, type ExactBinding} from './exact-file.js'
import {emptyMetadata, type FolderMetadata} from './metadata.js'
import {MessageTable} from './message-table.js'

/** Entries with (or without) records, in mbox order; a few records out of line or stale. */
const folder = fc
  .record({
    uidValidity: fc.integer({min: 1, max: 2 ** 31}),
    journal: fc.option(fc.constantFrom('k3j9', 'abc'), {nil: undefined}),
    rows: fc.array(
      fc.record({
        gap: fc.integer({min: 1, max: 50}),
        length: fc.integer({min: 1, max: 10 ** 6}),
        record: fc.option(
          fc.tuple(fc.nat(), fc.option(fc.integer({min: -(2 ** 40), max: 2 ** 40}), {nil: null}), fc.constantFrom<0 | 1 | 2>(0, 1, 2), fc.constantFrom<unknown>(0, 1, [0, 3, 1], [1, 1], 7), fc.constantFrom<'compat' | 'strict'>('compat', 'strict')),
          {nil: undefined},
        ),
      }),
      {maxLength: 40},
    ),
  })
  .map(({uidValidity, journal, rows}) => {
    const meta = emptyMetadata(uidValidity)
    if (journal !== undefined) meta.journalId = journal
    meta.messages = new MessageTable()
    let uid = 0
    let offset = 0
    for (const r of rows) {
      uid += r.gap
      const row = meta.messages.pushRow(uid, offset, r.length, [])
      if (r.record !== undefined) meta.messages.setRecordAt(row, ...r.record)
      offset += r.length
    }
    return meta
  })

/**
 * The same entries without records: what a folder holds before its exactness file is read; with
 * `moved`, that entry one byte further (another tool rewrote the folder): its row does not bind.
 */
function bare(meta: FolderMetadata, moved?: number): MessageTable {
  const table = new MessageTable()
  const m = meta.messages
  for (let row = 0; row < m.length; row++) table.pushRow(m.uidAt(row), m.offsetAt(row) + (row === moved ? 1 : 0), m.lengthAt(row), [])
  return table
}

function records(table: MessageTable): unknown[] {
  const out: unknown[] = []
  for (let row = 0; row < table.length; row++) out.push([table.exactnessAt(row), table.quotingAt(row)])
  return out
}

describe('reading an exactness file byte by byte', () => {
  it('binds exactly what parseExactFile and bindExactFile bind, for every file mailkeep writes', () => {
    fc.assert(
      fc.property(folder, fc.option(fc.nat(), {nil: undefined}), (meta, shift) => {
        const bytes = Buffer.from(serializeExactFile(meta))
        const moved = shift === undefined || meta.messages.length === 0 ? undefined : shift % meta.messages.length
        const target = bare(meta, moved)
        const reference = bare(meta, moved)
        const scanned = scanExactFile(bytes, target, meta.uidValidity)
        const binding: ExactBinding = bindExactFile(reference, parseExactFile(bytes.toString('utf8'), 'x'), meta.uidValidity)
        expect(scanned).toBeDefined()
        expect(scanned!.binding).toEqual(binding)
        expect(records(target)).toEqual(records(reference))
      }),
      {numRuns: 300},
    )
  })

  it('declines what it does not read exactly, and a file of another UIDVALIDITY', () => {
    const meta = emptyMetadata(42)
    meta.messages.pushRow(1, 0, 10, [])
    meta.messages.setRecordAt(0, 9, null, 1, 0, 'compat')
    const text = serializeExactFile(meta)
    expect(scanExactFile(Buffer.from(text), bare(meta), 42)).toBeDefined()
    expect(scanExactFile(Buffer.from(text), bare(meta), 43)).toBeUndefined()
    for (const changed of [text.replace('[1,0,10', '[1, 0,10'), text.replace(']}', '],"x":1}'), text.replace('"uid_validity":42', '"uid_validity":42,"more":1'), text.replace(',0,1]', ',0.5,1]')]) {
      expect(scanExactFile(Buffer.from(changed), bare(meta), 42), changed).toBeUndefined()
    }
  })

  it('writes the rows it read back as they were while their records did not change', () => {
    fc.assert(
      fc.property(folder, fc.array(fc.nat(), {maxLength: 4}), fc.option(fc.nat(), {nil: undefined}), (meta, added, reset) => {
        const table = bare(meta)
        const scanned = scanExactFile(Buffer.from(serializeExactFile(meta)), table, meta.uidValidity)!
        const next: FolderMetadata = {...meta, messages: table}
        let uid = table.length === 0 ? 0 : table.uidAt(table.length - 1)
        for (const size of added) {
          const row = table.pushRow(++uid, table.end, 5, [])
          table.setRecordAt(row, size, null, 1, 0, 'compat')
        }
        // A record set again for an entry read from the file: its row must be formatted again.
        if (reset !== undefined && table.length > 0) table.setRecordAt(reset % table.length, 1, null, 2, 1, 'strict')
        next.journalId = 'new'
        const spliced = [...serializeExactChunks(next, scanned.pristine)].map((c) => c.toString()).join('')
        expect(spliced).toBe(serializeExactFile(next))
      }),
      {numRuns: 300},
    )
  })
})
