/**
 * What the per-folder upload (folder-upload.ts) is given and what it leaves behind for the next
 * attempt: the policy that tells restore, copy, mirror and migrate apart, and the state that
 * survives a broken connection.
 */
import type {ImapSession} from '../../imap/types.js'
import type {ProgressReporter} from '../../shared/context.js'
import type {Logger} from '../../shared/logger.js'
import type {FolderStore} from '../../store/folder-store.js'
import type {UploadMap} from '../../store/upload-map.js'
import type {TransferFolderReport, UploadTuning} from './types.js'

export interface UploadPolicy {
  /** copy, mirror: the flags of copies follow the stored flags. */
  syncFlags: boolean
  /** mirror: copies whose source message is gone from the backup are deleted. */
  deleteGone: boolean
  /** restore, mirror: a copy gone from the destination is uploaded again (copy, migrate: it stays gone). */
  reuploadMissing: boolean
  /** restore into the account's own server: same UIDVALIDITY and UID mean the same message. */
  sameUidsAreCopies: boolean
}

/** What survives the attempts of one folder (counters count real events only once). */
export class FolderUploadState {
  readonly skipped = new Map<number, string>()
  readonly dropped = new Map<number, {flags: string[]; reason: string}>()
  readonly notes = new Set<string>()
  /** Messages appended but not found again (no UIDPLUS): the intent is kept for the next run. */
  unresolved = 0
  /** Source UIDs whose message has its copy on the destination, when the run got to the end. */
  present: number | undefined
}

export interface FolderUploadInput {
  source: FolderStore
  map: UploadMap
  /** Destination user (the map's key). */
  user: string
  destination: string
  /** Source UIDs whose copy another destination folder holds (a restore's clash folder): not uploaded. */
  presentElsewhere: ReadonlySet<number>
  /** Source UIDs of ignore-history's placeholders: not mail, never uploaded (store/placeholders.ts). */
  placeholders: ReadonlySet<number>
  session: ImapSession
  /**
   * The source folder's `.restore` map (for restore, `map` itself) and the backed-up account:
   * its entry for that account and the folder itself tells which entries are restored copies of
   * others (src/store/message-identity.ts). Undefined when there is none.
   */
  restoreMap: UploadMap | undefined
  sourceUser: string
  policy: UploadPolicy
  tuning: UploadTuning
  report: TransferFolderReport
  state: FolderUploadState
  signal: AbortSignal
  progress: ProgressReporter
  logger: Logger
}
