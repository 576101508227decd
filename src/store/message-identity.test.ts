import {describe, expect, it} from 'vitest'
import type {UploadMapEntry} from './upload-map.js'
import {MessageIdentity, onDestination, restoredCopiesIn, toAppend} from './message-identity.js'

const entry = (s: number | undefined, d: number | undefined, pairs: Array<[number, number]>): UploadMapEntry => ({
  folder: 'F',
  sourceUidValidity: s,
  destinationUidValidity: d,
  map: new Map(pairs),
  pending: undefined,
  clash: false,
})

describe('MessageIdentity', () => {
  it('joins copies with their originals, also through a chain of restores', () => {
    // 3 was restored as 6; 6 was lost on the server too and restored again as 9.
    const id = new MessageIdentity([
      [6, 3],
      [9, 6],
      [12, 10],
    ])
    expect(id.members(3)).toEqual([3, 6, 9])
    expect(id.members(9)).toEqual([3, 6, 9])
    expect(id.members(10)).toEqual([10, 12])
    expect(id.members(1)).toEqual([1])
    expect(id.trivial).toBe(false)
    expect(new MessageIdentity().trivial).toBe(true)
  })
})

describe('restoredCopiesIn: what the folder’s own restore map shows', () => {
  const stored = (uids: number[]) => (u: number) => uids.includes(u)

  it('a copy the backup holds is a restored copy of its source UID (same UIDVALIDITY on both sides)', () => {
    expect(restoredCopiesIn(entry(7, 7, [[1, 1], [3, 6], [4, 8]]), 7, stored([1, 2, 3, 4, 5, 6]))).toEqual([[6, 3]])
  })

  it('nothing under another UIDVALIDITY: the destination UIDs are not the folder’s own then', () => {
    expect(restoredCopiesIn(entry(7, 8, [[3, 6]]), 7, stored([3, 6]))).toEqual([])
    expect(restoredCopiesIn(entry(6, 7, [[3, 6]]), 7, stored([3, 6]))).toEqual([])
    expect(restoredCopiesIn(undefined, 7, stored([3, 6]))).toEqual([])
  })
})

describe('toAppend: the upload decision (U7, a destination never holds more copies than the backup)', () => {
  it('never appends a message one of whose entries already has its copy', () => {
    // The loop of issue 11 item 1: 3 was restored as 6, the backup downloaded 6; the map says
    // 3 → 6. Without the identity, 6 was appended again (and then its copy, and so on).
    const mapped = (u: number): boolean => [1, 2, 3, 4, 5].includes(u)
    expect(toAppend([1, 2, 3, 4, 5, 6], new MessageIdentity(), mapped)).toEqual([6])
    expect(toAppend([1, 2, 3, 4, 5, 6], new MessageIdentity([[6, 3]]), mapped)).toEqual([])
  })

  it('appends one copy of a message of several entries, of its newest entry', () => {
    const id = new MessageIdentity([
      [6, 3],
      [9, 6],
    ])
    expect(toAppend([1, 3, 6, 9], id, () => false)).toEqual([1, 9])
    // An entry no longer in the backup (mirror mode removed it) still counts when it is mapped.
    expect(toAppend([6, 9], id, (u) => u === 3)).toEqual([])
    expect(onDestination(9, id, (u) => u === 3)).toBe(true)
    expect(onDestination(1, id, (u) => u === 3)).toBe(false)
  })

  it('byte-identical messages that are not linked stay two messages: each gets its copy', () => {
    expect(toAppend([4, 5], new MessageIdentity([[9, 8]]), () => false)).toEqual([4, 5])
  })

  it('for every message, at most one entry is appended, and none when one is mapped (random cases)', () => {
    let seed = 42
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed % n
    }
    for (let round = 0; round < 200; round++) {
      const uids = Array.from({length: 1 + random(30)}, (_, i) => i + 1)
      const pairs: Array<[number, number]> = []
      for (let i = random(10); i > 0; i--) pairs.push([1 + random(40), 1 + random(40)])
      const id = new MessageIdentity(pairs.filter(([a, b]) => a !== b))
      const mappedSet = new Set(uids.filter(() => random(4) === 0))
      const appended = toAppend(uids, id, (u) => mappedSet.has(u))
      const byClass = new Map<number, number>()
      for (const u of appended) {
        expect(id.members(u).some((m) => mappedSet.has(m))).toBe(false)
        const key = id.members(u)[0]!
        byClass.set(key, (byClass.get(key) ?? 0) + 1)
      }
      expect([...byClass.values()].every((n) => n === 1)).toBe(true)
      // Nothing missing: every message without a copy gets one.
      for (const u of uids) expect(onDestination(u, id, (m) => mappedSet.has(m) || appended.includes(m))).toBe(true)
    }
  })
})
