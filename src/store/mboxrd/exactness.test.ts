import {describe, expect, test} from 'vitest'
import {DamagedError} from '../../shared/errors.js'
import {
  EolBuilder,
  EolCursor,
  fromExactnessTuple,
  toExactnessTuple,
  validateExactnessRecord,
  type EolKinds,
} from './exactness.js'

function build(kinds: boolean[]): EolKinds {
  const builder = new EolBuilder()
  for (const k of kinds) builder.add(k)
  return builder.build()
}

function expand(eol: EolKinds, count: number): boolean[] {
  const cursor = new EolCursor(eol)
  const out = Array.from({length: count}, () => cursor.next())
  expect(cursor.unreached).toBe(0)
  return out
}

const T = true
const F = false

describe('EolBuilder', () => {
  test('no line breaks, all CRLF, all bare', () => {
    expect(build([])).toBe(0)
    expect(build([T, T, T])).toBe(0)
    expect(build([F, F])).toBe(1)
  })

  test('mixed: lists the rarer kind, delta-encoded from -1', () => {
    // LF #2 is the only bare one: [0, 2+1]
    expect(build([T, T, F, T])).toEqual([0, 3])
    // LFs #0 and #3 are the only CRLFs: [1, 0+1, 3-0]
    expect(build([T, F, F, T, F])).toEqual([1, 1, 3])
    // bare at #1, #2, #5 among 7 → [0, 2, 1, 3]
    expect(build([T, F, F, T, T, F, T])).toEqual([0, 2, 1, 3])
  })

  test('a tie lists the bare LFs', () => {
    expect(build([T, F])).toEqual([0, 2])
    expect(build([F, T])).toEqual([0, 1])
  })

  test('round-trips through EolCursor', () => {
    const cases: boolean[][] = [[], [T], [F], [T, F, T, F, F, F, T], [F, F, F, T, T, F, T, T, T, T]]
    for (const kinds of cases) expect(expand(build(kinds), kinds.length)).toEqual(kinds)
  })
})

describe('EolCursor', () => {
  test('reports listed line breaks that were never reached', () => {
    const cursor = new EolCursor([0, 1, 5])
    cursor.next()
    cursor.next()
    expect(cursor.unreached).toBe(1)
  })
})

describe('validateExactnessRecord', () => {
  test('accepts well-formed records', () => {
    expect(validateExactnessRecord({size: 10, appended: 1, eol: 0})).toEqual({size: 10, appended: 1, eol: 0})
    expect(validateExactnessRecord({size: 10, appended: 0, eol: [1, 2, 3]})).toEqual({size: 10, appended: 0, eol: [1, 2, 3]})
  })

  test.each([
    [null, /expected an object/],
    [[1, 2], /expected an object/],
    [{size: -1, appended: 0, eol: 0}, /size must be a non-negative integer, got -1/],
    [{size: 1.5, appended: 0, eol: 0}, /size must be/],
    [{size: '3', appended: 0, eol: 0}, /size must be/],
    [{size: 3, appended: 3, eol: 0}, /appended must be 0, 1 or 2, got 3/],
    [{size: 3, appended: 0, eol: 2}, /eol must be 0, 1 or an array/],
    [{size: 3, appended: 0, eol: [0]}, /at least one line break/],
    [{size: 3, appended: 0, eol: [2, 1]}, /eol\[0\] must be 0 or 1/],
    [{size: 3, appended: 0, eol: [0, 0]}, /eol\[1\] must be a positive integer, got 0/],
    [{size: 3, appended: 0, eol: [0, 1, 'x']}, /eol\[2\] must be a positive integer/],
    [{size: 3, appended: 0, eol: [0, 2, 2]}, /lists line break 3, but the message has only 3 bytes/],
  ])('rejects %j', (value, message) => {
    expect(() => validateExactnessRecord(value, 'UID 7')).toThrow(DamagedError)
    expect(() => validateExactnessRecord(value, 'UID 7')).toThrow(message)
    expect(() => validateExactnessRecord(value, 'UID 7')).toThrow(/^UID 7: /)
  })
})

describe('exactness tuples', () => {
  test('round-trip through JSON', () => {
    const record = {size: 3812, appended: 1, eol: [0, 4, 2]} as const
    const tuple = toExactnessTuple(12, 1700000000, record)
    expect(tuple).toEqual([12, 3812, 1700000000, 1, [0, 4, 2]])
    expect(fromExactnessTuple(JSON.parse(JSON.stringify(tuple)))).toEqual({uid: 12, internaldate: 1700000000, record})
    expect(fromExactnessTuple([1, 0, null, 2, 0])).toEqual({uid: 1, internaldate: null, record: {size: 0, appended: 2, eol: 0}})
  })

  test('rejects malformed tuples with the UID in the message', () => {
    expect(() => fromExactnessTuple({uid: 1})).toThrow(/expected \[uid, size, internaldate, appended, eol\]/)
    expect(() => fromExactnessTuple([0, 1, null, 0, 0])).toThrow(/uid must be an integer/)
    expect(() => fromExactnessTuple([1, 1, 'yesterday', 0, 0])).toThrow(/internaldate must be/)
    expect(() => fromExactnessTuple([5, 1, null, 7, 0])).toThrow(/\(uid 5\): appended must be/)
  })
})
