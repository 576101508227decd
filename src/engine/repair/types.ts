/** What `local repair` is asked and what it reports (docs/repair.md; the `--json` output). */
import type {Config} from '../../config/index.js'
import type {Connect} from '../../imap/types.js'
import type {ExitCodeValue} from '../../shared/exit-codes.js'
import type {RetryPolicy} from '../access/types.js'
import type {CheckFinding} from '../inspect/local-check.js'
import type {KeptReason} from './match.js'

export interface RepairOptions {
  config: Config
  /** The account (username). */
  account: string
  /** One folder (server name); default: every folder `local check` finds something wrong with. */
  folder?: string
  dryRun: boolean
  /** `--config` as given, repeated in the commands the report prints. */
  configFlag?: string
  /** For tests: the IMAP connector and retry policy. */
  connect?: Connect
  retry?: Partial<RetryPolicy>
  /** For tests: the time used in the names of the files set aside. */
  now?: () => Date
}

export type FolderAction =
  /** Nothing was wrong. */
  | 'none'
  /** An interrupted run was finished (as the next backup would). */
  | 'recovered'
  /** `.imap` rebuilt from the whole mbox. */
  | 'rebuilt'
  /** The extra complete entries at the end of the mbox were indexed. */
  | 'indexed-tail'
  /** The mbox is gone: the `.imap` was set aside, the next backup starts the folder afresh. */
  | 'set-aside'
  /** Not repaired; `notes` says why. */
  | 'refused'

/** How the UIDs of the rebuilt folder were obtained. */
export type UidSource =
  /** Matched to the server (or kept under UIDs the server cannot use): safe for later backups. */
  | 'verified'
  /** From the damaged metadata, with no server to ask (every message had one). */
  | 'salvaged'
  /** The backup is from an earlier UIDVALIDITY of the folder: its own UIDs, its own UIDVALIDITY. */
  | 'old-uidvalidity'
  /** Placeholders under UIDVALIDITY 4294967296, which no server has (docs/repair.md). */
  | 'unverified'

export interface KeptMessage {
  uid: number
  offset: number
  length: number
  /**
   * `not-on-server`: the server no longer has it (kept under a free UID); `no-match`,
   * `ambiguous`, `duplicate`, `incomplete`: not matched, kept under a free UID; `salvaged-uid`:
   * its UID from the damaged metadata (no server to verify it); `placeholder`: a new UID.
   */
  reason: KeptReason | 'placeholder' | 'salvaged-uid'
  subject: string
  messageId: string | null
  /**
   * Where the stored flags come from, since the server could not give them (no message of the
   * server is this one): `damaged-metadata`, the flags the damaged `.imap` had for this entry
   * (not verified); `none`, nothing recorded them, so the message is stored without flags.
   */
  flagsFrom: 'damaged-metadata' | 'none'
  /** The flags stored for it (stored form: `Seen`, `$Label1`). */
  flags: string[]
}

export interface FolderRepairReport {
  name: string
  action: FolderAction
  /** What `local check` found before the repair. */
  before: CheckFinding[]
  /** What it finds after (for a dry run: the same as before, since nothing was written). */
  after: CheckFinding[]
  uidValidity: number | null
  uids: UidSource | null
  /** Messages the new `.imap` lists. */
  messages: number
  /** Of these, matched to the server's messages (UID and flags are the server's). */
  matched: number
  /**
   * Of these, ignore-history's placeholders given the UID they stand for, which the server still
   * has (never matched to a message: docs/repair.md). Placeholders of UIDs the server no longer
   * has are in `kept` (`not-on-server`), under the UID they name.
   */
  placeholders: number
  /** Messages kept under a UID the server does not have, or under a placeholder. */
  kept: KeptMessage[]
  /** Messages not known to be imap-backup's that got no exactness record (read as imap-backup text). */
  notExact: number
  /** Message bodies fetched to compute an exactness record (mixed line endings; rare). */
  bodiesFetched: number
  /** Bytes of a torn last entry, copied aside and cut off. */
  tornBytes: number
  /** Bytes before the first entry that are not a message (left in place, not indexed). */
  unindexedBytes: number
  /** Files set aside (never deleted). */
  savedAside: string[]
  notes: string[]
}

export interface RepairReport {
  account: string
  dryRun: boolean
  /** Whether the server was needed and could be reached. */
  server: 'reachable' | 'unreachable' | 'not-needed'
  serverError: string | null
  folders: FolderRepairReport[]
  /** 0 done (or a dry run); 4 a folder got placeholder UIDs (no server); 6 a folder is still damaged; 7 newer format. */
  exitCode: ExitCodeValue
}
