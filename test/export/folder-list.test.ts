import {describe, expect, it} from 'vitest'
import {parseFolderList} from '../../src/cli/commands/utils/export.js'

describe('--folders', () => {
  it('splits at commas; \\, is a comma inside a name and \\\\ a backslash', () => {
    expect(parseFolderList(undefined)).toBeUndefined()
    expect(parseFolderList('INBOX')).toEqual(['INBOX'])
    expect(parseFolderList('INBOX,Sent,Work/Projects')).toEqual(['INBOX', 'Sent', 'Work/Projects'])
    expect(parseFolderList('Sales\\, 2024,INBOX')).toEqual(['Sales, 2024', 'INBOX'])
    expect(parseFolderList('a\\\\,b')).toEqual(['a\\', 'b'])
    expect(parseFolderList('a\\b')).toEqual(['a\\b'])
    expect(parseFolderList(',INBOX,,')).toEqual(['INBOX'])
  })
})
