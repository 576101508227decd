/** The report of a folder before anything was done to it (backup/types.ts). */
import type {FolderReport} from './types.js'

export function emptyFolderReport(folder: string): FolderReport {
  return {folder, outcome: 'ok', new: 0, bytes: 0, flagUpdates: 0, deleted: 0, seconds: 0, failedMessages: []}
}
