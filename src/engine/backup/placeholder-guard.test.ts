import {describe, expect, it} from 'vitest'
import {readPlaceholderRecord} from '../../store/placeholder-record.js'
import {withTempDir} from '../../../test/support/temp-dir.js'
import type {FolderReport} from './types.js'
import {noteBackedUp, recordMovedAside, withPlaceholders, type PlaceholderGuard} from './placeholder-guard.js'
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

// Soak seed 3555785069 on Courier: the move of a backup aside must be on disk before the rename,
// or a run stopped after it forgets that the moved backup is older than the placeholders.
describe('recordMovedAside', () => {
  it('records the entry under the new name too, and writes it at once', async () => {
    await withTempDir(async (root) => {
      const record = new Map([
        ['Old', new Set(['W'])],
        ['Other', new Set(['V'])],
      ])
      await recordMovedAside(root, record, 'Old', 'Old-7')
      const onDisk = await readPlaceholderRecord(root)
      expect(onDisk.get('Old-7')).toEqual(new Set(['W']))
      expect(onDisk.get('Old')).toEqual(new Set(['W']))
      expect(record.get('Old-7')).toEqual(new Set(['W']))
    })
  })

  it('writes nothing for a folder without an entry, or when the record could not be read', async () => {
    await withTempDir(async (root) => {
      await recordMovedAside(root, new Map([['Other', new Set(['V'])]]), 'Old', 'Old-7')
      await recordMovedAside(root, undefined, 'Old', 'Old-7')
      expect((await readPlaceholderRecord(root)).size).toBe(0)
    })
  })
})
