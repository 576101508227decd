/**
 * Mirror mode: the backup follows the server, also when things go away (compat §6.6).
 *
 * - Folders: before the folders are backed up, every local folder that is not among the folders
 *   to back up is removed (`AccountStore.removeFolder`): folders deleted on the server, folders
 *   no longer selected by the config, and `<folder>-<uidvalidity>` copies of earlier UIDVALIDITY
 *   changes, as imap-backup does.
 * - Messages: after a folder's commit, the messages the server no longer has are removed with
 *   one `removeMessages` call (one rewrite of the folder, not one per message).
 *
 * Keep-all mode never calls anything here. It keeps docs/backup.md B1: a message still on the
 * server is never removed; the caller passes VANISHED only when it counts from mirror mode's own
 * last comparison, and a full UID set only as the session checked it (src/imap/message-count.ts).
 */
import type {AccountStore} from '../../store/account-store.js'
import type {ImapSession, OpenedFolder} from '../../imap/types.js'
import {InterruptedError, LocalIoError} from '../../shared/errors.js'
import type {Logger} from '../../shared/logger.js'
import type {FolderReport} from './types.js'
import {noExpungesPossible} from './folder-plan.js'
import {folderSummary} from '../access/report.js'
import {emptyFolderReport} from './folder-report.js'
import {ascending} from '../access/uid-lists.js'

/**
 * Removes the local folders not in `selected`. Returns one report per folder (`removed`, or
 * `failed` when the folder's files could not be read or removed). A local I/O error or an
 * interruption ends the run and is thrown.
 */
export async function removeUnselectedFolders(store: AccountStore, selected: readonly string[], logger: Logger): Promise<FolderReport[]> {
  const keep = new Set(selected)
  const reports: FolderReport[] = []
  for (const local of await store.listFolders()) {
    if (keep.has(local.name)) continue
    const started = Date.now()
    const report = emptyFolderReport(local.name)
    try {
      await store.removeFolder(local.name)
      report.outcome = 'removed'
      logger.info(`Removed the local copy of folder '${local.name}': it is not backed up any more (mirror mode)`, {folder: local.name})
    } catch (error) {
      if (error instanceof LocalIoError || error instanceof InterruptedError) throw error
      report.outcome = 'failed'
      report.error = folderSummary(error)
      logger.error(`could not remove the local copy of folder '${local.name}': ${(error as Error).message}`, {folder: local.name})
    }
    report.seconds = (Date.now() - started) / 1000
    reports.push(report)
  }
  return reports
}

export interface ExpungeInput {
  session: ImapSession
  opened: OpenedFolder
  /** UIDs stored (committed) in the folder. */
  stored: Iterable<number>
  storedCount: number
  /** QRESYNC: UIDs the server reported expunged since the stored HIGHESTMODSEQ. */
  vanished: readonly number[] | undefined
  /** `UID SEARCH ALL` of this EXAMINE, when the plan already asked for it. */
  serverUids: ReadonlySet<number> | undefined
  complete: number | undefined
}

/** The stored UIDs that the server no longer has, ascending. */
export async function localOnlyUids(input: ExpungeInput): Promise<number[]> {
  const stored = [...input.stored]
  if (input.vanished !== undefined) {
    const gone = new Set(input.vanished)
    return stored.filter((uid) => gone.has(uid)).sort(ascending)
  }
  if (input.serverUids === undefined && noExpungesPossible(input.complete, input.opened, input.storedCount)) return []
  const server = input.serverUids ?? new Set(input.opened.exists === 0 ? [] : await input.session.searchUids())
  return stored.filter((uid) => !server.has(uid)).sort(ascending)
}
