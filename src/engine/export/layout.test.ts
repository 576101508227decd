import {describe, expect, it} from 'vitest'
import {decodeFolderPath} from '../../store/folder-path.js'
import {emlFolderComponents, maildirBaseName, maildirFolderComponents, maildirInfo, maildirUniquePart} from './layout.js'

describe('folder directories', () => {
  it('use the store mapping, nested at /', () => {
    expect(maildirFolderComponents('INBOX')).toEqual(['INBOX'])
    expect(maildirFolderComponents('Work/Projects')).toEqual(['Work', 'Projects'])
    expect(maildirFolderComponents('..')).toEqual(['%2e;%2e;'])
    expect(maildirFolderComponents('a/../b')).toEqual(['a', '%2e;%2e;', 'b'])
    expect(maildirFolderComponents('C:x;y%')).toEqual(['C%3a;x%3b;y%25;'])
    expect(emlFolderComponents('/abs')).toEqual(['%2f;abs'])
  })

  it("escape a Maildir child named like its parent's cur/new/tmp, and an eml child named like a message", () => {
    expect(maildirFolderComponents('Sub/cur')).toEqual(['Sub', '%63;ur'])
    expect(maildirFolderComponents('Sub/NEW')).toEqual(['Sub', '%4e;EW'])
    expect(maildirFolderComponents('tmp')).toEqual(['tmp']) // the target itself is no Maildir
    expect(maildirFolderComponents('Sub/current')).toEqual(['Sub', 'current'])
    expect(emlFolderComponents('Sub/123.eml')).toEqual(['Sub', '123%2e;eml'])
    expect(emlFolderComponents('Sub/cur')).toEqual(['Sub', 'cur'])
    // Still the store's escape form: decoding gives the server name back.
    expect(decodeFolderPath(maildirFolderComponents('Sub/cur').join('/'))).toBe('Sub/cur')
    expect(decodeFolderPath(emlFolderComponents('Sub/123.eml').join('/'))).toBe('Sub/123.eml')
  })
})

describe('Maildir names', () => {
  it('are stable: time of receipt, UID and UIDVALIDITY', () => {
    expect(maildirBaseName(7, 1700, Date.UTC(2024, 0, 1))).toBe('1704067200.M7V1700.mailkeep')
    expect(maildirBaseName(7, 1700, null)).toBe('0.M7V1700.mailkeep')
    expect(maildirUniquePart('1704067200.M7V1700.mailkeep:2,S')).toBe('1704067200.M7V1700.mailkeep')
    expect(maildirUniquePart('plain')).toBe('plain')
  })

  it('carry the flags as :2, letters in ASCII order', () => {
    expect(maildirInfo([])).toBe(':2,')
    expect(maildirInfo(['Seen'])).toBe(':2,S')
    expect(maildirInfo(['Seen', 'Answered', 'Flagged', 'Draft', 'Deleted', '$Forwarded', '$Junk'])).toBe(':2,DFPRST')
    expect(maildirInfo(['seen', 'FLAGGED'])).toBe(':2,FS')
  })
})
