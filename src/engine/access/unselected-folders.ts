/**
 * Server folders that exist but are not backed up (not selected by `folders` /
 * `folder_blacklist`, docs/config.md "Folder selection"), named in every backup report and in
 * `stats`, those that are new since the last backup first (docs/backup.md, "Folders not
 * selected"). A folder created on the server after a fixed `folders` list was written is not
 * backed up; it must never be left out silently (issue 11 item 5; docs/backup.md B3).
 *
 * What counts as new: not listed by the server at the last backup, as recorded in the account
 * root (src/store/server-folders.ts). With no record (the first backup, or a record that cannot
 * be read), every unselected folder is new.
 */
import {readServerFolders, writeServerFolders} from '../../store/server-folders.js'
import {InterruptedError, MailkeepError} from '../../shared/errors.js'
import type {Logger} from '../../shared/logger.js'
import type {UnselectedFolder} from './types.js'

/** The listed folders that are not selected, new ones first, each group in server order. */
export function unselectedFolders(listed: readonly string[], selected: readonly string[], known: readonly string[] | undefined): UnselectedFolder[] {
  const chosen = new Set(selected)
  const before = known === undefined ? undefined : new Set(known)
  const rows = listed.filter((name) => !chosen.has(name)).map((folder) => ({folder, new: before === undefined || !before.has(folder)}))
  return [...rows.filter((r) => r.new), ...rows.filter((r) => !r.new)]
}

/** The folders recorded by the last backup; undefined (with a warning) when they cannot be read. */
export async function knownServerFolders(root: string, logger: Logger): Promise<string[] | undefined> {
  try {
    return await readServerFolders(root)
  } catch (error) {
    if (error instanceof InterruptedError || !(error instanceof MailkeepError)) throw error
    logger.warn(`the list of server folders seen by the last backup cannot be read (${error.message}); every folder not selected counts as new`)
    return undefined
  }
}

/**
 * Records what the server lists now, when it differs from the record. A failure only costs the
 * "new" marks of the next run: it is logged, not raised.
 */
export async function recordServerFolders(root: string, listed: readonly string[], known: readonly string[] | undefined, logger: Logger): Promise<void> {
  if (known !== undefined && known.length === listed.length && known.every((name, i) => name === listed[i])) return
  try {
    await writeServerFolders(root, listed)
  } catch (error) {
    if (error instanceof InterruptedError || !(error instanceof MailkeepError)) throw error
    logger.warn(`could not record the server's folder list (${error.message}); the next run reports the folders not selected as new again`)
  }
}

/**
 * The log lines for the folders not selected: WARN for those new since the last backup (so also
 * under `--json`, where no summary is printed), `others` (DEBUG for a backup, whose summary and
 * report name them; INFO for `stats`, whose `--json` keeps imap-backup's rows) for the rest.
 */
export function logUnselected(rows: readonly UnselectedFolder[], logger: Logger, others: 'debug' | 'info' = 'debug'): void {
  const fresh = rows.filter((r) => r.new).map((r) => `'${r.folder}'`)
  if (fresh.length > 0) logger.warn(`not selected for backup, new on the server since the last run: ${fresh.join(', ')} (\`mailkeep help config\`, "Folder selection")`)
  const old = rows.filter((r) => !r.new).map((r) => `'${r.folder}'`)
  if (old.length > 0) logger[others](`not selected for backup: ${old.join(', ')}`)
}
