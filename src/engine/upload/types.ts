/**
 * The contract of the upload use-cases: `runRestore` (restore.ts) and `runTransfer`
 * (copy.ts: copy, mirror, migrate). The result is also the `--json` report of those
 * commands (docs/commands/restore.md, docs/commands/copy-mirror-migrate.md).
 */
import type {Config} from '../../config/index.js'
import type {Connect} from '../../imap/types.js'
import type {ExitCodeValue} from '../../shared/exit-codes.js'
import type {ErrorSummary, RetryPolicy} from '../access/types.js'
import type {BackupReport} from '../backup/types.js'

export type TransferCommand = 'restore' | 'copy' | 'mirror' | 'migrate'

/** How many messages go in one intent (docs/upload-maps.md); the store cost is per batch. */
export interface UploadTuning {
  batchMessages: number
  batchBytes: number
  /**
   * Messages of an interrupted run's intent that were not found are looked for again at least
   * this long after the first look, before they are appended (docs/upload-maps.md, "After a
   * crash"): the server may finish an APPEND of the dead connection after the new run looked.
   */
  pendingGraceMs: number
}

export const DEFAULT_UPLOAD_TUNING: UploadTuning = {batchMessages: 50, batchBytes: 16 * 1024 * 1024, pendingGraceMs: 2000}

interface CommonOptions {
  config: Config
  /** For tests: the IMAP connector (default: src/imap's). */
  connect?: Connect
  retry?: Partial<RetryPolicy>
  tuning?: Partial<UploadTuning>
  traceProtocol?: boolean
}

export interface RestoreOptions extends CommonOptions {
  /** The account whose backup is uploaded. */
  account: string
  /** `--to`: another configured account to upload to (default: the account's own server). */
  to?: string
  /** `--prefix`: destination prefix (default: the destination's personal namespace prefix). */
  prefix?: string
  /** `--delimiter`: destination delimiter (default: the destination server's). */
  delimiter?: string
  /**
   * `--source-delimiter`: the delimiter the backed-up names were made with (default: recorded
   * in the backup, else the source server's, else '/'; docs/delimiters-and-prefixes.md).
   */
  sourceDelimiter?: string
  /** `--folders`: only these local folders (server names as `local folders` shows them). */
  folders?: readonly string[]
}

export interface TransferOptions extends CommonOptions {
  command: 'copy' | 'mirror' | 'migrate'
  source: string
  destination: string
  sourcePrefix?: string
  sourceDelimiter?: string
  destinationPrefix?: string
  destinationDelimiter?: string
  automaticNamespaces?: boolean
  /** migrate `--reset`: empty each destination folder first (needs `confirmed`). */
  reset?: boolean
  /** `--yes` */
  confirmed?: boolean
}

export interface SkippedMessage {
  /** Source UID. */
  uid: number
  reason: string
}

export interface DroppedFlags {
  /** Source UID. */
  uid: number
  flags: string[]
  reason: string
}

export type TransferFolderOutcome = 'ok' | 'incomplete' | 'failed'

export interface TransferFolderReport {
  /** The local folder: the source server's name, as `local folders` shows it. */
  source: string
  /** The destination folder it went to. */
  destination: string
  outcome: TransferFolderOutcome
  /** The destination folder was created by this run. */
  created: boolean
  /**
   * restore: the folder the naming rule gave already held other mail (another UIDVALIDITY,
   * compat §7). It was left untouched; `destination` was used instead.
   */
  clash?: {
    folder: string
    uidValidity: number
    /** Messages of the backup the folder(s) that clashed already hold: recorded there, not uploaded again. */
    present?: number
  }
  /**
   * ignore-history's placeholders in the source folder: they stand for mail the backup does not
   * hold, are not mail, and are never uploaded (docs/commands/utils.md).
   */
  placeholders: number
  /** Messages appended in this run, and their bytes. */
  uploaded: number
  bytes: number
  /** Source messages whose copy was already on the destination (recorded in the map). */
  alreadyPresent: number
  /** Copies found on the destination and recorded without uploading (no map said so, or a run was interrupted). */
  adopted: number
  /** Destination messages whose flags were set to the source's (copy, mirror). */
  flagsUpdated: number
  /** Destination messages deleted because their source is gone (mirror, migrate --reset). */
  deleted: number
  /** Source messages not uploaded, with the reason (never skipped silently). */
  skipped: SkippedMessage[]
  /** Flags a message has in the backup that the destination did not get (the message was uploaded). */
  droppedFlags: DroppedFlags[]
  /** Other things the user should know about this folder. */
  notes: string[]
  error?: ErrorSummary
  seconds: number
}

export interface TransferReport {
  command: TransferCommand
  /** Source account (its backup). */
  source: string
  /** Destination account. */
  destination: string
  /** copy, mirror: the backup of the source that ran first. */
  backup?: BackupReport
  /** How folder names were mapped (docs/delimiters-and-prefixes.md). */
  naming: {sourcePrefix: string; sourceDelimiter: string; destinationPrefix: string; destinationDelimiter: string}
  folders: TransferFolderReport[]
  /** 0 when everything was done; else the code of the first failure (docs/exit-codes.md). */
  exitCode: ExitCodeValue
  seconds: number
}
