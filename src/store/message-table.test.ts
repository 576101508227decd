import {describe, expect, it} from 'vitest'
import {InternalError} from '../shared/errors.js'
import {internFlags} from './flags.js'
import {MessageTable, type ExactTuple, type MessageEntry} from './message-table.js'

const entry = (uid: number, offset = uid * 10, length = 10, flags: string[] = []): MessageEntry => ({uid, offset, length, flags})

describe('MessageTable', () => {
  it('gives back what was pushed, entry by entry and column by column', () => {
    const table = new MessageTable(2) // grows past its first capacity
    const records: Array<ExactTuple | undefined> = [[1, 5, 1_700_000_000, 1, 0], undefined, [3, 0, null, 2, [1, 4]], [4, 7, -86_400, 0, 1]]
    for (const [i, record] of records.entries()) table.push(entry(i + 1, i * 10, 10, i % 2 === 0 ? ['Seen'] : []), record, i === 2 ? 'strict' : 'compat')
    expect(table.length).toBe(4)
    expect(table.end).toBe(40)
    expect(table.recordCount).toBe(3)
    expect([...table]).toEqual([entry(1, 0, 10, ['Seen']), entry(2, 10), entry(3, 20, 10, ['Seen']), entry(4, 30)])
    expect(records.map((_, i) => table.exactnessAt(i))).toEqual(records)
    expect(records.map((_, i) => table.quotingAt(i))).toEqual(['compat', undefined, 'strict', 'compat'])
    expect([table.uidAt(2), table.offsetAt(2), table.lengthAt(2), table.flagsAt(2), table.flagsJsonAt(2)]).toEqual([3, 20, 10, ['Seen'], '["Seen"]'])
    expect(table.get(3)).toEqual(entry(3, 20, 10, ['Seen']))
    expect(table.exactness(3)).toEqual([3, 0, null, 2, [1, 4]])
    expect(table.exactness(2)).toBeUndefined()
    expect(table.get(9)).toBeUndefined()
    expect(() => table.entryAt(4)).toThrow(InternalError)
  })

  it('holds every value the .imap parser accepts exactly, past 32 bits too', () => {
    const table = new MessageTable()
    const big = Number.MAX_SAFE_INTEGER
    table.push(entry(1, 0, 1))
    table.push(entry(2 ** 32 + 7, 5 * 2 ** 30, 2 ** 32), [2 ** 32 + 7, big, -1, 1, 0], 'compat')
    table.push(entry(2 ** 32 + 8, big - 1, 1), [2 ** 32 + 8, 3, 1e21, 0, 'not an eol'], 'strict')
    expect([...table]).toEqual([entry(1, 0, 1), entry(2 ** 32 + 7, 5 * 2 ** 30, 2 ** 32), entry(2 ** 32 + 8, big - 1, 1)])
    expect(table.exactnessAt(1)).toEqual([2 ** 32 + 7, big, -1, 1, 0])
    expect(table.exactnessAt(2)).toEqual([2 ** 32 + 8, 3, 1e21, 0, 'not an eol'])
    expect(table.end).toBe(big)
    expect(table.indexOf(2 ** 32 + 8)).toBe(2)
  })

  it('finds UIDs by binary search in an ascending folder', () => {
    const table = new MessageTable()
    for (let uid = 2; uid <= 200_000; uid += 2) table.push(entry(uid))
    expect(table.indexOf(2)).toBe(0)
    expect(table.indexOf(200_000)).toBe(99_999)
    expect(table.indexOf(1_234)).toBe(616)
    for (const missing of [0, 1, 3, 1_235, 200_001, 2 ** 40]) expect(table.has(missing)).toBe(false)
    expect(table.distinctUids()).toHaveLength(100_000)
    expect(table.duplicateUids()).toEqual([])
  })

  it('finds UIDs appended out of order (a message retried in a later run), in few runs or many', () => {
    for (const uids of [
      [5, 6, 7, 2, 8, 9, 1, 10],
      Array.from({length: 500}, (_, i) => (i * 7919) % 500 + 1), // shuffled: beyond the runs, a Map
    ]) {
      const table = new MessageTable()
      const half = uids.length >> 1
      for (const uid of uids.slice(0, half)) table.push(entry(uid))
      for (const [row, uid] of uids.slice(0, half).entries()) expect(table.indexOf(uid)).toBe(row)
      // Pushes after the first lookups are found as well.
      for (const uid of uids.slice(half)) table.push(entry(uid))
      for (const [row, uid] of uids.entries()) expect(table.indexOf(uid)).toBe(row)
      expect(table.has(0)).toBe(false)
      expect(table.has(Math.max(...uids) + 1)).toBe(false)
      expect(table.distinctUids()).toEqual(uids)
    }
  })

  it('with a UID listed twice (imap-backup), finds and changes the first entry', () => {
    const table = MessageTable.from([entry(1), entry(2), entry(3), entry(2, 40), entry(4)])
    expect(table.indexOf(2)).toBe(1)
    expect(table.get(2)!.offset).toBe(20)
    expect(table.indexOf(4)).toBe(4)
    expect(table.duplicateUids()).toEqual([2])
    expect(table.distinctUids()).toEqual([1, 2, 3, 4])
    expect(table.setFlags(2, ['Seen'])).toBe(true)
    expect([table.flagsAt(1), table.flagsAt(3)]).toEqual([['Seen'], []])
    expect(table.setFlags(9, ['Seen'])).toBe(false)
  })

  it('keeps one frozen array per distinct flag list, and its own copy of the caller’s', () => {
    const table = new MessageTable()
    const mutable = ['Seen', '$Label']
    table.push(entry(1, 0, 10, mutable))
    table.push(entry(2, 10, 10, ['Seen', '$Label']))
    table.push(entry(3, 20, 10, internFlags(['Flagged'])))
    table.push(entry(4, 30, 10, internFlags(['Flagged'])))
    mutable.push('Deleted')
    table.push(entry(5, 40, 10, mutable))
    expect(table.flagsAt(0)).toBe(table.flagsAt(1))
    expect(table.flagsAt(0)).toEqual(['Seen', '$Label'])
    expect(Object.isFrozen(table.flagsAt(0))).toBe(true)
    expect(table.flagsAt(2)).toBe(table.flagsAt(3))
    expect(table.flagsAt(4)).toEqual(['Seen', '$Label', 'Deleted'])
    expect(table.flagsJsonAt(4)).toBe('["Seen","$Label","Deleted"]')
    table.setFlags(1, [])
    expect(table.flagsAt(0)).toEqual([])
  })

  it('replaces a record in place and refuses records it could not give back', () => {
    const table = MessageTable.from([entry(1), entry(2)])
    table.setRecordAt(0, 9, null, 1, [0, 1], 'strict')
    table.setRecordAt(0, 9, 5, 2, 1, 'compat')
    expect(table.recordCount).toBe(1)
    expect(table.exactnessAt(0)).toEqual([1, 9, 5, 2, 1])
    expect(table.quotingAt(0)).toBe('compat')
    expect(table.quotingAt(1)).toBeUndefined()
    expect(() => table.setRecordAt(1, 9, null, 3, 0, 'compat')).toThrow(InternalError)
    expect(() => table.push(entry(3), [4, 1, null, 0, 0], 'compat')).toThrow(/record of UID 4 given for UID 3/)
    expect(() => table.push(entry(3), [3, 1, null, 0, 0])).toThrow(/without its quoting rule/)
  })

  it('builds from entries and records by UID, as the repair does', () => {
    const exact = new Map<number, ExactTuple>([[2, [2, 8, null, 0, 0]]])
    const table = MessageTable.from([entry(1), entry(2), entry(2, 30)], exact)
    expect([table.exactnessAt(0), table.exactnessAt(1), table.exactnessAt(2)]).toEqual([undefined, [2, 8, null, 0, 0], [2, 8, null, 0, 0]])
  })
})
