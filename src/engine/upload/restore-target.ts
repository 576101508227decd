/**
 * Which destination folder a backed-up folder is restored into (compat §7, without its local
 * side effects; docs/commands/restore.md, "Folder clashes"):
 *
 * 1. a folder of the clash chain (`name`, `name-<uidvalidity>`, `name-<uidvalidity>-1`, …) that an
 *    earlier restore of this backup folder went to (the `.restore` map says so, and its
 *    UIDVALIDITY is still the one recorded): that one, so a rerun continues where it was;
 * 2. otherwise along the chain: a missing folder is created and used; an empty one is used as it
 *    is; `name` itself is used when it is the folder the backup came from (restore into the
 *    account's own server, same UIDVALIDITY); a folder whose every message is a byte-identical
 *    copy of a backed-up message (a restore whose map was lost, a server that renumbered the
 *    folder) is not "other mail" either: its messages are adopted; any other folder holds other
 *    mail — a *clash* — and is left untouched: the next name of the chain is tried.
 *
 * A kept-aside backup (`<name>-<uidvalidity>`, kept-aside.ts) is restored where the folder it was
 * moved away from is: `name` is that folder's destination name; a folder of the chain that the
 * origin's own backup was restored to comes first (step 1 of the origin's map), and on the
 * account's own server `name` itself is used, whatever it holds: it is the very folder the
 * kept-aside mail came from. The upload then adopts what is there already (deduplication) and
 * appends only what the folder lost. A folder of its own would nest one level per cycle.
 *
 * imap-backup renames the LOCAL backup to `name-<uidvalidity>` and rewrites its UIDVALIDITY and
 * UIDs in place; mailkeep never writes the backup: only the server side and the map change.
 */
import type {FolderStatus, ImapSession} from '../../imap/types.js'
import {DamagedError, MissingFolderError} from '../../shared/errors.js'
import type {AccountStore} from '../../store/account-store.js'
import type {FolderStore} from '../../store/folder-store.js'
import {UploadMap} from '../../store/upload-map.js'
import {clashName, type NamingSide} from './folder-mapping.js'
import {keptAsideOrigin} from './kept-aside.js'
import {statusCreating} from './run.js'
import {findCopies} from './adopt.js'
import type {TransferFolderReport} from './types.js'

/** Enough for a folder restored again and again into clashing folders. */
const MAX_CHAIN = 1000

export interface RestoreTargetInput {
  session: ImapSession
  /** The backup (to find the folder a kept-aside backup was moved away from). */
  store: AccountStore
  folder: FolderStore
  map: UploadMap
  /** Destination user (map key). */
  user: string
  /** The name the naming rule gives. */
  name: string
  /** The destination's prefix and delimiter: clash folders are named under them (clashName). */
  destination: NamingSide
  /** The destination is the account's own server. */
  ownServer: boolean
  report: TransferFolderReport
  signal: AbortSignal
}

export async function chooseRestoreTarget(input: RestoreTargetInput): Promise<string> {
  const {session, folder, map, name, destination, ownServer, report} = input
  const validity = folder.uidValidity!
  const chain = (n: number): string => (n < 0 ? name : clashName(name, validity, n, destination))
  const home = await keptAsideHome(input.store, folder)

  // 1. where an earlier restore of this backup went
  const earlier = await earlierTarget(input, map, validity)
  if (earlier !== undefined) return earlier

  // 1b. a kept-aside backup: where the backup of the folder it was moved away from went
  if (home?.map !== undefined && home.uidValidity !== undefined) {
    const origin = await earlierTarget(input, home.map, home.uidValidity)
    if (origin !== undefined) return origin
  }

  // 2. imap-backup's rules along the chain
  for (let n = -1; n < MAX_CHAIN; n++) {
    const candidate = chain(n)
    const {status, created} = await statusCreating(session, candidate)
    if (created) {
      report.created = true
      // Normally empty now; if CREATE found a folder after all, the rules below still apply.
      if ((status.messages ?? 0) === 0) return candidate
    }
    if ((status.messages ?? 0) === 0) return candidate
    if (n < 0 && ownServer && status.uidValidity === validity) return candidate
    if (n < 0 && ownServer && home !== undefined && candidate === home.origin) return candidate
    if (await holdsOnlyCopies(input, candidate, status)) return candidate
    if (n < 0) report.clash = {folder: candidate, uidValidity: status.uidValidity ?? 0}
  }
  throw new Error(`no free folder name after '${chain(MAX_CHAIN - 1)}'`)
}

/**
 * The folder of the clash chain of a backup of UIDVALIDITY `validity` that `map` shows it was
 * restored to, if that folder still has the UIDVALIDITY recorded. Both spellings of a clash
 * folder of INBOX are looked for: under the destination prefix (clashName), and `INBOX-<uv>`
 * beside it, which mailkeep 0.1.0 created wherever a server took it (a destination prefix the
 * server does not enforce): its restore continues there rather than starting a second copy.
 */
async function earlierTarget(input: RestoreTargetInput, map: UploadMap, validity: number): Promise<string | undefined> {
  const {session, user, name, destination, report} = input
  const unprefixed: NamingSide = {prefix: '', delimiter: destination.delimiter}
  for (let n = -1; n < MAX_CHAIN; n++) {
    const spellings = n < 0 ? [name] : [...new Set([clashName(name, validity, n, destination), clashName(name, validity, n, unprefixed)])]
    for (const candidate of spellings) {
      const entry = map.entry(user, candidate) // in memory: looking along the whole chain is cheap
      if (entry === undefined || entry.sourceUidValidity !== validity) continue
      const status = await statusOrMissing(session, candidate)
      if (status !== undefined && status.uidValidity === entry.destinationUidValidity) {
        if (n >= 0) report.clash = await clashOf(session, name)
        return candidate
      }
    }
  }
  return undefined
}

/**
 * Whether every message of `candidate` is a copy of a backed-up message; if so they are recorded
 * in the map (adopted). Only tried when the folder is not larger than the backup folder.
 */
async function holdsOnlyCopies(input: RestoreTargetInput, candidate: string, status: FolderStatus): Promise<boolean> {
  const {session, folder, map, user, report} = input
  const sourceUids = folder.messages.distinctUids()
  if ((status.messages ?? 0) > sourceUids.length) return false
  const opened = await session.examine(candidate)
  const destUids = await session.searchUids()
  if (destUids.length === 0 || destUids.length > sourceUids.length) return destUids.length === 0
  const found = await findCopies(session, folder, sourceUids, destUids, () => false, input.signal)
  if (found.size !== destUids.length) return false
  map.reset(user, candidate, folder.uidValidity!, opened.uidValidity)
  map.record(user, candidate, [...found])
  report.adopted += found.size
  return true
}

/** The folder a kept-aside backup was moved away from: its name, UIDVALIDITY and restore map. */
interface KeptAsideHome {
  origin: string
  uidValidity: number | undefined
  map: UploadMap | undefined
}

async function keptAsideHome(store: AccountStore, folder: FolderStore): Promise<KeptAsideHome | undefined> {
  const origin = keptAsideOrigin(folder.name, folder.uidValidity)
  if (origin === undefined) return undefined
  try {
    const backup = await store.folder(origin)
    try {
      if (!backup.exists) return {origin, uidValidity: undefined, map: undefined}
      return {origin, uidValidity: backup.uidValidity, map: await UploadMap.read(backup.paths.base, 'restore')}
    } finally {
      await backup.close()
    }
  } catch (error) {
    // Only a shortcut: without it the rules of step 2 still apply (the damage is reported when
    // that folder itself is restored).
    if (!(error instanceof DamagedError)) throw error
    return {origin, uidValidity: undefined, map: undefined}
  }
}

async function statusOrMissing(session: ImapSession, folder: string): Promise<FolderStatus | undefined> {
  try {
    return await session.status(folder)
  } catch (error) {
    if (error instanceof MissingFolderError) return undefined
    throw error
  }
}

async function clashOf(session: ImapSession, name: string): Promise<{folder: string; uidValidity: number} | undefined> {
  const status = await statusOrMissing(session, name)
  return status === undefined ? undefined : {folder: name, uidValidity: status.uidValidity ?? 0}
}
