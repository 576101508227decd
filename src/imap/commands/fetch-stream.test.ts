import {describe, expect, it} from 'vitest'
import type {FetchData} from './fetch-response.js'
import {mergedItems} from './fetch-stream.js'

describe('mergedItems', () => {
  it('merges the split responses of a UID until they make an item, pushes it once, ignores UIDs outside the set', async () => {
    const pushed: Array<{uid: number; flags: string[]; size: number}> = []
    const consumer = mergedItems(
      (uid) => uid !== 9,
      (uid, m: FetchData) => (m.flags === undefined || m.size === undefined ? undefined : {uid, flags: m.flags, size: m.size}),
      async (item) => void pushed.push(item),
    )
    await consumer.data({uid: 1, flags: ['\\Seen']})
    await consumer.data({uid: 9, flags: [], size: 3})
    expect(pushed).toEqual([])
    await consumer.data({uid: 1, size: 10})
    await consumer.data({uid: 2, flags: [], size: 5})
    // A later unsolicited FLAGS for UID 1 starts afresh: the item was pushed already.
    await consumer.data({uid: 1, flags: ['\\Flagged']})
    expect(pushed).toEqual([
      {uid: 1, flags: ['\\Seen'], size: 10},
      {uid: 2, flags: [], size: 5},
    ])
    // A body literal's other items count as a response: the body itself is let pass.
    expect(consumer.body({uid: 3, flags: [], size: 1}, 1)).toBeUndefined()
    expect(pushed.at(-1)).toEqual({uid: 3, flags: [], size: 1})
  })
})
