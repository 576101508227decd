/**
 * Keeps the account's record of folders the backup could not store (src/store/not-stored.ts)
 * up to date after a backup of the account went through its folders, so that `local check` can
 * name them without a server (issue: a run that could not store a folder, then a check that
 * said everything was fine).
 *
 * The new record: every folder whose path could not be used in this run, plus the folders of the
 * old record that this run selected but did not get to (the run stopped first). A folder that was
 * stored, that is no longer selected, or that is gone from the server leaves the record.
 */
import type {Logger} from '../../shared/logger.js'
import {readNotStored, writeNotStored, type NotStoredFolder} from '../../store/not-stored.js'
import type {FolderReport} from './types.js'

export async function recordNotStored(root: string, selected: readonly string[], folders: readonly FolderReport[], logger: Logger, now: Date = new Date()): Promise<void> {
  try {
    const previous = await readNotStored(root).catch(() => [] as NotStoredFolder[])
    const tried = new Set(folders.filter((f) => f.error?.name !== 'NotAttempted').map((f) => f.folder))
    const wanted = new Set(selected)
    const when = now.toISOString()
    const next: NotStoredFolder[] = []
    for (const f of folders) {
      if (f.outcome !== 'failed' || f.error?.name !== 'UnusablePathError') continue
      const entry: NotStoredFolder = {name: f.folder, error: f.error.message, since: previous.find((p) => p.name === f.folder)?.since ?? when, last: when}
      if (f.error.hint !== undefined) entry.hint = f.error.hint
      next.push(entry)
    }
    for (const p of previous) if (wanted.has(p.name) && !tried.has(p.name)) next.push(p)
    next.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    if (JSON.stringify(next) === JSON.stringify(previous)) return
    await writeNotStored(root, next)
  } catch (error) {
    // A status record: failing to write it (disk full) must not fail the backup it describes.
    logger.warn(`could not record the folders that could not be stored: ${(error as Error).message}`)
  }
}
