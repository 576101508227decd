import {describe, expect, it} from 'vitest'
import type {FolderReport} from './types.js'
import {noteBackedUp, withPlaceholders, type PlaceholderGuard} from './placeholder-guard.js'
import {emptyFolderReport} from './folder-report.js'

const report = (folder: string, outcome: FolderReport['outcome'], renamedTo?: string): FolderReport => ({...emptyFolderReport(folder), outcome, ...(renamedTo === undefined ? {} : {renamedTo})})

describe('which backups are older than ignore-history placeholders', () => {
  it('ignore-history: every local folder is older than the folders that got placeholders; a moved-aside backup under its new name', () => {
    const read = new Map([['Earlier', new Set(['INBOX'])]])
    const record = withPlaceholders(read, ['Earlier', 'Old', 'Work'], new Set(['New']), new Map([['Work', 'Work-7']]))
    expect(record).toEqual(
      new Map([
        ['Earlier', new Set(['INBOX', 'New'])],
        ['Old', new Set(['New'])],
        ['Work-7', new Set(['New'])],
      ]),
    )
    expect(read).toEqual(new Map([['Earlier', new Set(['INBOX'])]]))
    expect(withPlaceholders(read, ['Old'], new Set())).toEqual(read)
  })

  it('a backup: a completed folder is up to date again, a failed one is not, a moved-aside backup keeps its entry', () => {
    const guard: PlaceholderGuard = {
      read: new Map(),
      record: new Map([
        ['A', new Set(['W'])],
        ['B', new Set(['W'])],
        ['C', new Set(['W'])],
        ['D', new Set(['W'])],
      ]),
    }
    noteBackedUp(guard, [report('A', 'ok'), report('B', 'failed'), report('C', 'unchanged'), report('D', 'ok', 'D-5')])
    expect(guard.record).toEqual(
      new Map([
        ['B', new Set(['W'])],
        ['D-5', new Set(['W'])],
      ]),
    )
  })
})
