/**
 * Which local backups are older than ignore-history placeholders, kept up to date by
 * `utils ignore-history` and by each backup (the record: src/store/placeholder-record.ts), for
 * mirror mode's decision to keep a vanished folder's backup (docs/backup.md, B5).
 *
 * - ignore-history, before it writes any placeholder: every local folder then in the backup is
 *   older than the placeholders about to be written into the folders it works on (written
 *   first, so that an interruption leaves more recorded, never less); after it, only the folders
 *   that did get placeholders stay named, and a backup it moved aside (UIDVALIDITY change) is
 *   recorded under its new name.
 * - a backup: a folder it backed up completely (`ok`, `unchanged`) is up to date again, and its
 *   entry goes; a backup of it moved aside keeps the entry under its new name. A folder mirror
 *   mode removed loses its entry.
 */
import {InterruptedError, MailkeepError} from '../../shared/errors.js'
import type {Logger} from '../../shared/logger.js'
import {readPlaceholderRecord, sameRecord, writePlaceholderRecord, type PlaceholderRecord} from '../../store/placeholder-record.js'
import type {FolderReport} from './types.js'

export interface PlaceholderGuard {
  /** The record as read, changed by this run; undefined when it could not be read. */
  record: PlaceholderRecord | undefined
  /** Why it could not be read. */
  unreadable?: string
  readonly read: PlaceholderRecord
}

/** The account's record; one that cannot be read is logged, and then protects every folder. */
export async function loadPlaceholderGuard(root: string, logger: Logger): Promise<PlaceholderGuard> {
  try {
    const read = await readPlaceholderRecord(root)
    return {record: copyOf(read), read}
  } catch (error) {
    if (error instanceof InterruptedError || !(error instanceof MailkeepError)) throw error
    logger.warn(
      `the record of which backups are older than ignore-history placeholders cannot be read (${error.message}); mirror mode keeps every local folder the server no longer has until it is fixed or removed`,
    )
    return {record: undefined, unreadable: error.message, read: new Map()}
  }
}

/** After a backup: completed folders are up to date again; a moved-aside backup keeps its entry. */
export function noteBackedUp(guard: PlaceholderGuard, folders: readonly FolderReport[]): void {
  const record = guard.record
  if (record === undefined) return
  for (const f of folders) {
    if (f.outcome !== 'ok' && f.outcome !== 'unchanged') continue
    const into = record.get(f.folder)
    if (into === undefined) continue
    record.delete(f.folder)
    if (f.renamedTo !== undefined) record.set(f.renamedTo, into)
  }
}

/**
 * Before a backup of `from` is moved aside to `to` (UIDVALIDITY change): an entry of `from` is
 * recorded under `to` as well, and written at once, so that a run stopped after the move still
 * knows the moved backup is older than the placeholders (B5). Found by the sequence soak (seed
 * 3555785069 on Courier): a `copy` killed after its backup moved a folder aside lost the move
 * from the record, which is written at the end of a run, and the next mirror-mode run removed
 * the only real copy of messages whose placeholders another folder held. An entry under a name
 * the rename then never made protects nothing that exists.
 */
export async function recordMovedAside(root: string, record: PlaceholderRecord | undefined, from: string, to: string): Promise<void> {
  const into = record?.get(from)
  if (record === undefined || into === undefined) return
  record.set(to, new Set([...(record.get(to) ?? []), ...into]))
  await writePlaceholderRecord(root, record)
}

/** Writes the record when this run changed it. A failure is logged: the old record then stays, which keeps more, never less. */
export async function savePlaceholderGuard(root: string, guard: PlaceholderGuard, logger: Logger): Promise<void> {
  if (guard.record === undefined || sameRecord(guard.record, guard.read)) return
  try {
    await writePlaceholderRecord(root, guard.record)
  } catch (error) {
    if (error instanceof InterruptedError || !(error instanceof MailkeepError)) throw error
    logger.warn(`could not update the record of backups older than ignore-history placeholders (${error.message}); mirror mode may keep some local folders longer`)
  }
}

/**
 * ignore-history: `locals` (every local folder before it writes) are older than placeholders in
 * `into`. Returns the record to write; `moved` maps a local folder to the name its backup was
 * moved aside to.
 */
export function withPlaceholders(
  read: PlaceholderRecord,
  locals: readonly string[],
  into: ReadonlySet<string>,
  moved: ReadonlyMap<string, string> = new Map(),
): PlaceholderRecord {
  const record = copyOf(read)
  if (into.size === 0) return record
  for (const local of locals) {
    const name = moved.get(local) ?? local
    const set = record.get(name) ?? new Set<string>()
    for (const w of into) set.add(w)
    record.set(name, set)
  }
  return record
}

function copyOf(record: PlaceholderRecord): PlaceholderRecord {
  return new Map([...record].map(([k, v]) => [k, new Set(v)]))
}
