/**
 * Step 1 of recovery on open (docs/design.md, "Recovery on open"): finishing a rename
 * (UIDVALIDITY change) or a rewrite (mirror-mode removal, requote) that a run began and did not
 * end. Both are committed by one file written last: the rename intent, `.imap.compact`. Before
 * it, nothing changed; after it, the operation is finished from what it names.
 */
import {rename} from 'node:fs/promises'
import {dirname} from 'node:path'
import {fsyncDirectory} from '../shared/atomic-write.js'
import type {DamagedError} from '../shared/errors.js'
import type {Logger} from '../shared/logger.js'
import {exists, readIfPresent, regularFileIfPresent, removeIfPresent} from './file-ops.js'
import {folderPaths, type FolderPaths} from './folder-paths.js'

export interface InterruptedContext {
  root: string
  paths: FolderPaths
  /** A reader finishes nothing: it refuses a folder in the middle of a committed operation. */
  write: boolean
  logger: Logger
  damaged(message: string, cause?: unknown, hint?: string): DamagedError
}

export async function finishInterruptedOperations(c: InterruptedContext): Promise<void> {
  const {paths} = c
  const intent = await readIfPresent(paths.renameIntent)
  const compact = await regularFileIfPresent(paths.imapCompact)
  const mboxCompact = await regularFileIfPresent(paths.mboxCompact)
  const exactCompact = await regularFileIfPresent(paths.exactCompact)
  if (intent === undefined && !compact && !mboxCompact && !exactCompact) return
  if (!c.write) {
    // A rewrite still being written (a lone `.mbox.compact`) changes nothing committed.
    if (intent === undefined && !compact) return
    throw c.damaged(`an interrupted operation on '${paths.base}' has not been finished yet`, undefined, 'run `mailkeep backup` (or any command that writes to this account) to finish it')
  }
  if (intent !== undefined) {
    let to: unknown
    try {
      to = (JSON.parse(intent) as {to?: unknown}).to
    } catch {
      to = undefined
    }
    if (typeof to !== 'string') throw c.damaged(`rename intent '${paths.renameIntent}' is unreadable`)
    await finishRename(c.root, paths, to)
    c.logger.warn(`finished an interrupted rename to '${to}'`)
  }
  if (compact) {
    await finishCompaction(paths)
    c.logger.warn('finished an interrupted rewrite of the folder')
  } else {
    // An unfinished rewrite: our own temporary files.
    await removeIfPresent(paths.mboxCompact)
    await removeIfPresent(paths.exactCompact)
  }
}

/** Moves the folder's files to `targetRelative` (those not there yet), then drops the intent. */
export async function finishRename(root: string, paths: FolderPaths, targetRelative: string): Promise<void> {
  const target = folderPaths(root, targetRelative)
  // The upload maps go too: they say where THIS backup (this UIDVALIDITY) was uploaded, which
  // is where a restore of the kept-aside copy continues (restore-target.ts), and the pairs of
  // its restored copies (message-identity.ts); the folder starting afresh has none yet.
  for (const [from, to] of [
    [paths.mbox, target.mbox],
    [paths.imap, target.imap],
    [paths.mirror, target.mirror],
    ...paths.uploadMaps.map((path, i) => [path, target.uploadMaps[i]!] as const),
    [paths.exact, target.exact],
  ] as const) {
    if ((await exists(from)) && !(await exists(to))) await rename(from, to)
  }
  await fsyncDirectory(dirname(paths.base))
  await removeIfPresent(paths.renameIntent)
  await fsyncDirectory(dirname(paths.base))
}

/** Puts the rewritten files in place; `.imap.compact` last, as it commits the rewrite. */
export async function finishCompaction(paths: FolderPaths): Promise<void> {
  if (await exists(paths.mboxCompact)) await rename(paths.mboxCompact, paths.mbox)
  if (await exists(paths.exactCompact)) await rename(paths.exactCompact, paths.exact)
  await fsyncDirectory(dirname(paths.base))
  await rename(paths.imapCompact, paths.imap)
  await fsyncDirectory(dirname(paths.base))
}
