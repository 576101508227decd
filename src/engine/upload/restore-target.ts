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
 * A clash folder may still hold copies of backed-up messages (a copy, mirror or migrate put them
 * into a folder of another account that also holds that account's own mail; the server changed
 * the folder's UIDVALIDITY and new mail arrived). Before anything goes into the next name of the
 * chain, they are recognised, as adoption recognises copies (adopt.ts: byte-identical,
 * or a form a server rewrites a message to, server-rewrites.ts), and recorded in the map under the
 * clash folder, marked `clash` (never a destination itself): they count as present, and only the
 * others are uploaded into `name-<uidvalidity>` (U7: the destination never holds more copies of a
 * message than the backup). When every message is there already, no clash folder is created.
 *
 * A kept-aside backup (`<name>-<uidvalidity>`, store/kept-aside.ts) is restored where the folder it was
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
import {keptAsideOrigin} from '../../store/kept-aside.js'
import {placeholderUids} from '../../store/placeholders.js'
import {statusCreating} from './status-creating.js'
import type {PreparedFolder} from './run-folder.js'
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

export async function chooseRestoreTarget(input: RestoreTargetInput): Promise<PreparedFolder> {
  const {session, folder, map, name, destination, ownServer, report} = input
  const validity = folder.uidValidity!
  const chain = (n: number): string => (n < 0 ? name : clashName(name, validity, n, destination))
  const home = await keptAsideHome(input.store, folder)
  const present = new Set<number>()
  const clashes = new ClashCopies(input, present, await placeholderUids(folder))

  // 1. where an earlier restore of this backup went; 1b. for a kept-aside backup, where the
  // backup of the folder it was moved away from went. After a clash, what the folders that
  // clashed hold is looked at again: they may have gained or lost copies.
  const earlier = (await earlierTarget(input, map, validity)) ?? (home?.map !== undefined && home.uidValidity !== undefined ? await earlierTarget(input, home.map, home.uidValidity) : undefined)
  if (earlier !== undefined) {
    for (let n = -1; n < earlier.n; n++) await clashes.recognise(n < 0 ? name : clashName(name, earlier.uidValidity, n, destination))
    return {destination: earlier.folder, presentElsewhere: present}
  }

  // 2. imap-backup's rules along the chain
  for (let n = -1; n < MAX_CHAIN; n++) {
    const candidate = chain(n)
    if (n >= 0 && clashes.all()) {
      // Every backed-up message is in a folder that clashed: nothing to upload, no folder to make.
      return {destination: chain(-1), presentElsewhere: present, nothingToUpload: true}
    }
    const {status, created} = await statusCreating(session, candidate)
    if (created) {
      report.created = true
      // Normally empty now; if CREATE found a folder after all, the rules below still apply.
      if ((status.messages ?? 0) === 0) return {destination: candidate, presentElsewhere: present}
    }
    if ((status.messages ?? 0) === 0) return {destination: candidate, presentElsewhere: present}
    if (n < 0 && ownServer && status.uidValidity === validity) return {destination: candidate}
    if (n < 0 && ownServer && home !== undefined && candidate === home.origin) return {destination: candidate}
    if (await holdsOnlyCopies(input, candidate, status)) return {destination: candidate, presentElsewhere: present}
    if (n < 0) report.clash = {folder: candidate, uidValidity: status.uidValidity ?? 0}
    await clashes.recognise(candidate)
  }
  throw new Error(`no free folder name after '${chain(MAX_CHAIN - 1)}'`)
}

/**
 * The backed-up messages that folders which clashed already hold (module comment): recorded in
 * the map under each such folder (an entry marked `clash`), collected in `present`.
 */
class ClashCopies {
  private readonly sourceUids: number[]

  constructor(
    private readonly input: RestoreTargetInput,
    private readonly present: Set<number>,
    placeholders: ReadonlySet<number>,
  ) {
    // ignore-history's placeholders are never uploaded (folder-upload.ts): they need no copy.
    this.sourceUids = input.folder.messages.distinctUids().filter((u) => !placeholders.has(u))
  }

  /** Every backed-up message has a copy in a folder that clashed. */
  all(): boolean {
    return this.sourceUids.length > 0 && this.sourceUids.every((u) => this.present.has(u))
  }

  async recognise(candidate: string): Promise<void> {
    const {session, folder, map, user, report, signal} = this.input
    const validity = folder.uidValidity!
    let opened
    try {
      opened = await session.examine(candidate)
    } catch (error) {
      if (error instanceof MissingFolderError) return
      throw error
    }
    const entry = map.entry(user, candidate)
    if (entry === undefined || !entry.clash || entry.sourceUidValidity !== validity || entry.destinationUidValidity !== opened.uidValidity) {
      map.reset(user, candidate, validity, opened.uidValidity, true)
    }
    const destUids = opened.exists === 0 ? [] : await session.searchUids()
    const there = new Set(destUids)
    const recorded = map.entry(user, candidate)!.map
    // Copies the folder no longer holds are forgotten (they are uploaded into the clash folder).
    map.forget(
      user,
      candidate,
      [...recorded].filter(([, d]) => !there.has(d)).map(([s]) => s),
    )
    const taken = new Set(map.entry(user, candidate)!.map.values())
    const unmapped = this.sourceUids.filter((u) => !this.present.has(u) && !map.entry(user, candidate)!.map.has(u))
    const found = await findCopies(session, folder, unmapped, destUids, (d) => taken.has(d), signal)
    map.record(user, candidate, [...found])
    report.adopted += found.size
    for (const s of map.entry(user, candidate)!.map.keys()) this.present.add(s)
    if (report.clash !== undefined) report.clash.present = this.present.size
  }
}

/**
 * The folder of the clash chain of a backup of UIDVALIDITY `validity` that `map` shows it was
 * restored to, if that folder still has the UIDVALIDITY recorded. Both spellings of a clash
 * folder of INBOX are looked for: under the destination prefix (clashName), and `INBOX-<uv>`
 * beside it, which mailkeep 0.1.0 created wherever a server took it (a destination prefix the
 * server does not enforce): its restore continues there rather than starting a second copy.
 */
async function earlierTarget(input: RestoreTargetInput, map: UploadMap, validity: number): Promise<{folder: string; n: number; uidValidity: number} | undefined> {
  const {session, user, name, destination, report} = input
  const unprefixed: NamingSide = {prefix: '', delimiter: destination.delimiter}
  for (let n = -1; n < MAX_CHAIN; n++) {
    const spellings = n < 0 ? [name] : [...new Set([clashName(name, validity, n, destination), clashName(name, validity, n, unprefixed)])]
    for (const candidate of spellings) {
      const entry = map.entry(user, candidate) // in memory: looking along the whole chain is cheap
      if (entry === undefined || entry.clash || entry.sourceUidValidity !== validity) continue
      const status = await statusOrMissing(session, candidate)
      if (status !== undefined && status.uidValidity === entry.destinationUidValidity) {
        if (n >= 0) report.clash = await clashOf(session, name)
        return {folder: candidate, n, uidValidity: validity}
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
