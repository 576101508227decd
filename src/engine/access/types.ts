/**
 * Types that several use-cases share: how a lost connection is retried, how an error appears in a
 * report (the `--json` output of backup, restore, copy, export), and a server folder that is not
 * backed up. They live here, below the use-cases, so that no use-case imports another's contract
 * for them (docs/design.md, "Engine by use-case").
 */
import type {ExitCodeValue} from '../../shared/exit-codes.js'

export interface RetryPolicy {
  /** New connections tried per folder after a transient failure before it is given up. */
  attempts: number
  /** First backoff delay; doubled each attempt up to maxDelayMs, with jitter. */
  baseDelayMs: number
  maxDelayMs: number
}

export interface ErrorSummary {
  name: string
  message: string
  hint?: string
  exitCode: ExitCodeValue
}

/** A server folder that exists but is not backed up: not selected by `folders` / `folder_blacklist`. */
export interface UnselectedFolder {
  folder: string
  /** Not listed by the server at the last backup of the account (or there was none). */
  new: boolean
}
