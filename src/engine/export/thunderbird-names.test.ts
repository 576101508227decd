import {describe, expect, it} from 'vitest'
import {splitFolderName, thunderbirdFileName} from './thunderbird-names.js'

describe('splitFolderName', () => {
  it('splits at / like the store, keeping a / that would leave an empty component', () => {
    expect(splitFolderName('INBOX')).toEqual(['INBOX'])
    expect(splitFolderName('[Gmail]/All Mail')).toEqual(['[Gmail]', 'All Mail'])
    expect(splitFolderName('a/b/c')).toEqual(['a', 'b', 'c'])
    expect(splitFolderName('/x')).toEqual(['/x'])
    expect(splitFolderName('a/')).toEqual(['a/'])
    expect(splitFolderName('a//b')).toEqual(['a', '/b'])
    expect(splitFolderName('INBOX.Sub')).toEqual(['INBOX.Sub'])
  })
})

describe('thunderbirdFileName', () => {
  it('keeps ordinary names as the server has them, : and ; included', () => {
    for (const name of ['INBOX', 'Sent Items', 'Entwürfe', 'C:colon;semi', '[Gmail]', 'a.b', '日本語', 'x'.repeat(100), '😀 emoji']) {
      expect(thunderbirdFileName(name)).toBe(name)
    }
  })

  it('escapes what is unsafe or hidden from Thunderbird', () => {
    expect(thunderbirdFileName('..')).toBe('%2e;.')
    expect(thunderbirdFileName('.')).toBe('%2e;')
    expect(thunderbirdFileName('.hidden')).toBe('%2e;hidden')
    expect(thunderbirdFileName('#draft')).toBe('%23;draft')
    expect(thunderbirdFileName('backup~')).toBe('backup%7e;')
    expect(thunderbirdFileName('100%')).toBe('100%25;')
    expect(thunderbirdFileName('/x')).toBe('%2f;x')
    expect(thunderbirdFileName('tab\there\u0000\u007f')).toBe('tab%9;here%0;%7f;')
    expect(thunderbirdFileName('lone\ud800')).toBe('lone%d800;')
    expect(thunderbirdFileName('')).toBe('%2f;')
  })

  it("escapes the dot of Thunderbird's own suffixes and file names", () => {
    expect(thunderbirdFileName('x.msf')).toBe('x%2e;msf')
    expect(thunderbirdFileName('Y.SBD')).toBe('Y%2e;SBD')
    expect(thunderbirdFileName('a.snm')).toBe('a%2e;snm')
    expect(thunderbirdFileName('a.toc')).toBe('a%2e;toc')
    expect(thunderbirdFileName('a.mozmsgs')).toBe('a%2e;mozmsgs')
    expect(thunderbirdFileName('rules.dat')).toBe('rules%2e;dat')
    expect(thunderbirdFileName('Filters.js')).toBe('Filters%2e;js')
    expect(thunderbirdFileName('feeds.json.tmp')).toBe('feeds%2e;json.tmp')
    expect(thunderbirdFileName('feeditems_error_1')).toBe('feeditems%5f;error_1')
    expect(thunderbirdFileName('.msf')).toBe('%2e;msf')
  })

  it('is injective on a sample of tricky names', () => {
    const names = ['%2e;x', '.x', '%x', '%25;x', 'x.msf', 'x%2e;msf', '~', '%7e;', '#', '%23;', 'a', 'A']
    const mapped = names.map(thunderbirdFileName)
    expect(new Set(mapped).size).toBe(names.length)
    for (const m of mapped) expect(m === '.' || m === '..' || m.includes('/') || m === '').toBe(false)
  })
})
