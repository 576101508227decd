/**
 * Building the run report (backup-types.ts) and choosing the exit code: the code of the FIRST
 * failure, as imap-backup does (docs/exit-codes.md), where a folder that failed counts as
 * INCOMPLETE (4) unless its error names something more specific.
 */
import {ExitCode, type ExitCodeValue} from '../shared/exit-codes.js'
import {toMailkeepError} from '../shared/errors.js'
import {scrubOutput} from '../shared/secrets.js'
import type {ErrorSummary, FolderReport} from './backup-types.js'

/** Codes a folder failure keeps; any other failure of a folder makes the run INCOMPLETE. */
const SPECIFIC_FOLDER_CODES: ReadonlySet<ExitCodeValue> = new Set([
  ExitCode.LOCKED,
  ExitCode.DAMAGED,
  ExitCode.UNSUPPORTED_FORMAT,
  ExitCode.LOCAL_IO,
  ExitCode.INTERNAL,
])

/** The error as it appears in the report (never a secret: messages are scrubbed again). */
export function errorSummary(error: unknown, exitCode?: ExitCodeValue): ErrorSummary {
  const e = toMailkeepError(error)
  // Our text (foreign parts were cleaned where they came in): only distinctive values are removed.
  const summary: ErrorSummary = {name: e.name, message: scrubOutput(e.message), exitCode: exitCode ?? e.exitCode}
  if (e.hint !== undefined) summary.hint = scrubOutput(e.hint)
  return summary
}

/** The exit code of a folder that failed with `error`. */
export function folderExitCode(error: unknown): ExitCodeValue {
  const code = toMailkeepError(error).exitCode
  return SPECIFIC_FOLDER_CODES.has(code) ? code : ExitCode.INCOMPLETE
}

export function folderSummary(error: unknown): ErrorSummary {
  return errorSummary(error, folderExitCode(error))
}

/** Remembers the first failure of the run. */
export class FailureLog {
  private code: ExitCodeValue = ExitCode.OK

  record(code: ExitCodeValue): void {
    if (this.code === ExitCode.OK && code !== ExitCode.OK) this.code = code
  }

  get exitCode(): ExitCodeValue {
    return this.code
  }
}

export function emptyFolderReport(folder: string): FolderReport {
  return {folder, outcome: 'ok', new: 0, bytes: 0, flagUpdates: 0, deleted: 0, seconds: 0, failedMessages: []}
}

export function secondsSince(startMs: number): number {
  return Math.round(Date.now() - startMs) / 1000
}
