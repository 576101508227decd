/**
 * The contracts of the two export use-cases: `exportToThunderbird` (thunderbird.ts,
 * `mailkeep utils export-to-thunderbird`) and `exportFolders` (folders.ts, `mailkeep utils
 * export`). Their results are also the commands' `--json` output (docs/commands/export.md).
 */
import type {Config} from '../../config/index.js'
import type {ExitCodeValue} from '../../shared/exit-codes.js'
import type {ErrorSummary} from '../access/types.js'

export type ExportFormat = 'maildir' | 'eml'

export const EXPORT_FORMATS: readonly ExportFormat[] = ['maildir', 'eml']

export type ExportFolderStatus =
  /** Every message was written (see failedMessages for any that could not be read). */
  | 'exported'
  /** Not written because its target exists (Thunderbird export without --force). */
  | 'skipped'
  /** Not (completely) written; `error` says why. Nothing of it is left under its final name. */
  | 'failed'

export interface ExportFolderReport {
  /** The server's folder name. */
  folder: string
  status: ExportFolderStatus
  /** The mailbox file (Thunderbird) or the folder's directory (maildir, eml) written. */
  path: string
  /** Messages written. */
  messages: number
  /** Bytes of those messages (as written, before mbox framing). */
  bytes: number
  /**
   * Messages written as imap-backup stored them (LF line endings, trailing newline added),
   * because the backup has no exactness record for them; the others are byte-exact.
   */
  legacyMessages: number
  /** Messages that could not be read from the backup, with the reason (never skipped silently). */
  failedMessages: Array<{uid: number; reason: string}>
  /** Why the folder was skipped or failed. */
  error?: ErrorSummary
}

export interface ThunderbirdExportOptions {
  config: Config
  /** The account (its `username`). */
  email: string
  /** `--profile NAME`; default: the default profile of the only Thunderbird install. */
  profile?: string
  /** `--force`: replace existing mailboxes (and delete their `.msf` index). */
  force: boolean
  /** For tests and unusual installs: Thunderbird's data directory (default: per platform). */
  thunderbirdDir?: string
}

export interface ThunderbirdExportReport {
  account: string
  profile: {name: string; path: string}
  /** `<profile>/Mail/Local Folders/imap-backup.sbd/<email>.sbd` */
  target: string
  folders: ExportFolderReport[]
  messages: number
  bytes: number
  exitCode: ExitCodeValue
}

export interface ExportOptions {
  config: Config
  email: string
  format: ExportFormat
  /** `--to DIR`, created when missing. */
  to: string
  /** `--folders`: server names; default every backed-up folder. */
  folders?: readonly string[]
  /** `--force`: write into folder directories that already hold messages, replacing same-named files. */
  force: boolean
}

export interface ExportReport {
  account: string
  format: ExportFormat
  /** The absolute target directory. */
  to: string
  folders: ExportFolderReport[]
  messages: number
  bytes: number
  exitCode: ExitCodeValue
}
