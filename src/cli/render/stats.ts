/**
 * `stats` as text, imap-backup's layout (compat §2.2): the folder name left-aligned in 20
 * characters, then `remote`, `both` and `local` right-aligned in 8, separated by `|`, under a
 * header and a line of dashes. A longer name is not cut, as in imap-backup.
 *
 * ```
 * folder              |remote  |both    |local
 * --------------------|--------|--------|--------
 * INBOX               |       3|      25|       0
 * ```
 */
import type {FolderStats} from '../../engine/inspect/stats.js'
import {printable} from './text.js'

const COLUMNS = [
  {name: 'folder', width: 20},
  {name: 'remote', width: 8},
  {name: 'both', width: 8},
  {name: 'local', width: 8},
] as const

export function renderStats(rows: readonly FolderStats[]): string {
  const header = COLUMNS.map((c) => c.name.padEnd(c.width)).join('|')
  const underline = COLUMNS.map((c) => '-'.repeat(c.width)).join('|')
  const lines = [header, underline]
  for (const r of rows) {
    lines.push([printable(r.folder).padEnd(20), String(r.remote).padStart(8), String(r.both).padStart(8), String(r.local).padStart(8)].join('|'))
  }
  return lines.join('\n')
}
