/**
 * `remote folders` as text: each folder name in double quotes, one a line, as imap-backup prints
 * them (compat §2.2). Names come from the server: control characters are shown as `?`.
 */
import type {RemoteFolderEntry} from '../../engine/inspect/remote-folders.js'
import {printable} from './text.js'

export function renderRemoteFolders(folders: readonly RemoteFolderEntry[]): string {
  return folders.map((f) => `"${printable(f.name)}"`).join('\n')
}
