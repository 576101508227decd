import {describe, expect, it} from 'vitest'
import {isTypoOf, nearestTypo} from './nearest.js'

describe('nearestTypo', () => {
  it('finds one or two edits in longer words, one in short ones', () => {
    expect(nearestTypo('savepoint_mesages', ['savepoint_messages', 'savepoint_bytes'])).toBe('savepoint_messages')
    expect(nearestTypo('prot', ['port', 'ssl'])).toBe('port')
    expect(nearestTypo('sll', ['port', 'ssl'])).toBe('ssl')
    expect(nearestTypo('log-format', ['log_format'])).toBe('log_format')
  })

  it('does not take unrelated or exact words for typos', () => {
    expect(nearestTypo('comment', ['accounts', 'version', 'download_strategy'])).toBeUndefined()
    expect(isTypoOf('ssl', 'ssl')).toBe(false)
    expect(nearestTypo('abc', ['ssl'])).toBeUndefined()
  })
})
