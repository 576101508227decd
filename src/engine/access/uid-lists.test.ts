import {describe, expect, it} from 'vitest'
import {ascending, slices} from './uid-lists.js'

describe('UID lists', () => {
  it('slices', () => {
    expect(slices([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]])
    expect(slices([], 2)).toEqual([])
  })

  it('ascending sorts numbers, not their decimal strings', () => {
    expect([10, 9, 100, 1].sort(ascending)).toEqual([1, 9, 10, 100])
  })
})
