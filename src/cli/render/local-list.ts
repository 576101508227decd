/**
 * Text of `mailkeep local list` and `mailkeep local search`: one message per line, under a header
 * row and dashes, columns in this order (search puts the folder first):
 *
 *            UID  Date              From                           Size  Subject
 *     ----------------------------------------------------------------------------------------------------
 *             17  2024-04-04 08:00  Ann Example                12.0 KiB  Grüße aus München ✈
 *
 * - UID right-aligned in 10 columns, as imap-backup aligned it;
 * - the Date field's day and time in the message's own zone (`--json` has it in full, with the
 *   offset), blank without a valid Date;
 * - the sender's display name, or the address (`--json`: the whole decoded From field), cut with
 *   `…` to FROM_WIDTH;
 * - the size (the server's, for messages mailkeep backed up);
 * - the subject, RFC 2047 decoded, cut to SUBJECT_WIDTH with `...`.
 * Control characters are shown as `?`. Lines are made one at a time, so that a long listing is
 * written as it is read (stream-output.ts).
 */
import type {ListedMessage} from '../../engine/inspect/local-list.js'
import type {FoundMessage} from '../../engine/inspect/local-search.js'
import {senderName} from '../../engine/inspect/local-summaries.js'
import {formatBytes, formatCount, printable, truncateEnd} from './text.js'

export const SUBJECT_WIDTH = 60
const FROM_WIDTH = 24
const DATE_WIDTH = 16
const SIZE_WIDTH = 9
const FOLDER_MAX = 24

/**
 * The columns of one listing; `folders` (search) adds the folder column, as wide as the longest
 * of these names (at most FOLDER_MAX).
 */
export class MessageTable {
  private readonly folderWidth: number | undefined

  constructor(folders?: readonly string[]) {
    this.folderWidth = folders === undefined ? undefined : Math.min(FOLDER_MAX, Math.max('Folder'.length, ...folders.map((f) => Array.from(printable(f)).length)))
  }

  /** The header row and the dashes under it. */
  header(): string {
    const head = `${this.folderCell('Folder')}${'UID'.padStart(10)}  ${pad('Date', DATE_WIDTH)}  ${pad('From', FROM_WIDTH)}  ${'Size'.padStart(SIZE_WIDTH)}  Subject`
    return `${head}\n${'-'.repeat(Math.max(100, Array.from(head).length + SUBJECT_WIDTH - 'Subject'.length))}\n`
  }

  line(m: ListedMessage | FoundMessage): string {
    const where = 'folder' in m ? this.folderCell(m.folder) : ''
    const date = m.date === '' ? '' : `${m.date.slice(0, 10)} ${m.date.slice(11, 16)}`
    const from = truncateEnd(printable(senderName(m.from)), FROM_WIDTH)
    return `${`${where}${String(m.uid).padStart(10)}  ${pad(date, DATE_WIDTH)}  ${pad(from, FROM_WIDTH)}  ${formatBytes(m.size).padStart(SIZE_WIDTH)}  ${subjectCell(m.subject)}`.trimEnd()}\n`
  }

  private folderCell(name: string): string {
    return this.folderWidth === undefined ? '' : `${pad(truncateEnd(printable(name), this.folderWidth), this.folderWidth)}  `
  }
}

/** The whole listing at once (tests, small results). */
export function renderList(messages: readonly ListedMessage[]): string {
  const table = new MessageTable()
  return table.header() + messages.map((m) => table.line(m)).join('')
}

/** The line after the matches of a search: how many, and how to print one. */
export function searchFooter(count: number, first: FoundMessage | undefined, account: string): string {
  if (count === 0 || first === undefined) return 'no message matches\n'
  const quote = (s: string): string => (/^[\w@.+:/-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`)
  return `${formatCount(count)} message${count === 1 ? '' : 's'}; \`mailkeep local show ${quote(account)} ${quote(first.folder)} ${first.uid}\` prints one\n`
}

function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - Array.from(text).length))
}

function subjectCell(subject: string): string {
  const chars = Array.from(printable(subject))
  return chars.length > SUBJECT_WIDTH ? `${chars.slice(0, SUBJECT_WIDTH - 3).join('')}...` : chars.join('')
}
