/**
 * The files of one backed-up folder (docs/design.md, "Files of a folder"): its mbox and `.imap`,
 * the journal, the upload maps, the exactness file, and the temporary files of a rename or
 * rewrite that recovery finishes. All inside the account's directory (resolveInside).
 */
import {EXACT_SUFFIX} from './exact-file.js'
import {JOURNAL_SUFFIX} from './journal.js'
import {resolveInside} from './safe-path.js'

export interface FolderPaths {
  readonly base: string
  readonly mbox: string
  readonly imap: string
  readonly journal: string
  readonly mirror: string
  /** The upload maps' other files (docs/upload-maps.md): they move with the folder's backup. */
  readonly uploadMaps: readonly string[]
  readonly renameIntent: string
  readonly mboxCompact: string
  readonly imapCompact: string
  /** The exactness file (exact-file.ts). */
  readonly exact: string
  readonly exactCompact: string
}

export function folderPaths(root: string, relativePath: string): FolderPaths {
  const base = resolveInside(root, relativePath)
  return {
    base,
    mbox: `${base}.mbox`,
    imap: `${base}.imap`,
    journal: `${base}${JOURNAL_SUFFIX}`,
    mirror: `${base}.mirror`,
    uploadMaps: [`${base}.mirror.journal`, `${base}.restore`, `${base}.restore.journal`],
    renameIntent: `${base}.rename`,
    mboxCompact: `${base}.mbox.compact`,
    imapCompact: `${base}.imap.compact`,
    exact: `${base}${EXACT_SUFFIX}`,
    exactCompact: `${base}${EXACT_SUFFIX}.compact`,
  }
}
