/**
 * Kept-aside backups (docs/design.md, "UIDVALIDITY change"): when a folder's UIDVALIDITY changes,
 * the backup moves its old copy to `<name>-<old uidvalidity>` (or `…-<old uidvalidity>-<n>` when
 * that name is taken; imap-backup names them the same way, compat §4.6), and starts the folder
 * afresh. The kept-aside copy still records the old UIDVALIDITY, which is how it is told from a
 * server folder that happens to be called `x-<digits>`: its name ends in its own UIDVALIDITY.
 *
 * Uploads put a kept-aside backup where its mail came from: into the destination folder of
 * `<name>`, deduplicated against what that folder holds (uploader adoption), never into a folder
 * of its own. A folder of its own on the account's own server would be backed up again under
 * the same local name with a new UIDVALIDITY, kept aside once more as `<name>-<uv>-<uv>`, and so
 * on, one level per backup → restore → backup cycle (issue 11 item 2).
 */
import {exists} from './file-ops.js'
import {encodeFolderPath, folderNameWithSuffix} from './folder-path.js'
import {folderPaths} from './folder-paths.js'
import {InternalError} from '../shared/errors.js'

/** How FolderStore.renameAway moves a backup aside. */
export interface RenameAwayOptions {
  /** Names the kept-aside copy must not take: the server's folders, whose backups need them. */
  reserved?: ReadonlySet<string>
  /** Called with the chosen name before anything moves (what must be on disk before the rename). */
  beforeRename?: (target: string) => Promise<void>
}

/**
 * The name a backup of `name` at `uidValidity` is kept aside under: `<name>-<uidvalidity>`, or
 * `-1`, `-2`, … after it when a file of that name is there (an existing pair in the way is
 * skipped, never deleted) or when it is `reserved`: the name of a server folder, whose own backup
 * would otherwise move the kept-aside copy aside once more (`<name>-<uv>-<uv>`) and leave the
 * name the run reported holding another folder's mail (a restore into a clashing folder makes
 * `<name>-<uidvalidity>` on the server).
 */
export async function freeAsideName(root: string, name: string, uidValidity: number, reserved: ReadonlySet<string> = new Set()): Promise<string> {
  for (let n = 0; n <= 10_000; n++) {
    const candidate = folderNameWithSuffix(name, n === 0 ? `-${uidValidity}` : `-${uidValidity}-${n}`)
    if (reserved.has(candidate)) continue
    const p = folderPaths(root, encodeFolderPath(candidate))
    const taken = await Promise.all([p.imap, p.mbox, p.mirror, ...p.uploadMaps, p.journal, p.renameIntent, p.exact].map(exists))
    if (!taken.includes(true)) return candidate
  }
  throw new InternalError('no free name for the renamed folder')
}

/** The folder a kept-aside backup was moved away from, or undefined when `name` is not one. */
export function keptAsideOrigin(name: string, uidValidity: number | undefined): string | undefined {
  if (uidValidity === undefined) return undefined
  const suffix = `-${uidValidity}`
  if (name.endsWith(suffix) && name.length > suffix.length) return name.slice(0, -suffix.length)
  const numbered = /-(\d+)$/.exec(name)
  if (numbered === null) return undefined
  const rest = name.slice(0, numbered.index)
  return rest.endsWith(suffix) && rest.length > suffix.length ? rest.slice(0, -suffix.length) : undefined
}

/**
 * `names` with every folder before the folders whose names extend it with `-…` (kept-aside
 * backups follow the folder they were moved away from, so that the folder's own backup is
 * uploaded first and the kept-aside one deduplicated against it). Otherwise in the given order.
 */
export function originsFirst(names: readonly string[]): string[] {
  const set = new Set(names)
  const depth = (name: string): number => {
    let n = 0
    for (let i = name.indexOf('-'); i > 0; i = name.indexOf('-', i + 1)) if (set.has(name.slice(0, i))) n++
    return n
  }
  return names
    .map((name, index) => ({name, index, depth: depth(name)}))
    .sort((a, b) => a.depth - b.depth || a.index - b.index)
    .map((e) => e.name)
}
