/** The report of a folder before anything was done to it (backup/types.ts). */
import type {Logger} from '../../shared/logger.js'
import {folderSummary} from '../access/report.js'
import type {FolderReport} from './types.js'

export function emptyFolderReport(folder: string): FolderReport {
  return {folder, outcome: 'ok', new: 0, bytes: 0, flagUpdates: 0, deleted: 0, seconds: 0, failedMessages: []}
}

/** Marks the report failed with `error` and logs it (a hint of its own, else `defaultHint`). */
export function failReport(report: FolderReport, error: unknown, logger: Logger, defaultHint?: string): void {
  report.outcome = 'failed'
  report.error = folderSummary(error)
  if (report.error.hint === undefined && defaultHint !== undefined) report.error.hint = defaultHint
  const hint = report.error.hint === undefined ? '' : ` (${report.error.hint})`
  logger.error(`[${report.folder}] backup failed: ${report.error.message}${hint}`)
}
