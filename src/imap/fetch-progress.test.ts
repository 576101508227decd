import {describe, expect, it} from 'vitest'
import {fetchProgress} from './fetch-progress.js'

describe('fetchProgress', () => {
  it('counts a UID of the set beyond those seen, either way; not a repeat, not one outside the set', () => {
    let marks = 0
    const seen = fetchProgress('1:10,20', () => marks++)
    seen(5)
    seen(5) // the same response again
    seen(undefined) // a response without UID (an unsolicited FLAGS)
    seen(15) // not asked for
    expect(marks).toBe(1)
    seen(6)
    seen(4) // descending order is progress too
    seen(5) // inside what was seen already
    seen(20)
    expect(marks).toBe(4)
  })
})
