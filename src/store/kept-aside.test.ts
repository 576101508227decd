import {describe, expect, it} from 'vitest'
import {keptAsideOrigin, originsFirst} from './kept-aside.js'

describe('keptAsideOrigin', () => {
  it('recognises the names a UIDVALIDITY change gives (`-<uv>`, `-<uv>-<n>`) by the folder’s own UIDVALIDITY', () => {
    expect(keptAsideOrigin('Work-1700000000', 1700000000)).toBe('Work')
    expect(keptAsideOrigin('INBOX.Lists.rust-42-3', 42)).toBe('INBOX.Lists.rust')
    expect(keptAsideOrigin('a-1-1-2', 1)).toBe('a-1')
    expect(keptAsideOrigin('a-1-2-1', 1)).toBe('a-1-2')
    // A kept-aside copy of a kept-aside folder goes to the folder it was moved from.
    expect(keptAsideOrigin('Work-17-17', 17)).toBe('Work-17')
  })

  it('a folder whose name merely ends in digits is not one', () => {
    expect(keptAsideOrigin('Invoices-2023', 1700000000)).toBeUndefined()
    expect(keptAsideOrigin('Invoices-2023-1', 1700000000)).toBeUndefined()
    expect(keptAsideOrigin('-42', 42)).toBeUndefined()
    expect(keptAsideOrigin('Work-42', undefined)).toBeUndefined()
    expect(keptAsideOrigin('Work42', 42)).toBeUndefined()
  })
})

describe('originsFirst', () => {
  it('puts a folder before the folders named after it, otherwise keeps the order', () => {
    // The local listing sorts `Work-17.imap` before `Work.imap` ('-' < '.').
    expect(originsFirst(['A', 'Work-17', 'Work-17-17', 'Work', 'Work.sub'])).toEqual(['A', 'Work', 'Work.sub', 'Work-17', 'Work-17-17'])
    expect(originsFirst(['x-1', 'y'])).toEqual(['x-1', 'y'])
  })
})
