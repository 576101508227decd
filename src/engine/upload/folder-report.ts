/** The report of one folder of an upload run before anything happened, and of one never attempted. */
import {ExitCode} from '../../shared/exit-codes.js'
import type {TransferFolderReport} from './types.js'

export function emptyTransferFolderReport(source: string, destination: string): TransferFolderReport {
  return {
    source,
    destination,
    outcome: 'ok',
    created: false,
    uploaded: 0,
    bytes: 0,
    alreadyPresent: 0,
    adopted: 0,
    flagsUpdated: 0,
    deleted: 0,
    placeholders: 0,
    skipped: [],
    droppedFlags: [],
    notes: [],
    seconds: 0,
  }
}

/** A folder not attempted because the destination could not be reached. */
export function notAttempted(source: string, destination: string, cause: TransferFolderReport): TransferFolderReport {
  const report = emptyTransferFolderReport(source, destination)
  report.outcome = 'failed'
  const base = cause.error
  report.error = {name: 'NotAttempted', message: `not uploaded: the destination could not be reached${base === undefined ? '' : ` (${base.message})`}`, exitCode: base?.exitCode ?? ExitCode.INCOMPLETE}
  return report
}
