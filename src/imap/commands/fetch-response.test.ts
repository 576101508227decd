import {describe, expect, it} from 'vitest'
import {messageSummary} from './fetch-response.js'

describe('messageSummary', () => {
  it('takes the merged items, the size the caller gives, and MODSEQ only when the server sent it', () => {
    const date = new Date('2026-01-02T03:04:05Z')
    expect(messageSummary(7, {uid: 7, flags: ['\\Seen'], internalDate: date, size: 99, modseq: '42'}, 12)).toEqual({uid: 7, flags: ['\\Seen'], internalDate: date, size: 12, modseq: '42'})
    const bare = messageSummary(8, {uid: 8}, 0)
    expect(bare).toEqual({uid: 8, flags: [], internalDate: null, size: 0})
    expect('modseq' in bare).toBe(false)
  })
})
