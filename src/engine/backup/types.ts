/**
 * The contract of the backup use-case (`runBackup` in backup.ts): its options and its typed
 * result. The result is also the `--json` run report of `mailkeep backup`, so its shape is part
 * of the CLI's interface (docs/backup.md documents it).
 */
import type {Config} from '../../config/index.js'
import type {ExitCodeValue} from '../../shared/exit-codes.js'
import type {Connect} from '../../imap/types.js'
import type {ErrorSummary, RetryPolicy, UnselectedFolder} from '../access/types.js'

// Shared with other use-cases (src/engine/access/types.ts); part of this contract too.
export type {ErrorSummary, RetryPolicy, UnselectedFolder}

export interface BackupOptions {
  config: Config
  /** `--accounts a,b`: restrict to these usernames (unknown ones are an error). */
  accounts?: readonly string[]
  /** `--refresh`: in keep-all mode stored flags follow the server also where they would not by default (no CONDSTORE, `freeze_flags`). */
  refresh: boolean
  /** For tests: the IMAP connector (default: src/imap's real one). */
  connect?: Connect
  /** For tests: retry policy after transient failures (default: docs/backup.md). */
  retry?: Partial<RetryPolicy>
  /** `-vvv`: the IMAP layer logs every protocol line at debug level (secrets redacted). */
  traceProtocol?: boolean
  /**
   * `--skip-locked`: an account another mailkeep process holds is skipped without an error
   * (outcome `skipped`, exit code unchanged) instead of failing with LockedError (exit 5).
   */
  skipLocked?: boolean
  /**
   * `--max-duration` (else the config's `max_duration_seconds`): after this long the run stops at
   * a savepoint, reports what was not done, and exits 4 (docs/backup.md, "Maximum duration").
   */
  maxDurationMs?: number
}

export type FolderOutcome =
  /** Backed up; `new`, `flagUpdates`, `deleted` say what changed (possibly nothing). */
  | 'ok'
  /** Skipped without selecting it: STATUS showed nothing changed since the last run. */
  | 'unchanged'
  /** Something could not be done; `error` says what. Committed savepoints are kept. */
  | 'failed'
  /** Mirror mode: the local copy of a folder no longer selected was deleted. */
  | 'removed'

export interface FolderReport {
  folder: string
  outcome: FolderOutcome
  /** Messages downloaded in this run. */
  new: number
  /** Bytes of those messages as the server sent them. */
  bytes: number
  flagUpdates: number
  /** Mirror mode: messages removed because the server no longer has them. */
  deleted: number
  /** Set when UIDVALIDITY changed and the old backup was moved aside (compat §4.6). */
  renamedTo?: string
  seconds: number
  /** UIDs that could not be saved, with the reason (never skipped silently). */
  failedMessages: Array<{uid: number; reason: string}>
  error?: ErrorSummary
  /** Why nothing was done to a selected folder that did not fail, e.g. it vanished from the server. */
  note?: string
}

export type AccountOutcome = 'ok' | 'incomplete' | 'failed' | 'skipped'

export interface AccountReport {
  account: string
  outcome: AccountOutcome
  /** Why an account was skipped (status not active) or failed as a whole (login, lock). */
  error?: ErrorSummary
  folders: FolderReport[]
  /**
   * Server folders that exist and are not backed up (not selected), new ones first, then in the
   * server's order. Empty when every folder is selected, or when the folders could not be listed.
   */
  unselected: UnselectedFolder[]
  seconds: number
}

export interface BackupReport {
  accounts: AccountReport[]
  /** 0 when everything was done; else the code of the first failure (docs/exit-codes.md). */
  exitCode: ExitCodeValue
  seconds: number
}
