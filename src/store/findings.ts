/**
 * What `mailkeep local check` reports (integrity.ts): the finding codes, their severity, and the
 * findings every check builds the same way (a symlink, an unreadable file, the repair command).
 */
import {errnoCode} from '../shared/errors.js'

/** A uid_validity no IMAP server can send (RFC 3501: a 32-bit nz-number): UIDs not verified. */
export const UNVERIFIED_UID_VALIDITY = 2 ** 32

export type FindingCode =
  // imap-backup's checks (compat §4.5)
  | 'imap-corrupt'
  | 'mbox-missing'
  | 'no-messages-mbox-not-empty'
  | 'offsets-out-of-order'
  | 'mbox-shorter'
  | 'mbox-longer'
  | 'message-not-at-offset'
  // mailkeep's own
  | 'duplicate-uid'
  | 'exactness-invalid'
  | 'exactness-mismatch'
  | 'not-byte-exact'
  | 'exact-file-damaged'
  | 'exact-file-orphan'
  | 'pending-journal'
  | 'journal-mismatch'
  | 'interrupted-operation'
  | 'symlink'
  | 'not-a-file'
  | 'mbox-without-imap'
  | 'newer-format'
  | 'v2-mismatch'
  | 'unverified-uids'
  | 'unreadable'
  | 'busy'
  | 'stale-temp'
  | 'not-stored'

export type Severity = 'error' | 'warning'

export interface Finding {
  code: FindingCode
  /** `error`: the folder is damaged (exit 6); `warning`: it works, but something is worth knowing. */
  severity: Severity
  message: string
  /** The file the finding is about (absolute path). */
  file: string
  /** The exact command that repairs it; undefined when no mailkeep command can. */
  repair: string | undefined
  /** `not-byte-exact`: the UIDs of those messages, ascending. */
  uids?: number[]
}

export interface FolderCheck {
  /** The server's folder name, decoded from the file name. */
  name: string
  /** Path of the folder's files relative to the account root, without extension. */
  relativePath: string
  findings: Finding[]
}

export interface CheckOptions {
  /** Builds the repair command for a folder (by server name); default `mailkeep local repair <folder>`. */
  repairCommand?: (folder: string) => string
  /** Stops between messages when aborted (throws the signal's reason). */
  signal?: AbortSignal
  /**
   * The pid of a backup writing the account now (writer-pid.ts): its journal is no interrupted
   * run, and a folder is checked again when it changed while being checked.
   */
  writerPid?: number
}

/** At most this many findings of one code per folder; the last one says how many more there were. */
export const MAX_FINDINGS_PER_CODE = 10

export function symlinkFinding(path: string): Finding {
  return {
    code: 'symlink',
    severity: 'error',
    message: `'${path}' is a symlink; mailkeep does not follow links inside the backup directory (replace the link with the file or directory it points to)`,
    file: path,
    repair: undefined,
  }
}

export function unreadable(path: string, error: unknown): Finding {
  const code = errnoCode(error)
  return {code: 'unreadable', severity: 'error', message: `cannot read '${path}': ${code ?? (error as Error).message}`, file: path, repair: undefined}
}

export function repairFor(options: CheckOptions, folder: string): string {
  return options.repairCommand?.(folder) ?? `mailkeep local repair ${folder}`
}

/** parseMetadata's message starts with "metadata file '<path>'": keep only what is wrong. */
export function detailOf(message: string, path: string): string {
  const prefix = `metadata file '${path}' `
  return message.startsWith(prefix) ? message.slice(prefix.length) : message
}
