/**
 * Building the run reports (backup/types.ts, upload/types.ts, export/types.ts) and choosing the
 * exit code: the code of the FIRST failure, as imap-backup does (docs/exit-codes.md), where a
 * folder that failed counts as INCOMPLETE (4) unless its error names something more specific.
 */
import {ExitCode, type ExitCodeValue} from '../../shared/exit-codes.js'
import {FolderNameTooLongError, isPathProblem, LocalIoError, toMailkeepError, UnusablePathError} from '../../shared/errors.js'
import {scrubOutput} from '../../shared/secrets.js'
import type {ErrorSummary} from './types.js'

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
  const code = toMailkeepError(asFolderError(error)).exitCode
  return SPECIFIC_FOLDER_CODES.has(code) ? code : ExitCode.INCOMPLETE
}

export function folderSummary(error: unknown): ErrorSummary {
  return errorSummary(asFolderError(error), folderExitCode(error))
}

/**
 * Whether a failure must end the run: a local I/O error that concerns the disk as a whole (full,
 * read-only, failing, no permission), so that nothing more is written. A path that cannot be used
 * (a name too long, a file in the way) concerns its folder alone: the others go on.
 */
export function endsRun(error: unknown): boolean {
  return error instanceof LocalIoError && !isPathProblem(error)
}

/**
 * A LocalIoError about one path's shape (ENAMETOOLONG, ENOTDIR, EISDIR), or a name too long for
 * mailkeep's own file names, is that folder's path problem: reported as such, and recorded for
 * `local check` (not-stored.ts), which otherwise said nothing of a folder no backup could store.
 */
function asFolderError(error: unknown): unknown {
  if (error instanceof FolderNameTooLongError) return new UnusablePathError(error.message, {cause: error, ...(error.hint === undefined ? {} : {hint: error.hint})})
  if (!isPathProblem(error) || error instanceof UnusablePathError) return error
  return new UnusablePathError((error as Error).message, {
    cause: error,
    hint: 'this folder cannot be stored under its local path: leave it out of the backup ("folders" or "folder_blacklist" in the config) or rename it on the server',
  })
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

export function secondsSince(startMs: number): number {
  return Math.round(Date.now() - startMs) / 1000
}
