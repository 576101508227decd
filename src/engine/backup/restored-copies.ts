/** Restored copies among what a backup downloaded (docs/upload-maps.md, U7). */
import type {FolderStore} from '../../store/folder-store.js'
import {UploadMap} from '../../store/upload-map.js'
import {DamagedError} from '../../shared/errors.js'
import type {Logger} from '../../shared/logger.js'
import type {FolderRun} from './folder-run.js'
import {restoredCopiesIn} from '../../store/message-identity.js'
import {pendingRestoredCopies} from '../../store/pending-copies.js'

/**
 * Recognises the copies that a restore of this folder into its own server made and that this
 * backup holds now (downloaded under their new UIDs): the folder's `.restore` map says which
 * stored message each is a copy of, and for a restore stopped before it recorded them, its
 * pending intent names the originals, whose copies are found by their bytes (pending-copies.ts).
 * The pairs go into the metadata (`mailkeep_restored`), so that every upload from this backup
 * counts the two entries as one message (U7) also after the map is reset or the folder is kept
 * aside. The map is only read: the account's exclusive lock keeps every upload out meanwhile.
 */
export async function recordRestoredCopies(run: FolderRun, folder: FolderStore, user: string, name: string, logger: Logger): Promise<void> {
  let map: UploadMap | undefined
  try {
    map = await UploadMap.read(folder.paths.base, 'restore')
  } catch (error) {
    if (!(error instanceof DamagedError)) throw error
    logger.warn(`[${name}] ${error.message}; restored copies this backup downloads are not recognised until it is fixed`)
    return
  }
  if (map === undefined) return
  const known = new Set(folder.restoredCopies.map(([c, o]) => `${c}:${o}`))
  const entry = map.entry(user, name)
  const pairs = restoredCopiesIn(entry, folder.uidValidity, (uid) => run.has(uid)).filter(([c, o]) => !known.has(`${c}:${o}`))
  if (entry?.pending !== undefined) {
    // The copies must be readable: this run's downloads are committed first.
    await run.savepoint()
    const taken = new Set([...folder.restoredCopies, ...pairs].map(([c]) => c))
    pairs.push(...(await pendingRestoredCopies(folder, entry, taken)))
  }
  if (pairs.length === 0) return
  await run.recordRestoredCopies(pairs)
  logger.info(`[${name}] ${pairs.length} message(s) are copies that a restore put back on the server: recorded as the same messages as the ones they were restored from`)
}
