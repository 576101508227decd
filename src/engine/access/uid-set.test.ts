import {describe, expect, it} from 'vitest'
import {slices, uidSet} from './uid-set.js'

describe('uidSet', () => {
  it('compresses ascending UIDs into ranges', () => {
    expect(uidSet([1])).toBe('1')
    expect(uidSet([1, 2, 3, 5, 7, 8])).toBe('1:3,5,7:8')
    expect(uidSet([4, 9, 10, 11])).toBe('4,9:11')
    expect(() => uidSet([])).toThrow()
    // The IMAP layer's codec: unsorted and repeated UIDs give the same set.
    expect(uidSet([8, 7, 1, 3, 2, 5, 3])).toBe('1:3,5,7:8')
  })

  it('slices', () => {
    expect(slices([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]])
    expect(slices([], 2)).toEqual([])
  })
})
