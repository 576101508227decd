/**
 * The one error hierarchy. Every expected failure is a MailkeepError carrying its exit code and
 * (where one exists) a hint naming the command or change that fixes it. Anything else that
 * reaches the CLI is a bug and is reported as InternalError with its stack.
 *
 * Messages never contain secrets: constructors take only what the message needs, and code that
 * wraps a foreign error passes it as `cause` (not interpolated) unless it has been redacted.
 */
import {ExitCode, type ExitCodeValue} from './exit-codes.js'
import {scrubForeign} from './secrets.js'

export interface ErrorOptions {
  cause?: unknown
  /** One line telling the user how to fix it, e.g. "run: mailkeep local repair me@x INBOX". */
  hint?: string
}

export class MailkeepError extends Error {
  readonly exitCode: ExitCodeValue = ExitCode.FAILURE
  readonly hint: string | undefined

  constructor(message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = new.target.name
    this.hint = options.hint
  }
}

export class UsageError extends MailkeepError {
  override readonly exitCode = ExitCode.USAGE
}

/**
 * A folder name with a part longer than mailkeep can use in a file name (src/store/folder-path.ts):
 * a usage error where a user named the folder, that folder's own path problem in a backup
 * (`asFolderError`, src/engine/access/report.ts), recorded for `local check` like any other.
 */
export class FolderNameTooLongError extends UsageError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, options)
    // Shown as the usage error it is wherever it is not a folder's failure.
    this.name = 'UsageError'
  }
}

export class ConfigError extends MailkeepError {
  override readonly exitCode = ExitCode.CONFIG
}

/** The run went on past a failure; `details` says what was not done. */
export class IncompleteError extends MailkeepError {
  override readonly exitCode = ExitCode.INCOMPLETE
}

export class LockedError extends MailkeepError {
  override readonly exitCode = ExitCode.LOCKED
  constructor(
    readonly lockPath: string,
    readonly holderPid: number | undefined,
    options: ErrorOptions = {},
  ) {
    super(
      `another mailkeep is already running on this account (pid ${holderPid ?? 'unknown'}; lock ${lockPath})`,
      options,
    )
  }
}

/**
 * What was to be read kept changing under a writer (a folder a backup was committing again and
 * again): nothing was read; trying again later works. Same exit code as a held lock.
 */
export class BusyError extends MailkeepError {
  override readonly exitCode = ExitCode.LOCKED
}

/** The local backup is inconsistent; nothing was modified. */
export class DamagedError extends MailkeepError {
  override readonly exitCode = ExitCode.DAMAGED
}

/** A file written by a newer mailkeep: refused, never overwritten. */
export class UnsupportedFormatError extends MailkeepError {
  override readonly exitCode = ExitCode.UNSUPPORTED_FORMAT
}

export class LocalIoError extends MailkeepError {
  override readonly exitCode = ExitCode.LOCAL_IO
}

/**
 * One folder's local path cannot be used as it is: a name longer than the file system allows,
 * a file where its directory must be (`A.mbox` of folder `A`, needed as the directory of folder
 * `A.mbox/x`), a directory where one of its files must be. It concerns that path alone, not the
 * disk, so the run goes on with the other folders and reports this one (exit 4).
 */
export class UnusablePathError extends MailkeepError {
  override readonly exitCode = ExitCode.INCOMPLETE
}

/** The run reached its --max-duration and stopped at a savepoint; the next run continues (exit 4). */
export class DeadlineError extends MailkeepError {
  override readonly exitCode = ExitCode.INCOMPLETE
}

/** Could not reach the server, or it refused the login. */
export class ConnectionError extends MailkeepError {
  override readonly exitCode = ExitCode.CONNECTION
}

/**
 * The link to the server broke (reset, EOF, timeout, BYE): the operation may succeed on a new
 * connection. If retries run out at login this is a connection failure (111); mid-run the
 * engine reports the folder as incomplete instead.
 */
export class TransientImapError extends MailkeepError {
  override readonly exitCode = ExitCode.CONNECTION
}

/** The server answered in a way we cannot work with (NO/BAD to a needed command, garbage). */
export class RemoteError extends MailkeepError {
  override readonly exitCode: ExitCodeValue = ExitCode.FAILURE
}

/** The folder does not exist on the server (NO to EXAMINE/SELECT/STATUS). */
export class MissingFolderError extends RemoteError {
  constructor(readonly folder: string, options: ErrorOptions = {}) {
    super(`Folder '${folder}' does not exist on server`, options)
  }
}

export type StopSignal = 'SIGINT' | 'SIGTERM'

/** Raised (as an AbortSignal reason) when the user interrupts the run. */
export class InterruptedError extends MailkeepError {
  override readonly exitCode: ExitCodeValue
  constructor(readonly signal: StopSignal) {
    super(`interrupted by ${signal}`)
    this.exitCode = signal === 'SIGINT' ? ExitCode.SIGINT : ExitCode.SIGTERM
  }
}

export class InternalError extends MailkeepError {
  override readonly exitCode = ExitCode.INTERNAL
}

const LOCAL_IO_CODES = new Set(['ENOSPC', 'EFBIG', 'EDQUOT', 'EACCES', 'EPERM', 'EROFS', 'EIO', 'EMFILE', 'ENFILE', 'ENAMETOOLONG', 'ENOTDIR', 'EISDIR', 'ELOOP'])

/** The errno code of a Node system error, if it is one. */
export function errnoCode(error: unknown): string | undefined {
  if (error !== null && typeof error === 'object' && 'code' in error) {
    const code = (error as {code: unknown}).code
    return typeof code === 'string' ? code : undefined
  }
  return undefined
}

/**
 * Turns a failed local file operation into a LocalIoError that names the file and the problem
 * in words; other errors pass through unchanged.
 */
export function localIoError(error: unknown, action: string, path: string): unknown {
  const code = errnoCode(error)
  if (code === undefined || !LOCAL_IO_CODES.has(code)) return error
  const what: Record<string, string> = {
    ENOSPC: 'no space left on device',
    // The file system's (FAT32: 4 GiB) or the process's (ulimit -f) largest file size.
    EFBIG: 'file too large',
    EDQUOT: 'disk quota exceeded',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    EIO: 'input/output error',
    ENAMETOOLONG: 'file name too long',
    ENOTDIR: 'a path component is not a directory',
    EISDIR: 'is a directory',
    ELOOP: 'too many symbolic links',
  }
  return new LocalIoError(`cannot ${action} '${path}': ${what[code] ?? code}`, {cause: error})
}

/** errno codes that concern one path's shape (a name, a component), never the disk as a whole. */
const PATH_CODES = new Set(['ENAMETOOLONG', 'ENOTDIR', 'EISDIR'])

/**
 * True when `error` is about one path that cannot be used as it is (UnusablePathError, or a
 * LocalIoError for ENAMETOOLONG, ENOTDIR, EISDIR): the run can go on with other paths. Disk full,
 * permissions, a read-only or failing disk are not: they concern every path.
 */
export function isPathProblem(error: unknown): boolean {
  if (error instanceof UnusablePathError) return true
  if (!(error instanceof LocalIoError)) return false
  for (let e: unknown = error; e !== undefined && e !== null; e = (e as {cause?: unknown}).cause) {
    const code = errnoCode(e)
    if (code !== undefined) return PATH_CODES.has(code)
    if (typeof e !== 'object') break
  }
  return false
}

/** Normalises anything thrown into a MailkeepError (unknown errors become InternalError). */
export function toMailkeepError(error: unknown): MailkeepError {
  if (error instanceof MailkeepError) return error
  const io = localIoError(error, 'access', errorPath(error) ?? 'a file')
  if (io instanceof MailkeepError) return io
  // Not ours: a library's words, which may quote anything (src/shared/secrets.ts).
  const message = scrubForeign(error instanceof Error ? error.message : String(error))
  return new InternalError(message, {cause: error})
}

function errorPath(error: unknown): string | undefined {
  if (error !== null && typeof error === 'object' && 'path' in error) {
    const p = (error as {path: unknown}).path
    return typeof p === 'string' ? p : undefined
  }
  return undefined
}
