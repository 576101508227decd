/**
 * `.mailkeep-placeholders.json` in the account root: which local folders' backups are older than
 * ignore-history placeholders written into which folders (docs/backup.md, B5).
 *
 * A placeholder carries no identity of the message it stands for (only its UID in its own
 * folder), so once the server renamed a folder, or moved mail out of it, nothing in the backup
 * tells which older backup holds the real copy of what a placeholder replaced. This record says
 * it by time order instead of identity: `older[V]` names the folders W into which
 * `utils ignore-history` wrote placeholders after V's backup was last brought up to date. Mirror
 * mode keeps V's backup when V is gone from the server while such a W still holds placeholders;
 * a backup that brings V up to date again drops `older[V]`.
 *
 * Backup data in the sense that losing it could let mirror mode remove the only real copy of a
 * message: written by atomic replace (I2) with mode 0600, under the account's exclusive lock
 * (I5), by ignore-history before it writes any placeholder and by a backup. Its name does not end
 * in `.imap`, so no tool takes it for a folder.
 *
 * ```json
 * {"format":1,"older":{"Work":["Work/2026"]}}
 * ```
 */
import {atomicWrite} from '../shared/atomic-write.js'
import {DamagedError} from '../shared/errors.js'
import {readIfPresent, removeIfPresent} from './file-ops.js'
import {isObject} from './json-guards.js'
import {FILE_MODE, resolveInside} from './safe-path.js'

export const PLACEHOLDER_RECORD_FILE = '.mailkeep-placeholders.json'

const FORMAT = 1

/** Local folder name → the folders that got placeholders after its backup was last brought up to date. */
export type PlaceholderRecord = Map<string, Set<string>>

/**
 * The record; empty when there is no file. @throws DamagedError when the file is not what
 * mailkeep writes, or comes from a newer mailkeep (its meaning is then unknown, so nothing may
 * be concluded from it: the caller keeps what it might protect).
 */
export async function readPlaceholderRecord(root: string): Promise<PlaceholderRecord> {
  const path = resolveInside(root, PLACEHOLDER_RECORD_FILE)
  const text = await readIfPresent(path)
  const record: PlaceholderRecord = new Map()
  if (text === undefined) return record
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (error) {
    throw new DamagedError(`'${path}' is not valid JSON (${(error as Error).message})`, {cause: error})
  }
  if (!isObject(data) || data['format'] !== FORMAT || !isObject(data['older'])) {
    throw new DamagedError(`'${path}' is not a record of ignore-history placeholders this mailkeep understands`)
  }
  for (const [name, into] of Object.entries(data['older'])) {
    if (!Array.isArray(into) || !into.every((f) => typeof f === 'string')) throw new DamagedError(`'${path}' has an invalid entry for '${name}'`)
    record.set(name, new Set(into))
  }
  return record
}

/** Writes the record (the account's exclusive lock is held); an empty one removes the file. */
export async function writePlaceholderRecord(root: string, record: PlaceholderRecord): Promise<void> {
  const path = resolveInside(root, PLACEHOLDER_RECORD_FILE)
  const older: Record<string, string[]> = {}
  for (const [name, into] of [...record].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) if (into.size > 0) older[name] = [...into].sort()
  if (Object.keys(older).length === 0) {
    await removeIfPresent(path)
    return
  }
  await atomicWrite(path, `${JSON.stringify({format: FORMAT, older})}\n`, {mode: FILE_MODE})
}

/** Whether two records say the same. */
export function sameRecord(a: PlaceholderRecord, b: PlaceholderRecord): boolean {
  const size = (r: PlaceholderRecord): number => [...r.values()].filter((s) => s.size > 0).length
  if (size(a) !== size(b)) return false
  for (const [name, into] of a) {
    if (into.size === 0) continue
    const other = b.get(name)
    if (other === undefined || other.size !== into.size || [...into].some((f) => !other.has(f))) return false
  }
  return true
}
