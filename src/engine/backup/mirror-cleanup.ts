/**
 * Mirror mode: the backup follows the server, also when things go away (compat §6.6).
 *
 * - Folders: once every selected folder is backed up, every local folder that was there at the
 *   start of the run and is not among the folders to back up is removed (`AccountStore.removeFolder`):
 *   folders deleted on the server, folders no longer selected by the config, and
 *   `<folder>-<uidvalidity>` copies of earlier UIDVALIDITY changes, as imap-backup does. Not
 *   before: a folder the server renamed, or a copy a restore put elsewhere, would otherwise
 *   leave the backup before the run has its mail under the new name, and a run stopped in
 *   between (kill -9, a failed folder) would leave the backup without mail the server still has
 *   (B1). A copy kept aside during this run goes at the next run. Except one such copy (kept aside, store/kept-aside.ts) of a folder
 *   whose live backup holds ignore-history's placeholders: those stand for messages the server
 *   still has and the backup never downloaded, and the kept-aside copy may be the only real copy
 *   of them (docs/backup.md, B5). It is kept, and the run says why. And, for the same reason,
 *   any local folder whose backup is older than ignore-history placeholders that a folder still
 *   backed up holds (placeholder-guard.ts): the server may have renamed it, or moved its mail,
 *   and a placeholder does not say which message it stands for.
 * - Messages: after a folder's commit, the messages the server no longer has are removed with
 *   one `removeMessages` call (one rewrite of the folder, not one per message).
 *
 * Keep-all mode never calls anything here. It keeps docs/backup.md B1: a message still on the
 * server is never removed; the caller passes VANISHED only when it counts from mirror mode's own
 * last comparison, and a full UID set only as the session checked it (src/imap/message-count.ts).
 */
import type {AccountStore} from '../../store/account-store.js'
import type {FolderStore} from '../../store/folder-store.js'
import {keptAsideOrigin} from '../../store/kept-aside.js'
import {holdsPlaceholders} from '../../store/placeholders.js'
import type {ImapSession, OpenedFolder} from '../../imap/types.js'
import {DamagedError, InterruptedError, LocalIoError} from '../../shared/errors.js'
import type {Logger} from '../../shared/logger.js'
import type {FolderReport} from './types.js'
import {noExpungesPossible} from './folder-plan.js'
import {folderSummary} from '../access/report.js'
import {emptyFolderReport} from './folder-report.js'
import {ascending} from '../access/uid-lists.js'
import type {PlaceholderGuard} from './placeholder-guard.js'

/**
 * Removes the local folders among `candidates` that are not in `selected`. Returns one report
 * per folder (`removed`, or `failed` when the folder's files could not be read or removed). A
 * local I/O error or an interruption ends the run and is thrown.
 */
export async function removeUnselectedFolders(store: AccountStore, selected: readonly string[], guard: PlaceholderGuard, logger: Logger, candidates: ReadonlySet<string>): Promise<FolderReport[]> {
  const keep = new Set(selected)
  const reports: FolderReport[] = []
  const placeholders = new Map<string, boolean>()
  const holds = async (name: string): Promise<boolean> => {
    let hold = placeholders.get(name)
    if (hold === undefined) placeholders.set(name, (hold = await originHoldsPlaceholders(store, name)))
    return hold
  }
  for (const local of await store.listFolders()) {
    if (keep.has(local.name) || !candidates.has(local.name)) continue
    const origin = await keptAsideFrom(store, local.name, keep)
    if (origin !== undefined) {
      if (await holds(origin)) {
        logger.info(
          `Kept the local folder '${local.name}', a backup kept aside from '${origin}' after a UIDVALIDITY change: '${origin}' holds ignore-history placeholders, and this may be the only real copy of those messages (mirror mode keeps it)`,
          {folder: local.name},
        )
        continue
      }
    }
    const why = await olderThanPlaceholders(local.name, keep, guard, holds)
    if (why !== undefined) {
      logger.info(`Kept the local folder '${local.name}', which is not backed up any more: ${why}, and this may be the only real copy of messages they stand for (mirror mode keeps it)`, {
        folder: local.name,
      })
      continue
    }
    const started = Date.now()
    const report = emptyFolderReport(local.name)
    try {
      await store.removeFolder(local.name)
      report.outcome = 'removed'
      guard.record?.delete(local.name)
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

/**
 * Why the backup of the vanished folder `name` must stay, if it must: it is older than
 * ignore-history placeholders held by a folder still backed up (the record cannot say which
 * placeholders, nor can they: any of them may stand for a message only this backup holds). A
 * record that cannot be read keeps every such folder.
 */
async function olderThanPlaceholders(
  name: string,
  selected: ReadonlySet<string>,
  guard: PlaceholderGuard,
  holds: (name: string) => Promise<boolean>,
): Promise<string | undefined> {
  if (guard.record === undefined) return `the record of backups older than ignore-history placeholders cannot be read (${guard.unreadable ?? 'damaged'})`
  for (const into of guard.record.get(name) ?? []) {
    if (into !== name && selected.has(into) && (await holds(into))) return `its backup is older than the ignore-history placeholders '${into}' holds`
  }
  return undefined
}

/** The selected folder `name` is a backup kept aside from, if it is one (its own UIDVALIDITY in its name). */
async function keptAsideFrom(store: AccountStore, name: string, selected: ReadonlySet<string>): Promise<string | undefined> {
  let folder: FolderStore | undefined
  try {
    folder = await store.folder(name)
    const origin = keptAsideOrigin(name, folder.uidValidity)
    return origin !== undefined && selected.has(origin) ? origin : undefined
  } catch (error) {
    // A damaged folder is removed or reported by removeFolder, as before.
    if (error instanceof DamagedError) return undefined
    throw error
  } finally {
    await folder?.close().catch(() => undefined)
  }
}

/**
 * Whether the live backup of `origin` holds ignore-history's placeholders. A backup that cannot
 * be read counts as holding them: the kept-aside copy is then kept, which loses nothing.
 */
async function originHoldsPlaceholders(store: AccountStore, origin: string): Promise<boolean> {
  let folder: FolderStore | undefined
  try {
    folder = await store.folder(origin)
    return folder.exists && (await holdsPlaceholders(folder))
  } catch (error) {
    if (error instanceof DamagedError) return true
    throw error
  } finally {
    await folder?.close().catch(() => undefined)
  }
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
