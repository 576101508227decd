import {describe, expect, it} from 'vitest'
import {FolderStore} from './folder-store.js'
import {pendingRestoredCopies} from './pending-copies.js'
import type {UploadMapEntry} from './upload-map.js'
import {silentLogger} from '../shared/logger.js'
import {withTempDir} from '../../test/support/temp-dir.js'

const msg = (n: number, end = '\r\n'): Buffer => Buffer.from(`Subject: m${n}\r\n\r\nbody ${n}${end}`)
const entry = (uv: number, pending: {from: number; uids: number[]} | undefined, map: Array<[number, number]> = [], clash = false): UploadMapEntry => ({
  folder: 'INBOX',
  sourceUidValidity: uv,
  destinationUidValidity: uv,
  map: new Map(map),
  pending,
  clash,
})

/** A folder of `messages` (UID → bytes), committed. */
async function folderWith(root: string, messages: Array<[number, Buffer]>): Promise<FolderStore> {
  const folder = await FolderStore.open(root, 'INBOX', {mode: 'write', logger: silentLogger})
  await folder.initialize(7)
  const tx = await folder.begin()
  for (const [uid, bytes] of messages) await tx.append({uid, flags: [], internalDate: new Date(1_700_000_000_000)}, bytes)
  await tx.commit()
  return folder
}

describe('pendingRestoredCopies: copies a killed restore made, found by their bytes', () => {
  it('pairs each pending original with the lowest matching UID at or above `from`, one copy each', async () => {
    await withTempDir(async (root) => {
      // 2 and 4 were restored (intent from 6); 6 and 7 are their copies, 8 is new mail like 2.
      const folder = await folderWith(root, [
        [1, msg(1)],
        [2, msg(2)],
        [3, msg(3)],
        [4, msg(4)],
        [6, msg(4)],
        [7, msg(2)],
        [8, msg(2)],
      ])
      expect(await pendingRestoredCopies(folder, entry(7, {from: 6, uids: [2, 4]}), new Set())).toEqual([
        [7, 2],
        [6, 4],
      ])
      // Below `from`, already a copy (taken or mapped), or another UIDVALIDITY: never.
      expect(await pendingRestoredCopies(folder, entry(7, {from: 9, uids: [2, 4]}), new Set())).toEqual([])
      expect(await pendingRestoredCopies(folder, entry(7, {from: 6, uids: [2]}), new Set([7]))).toEqual([[8, 2]])
      expect(await pendingRestoredCopies(folder, entry(7, {from: 6, uids: [2]}, [[1, 7]]), new Set())).toEqual([[8, 2]])
      expect(await pendingRestoredCopies(folder, entry(8, {from: 6, uids: [2, 4]}), new Set())).toEqual([])
      expect(await pendingRestoredCopies(folder, entry(7, {from: 6, uids: [2, 4]}, [], true), new Set())).toEqual([])
      expect(await pendingRestoredCopies(folder, entry(7, undefined), new Set())).toEqual([])
      await folder.close()
    })
  })

  it('knows a copy the server rewrote (Courier: a final CRLF added), after every exact match', async () => {
    await withTempDir(async (root) => {
      const folder = await folderWith(root, [
        [2, msg(2, '')],
        [5, msg(5)],
        [9, Buffer.concat([msg(2, ''), Buffer.from('\r\n')])],
      ])
      expect(await pendingRestoredCopies(folder, entry(7, {from: 6, uids: [2, 5]}), new Set())).toEqual([[9, 2]])
      await folder.close()
    })
  })
})
