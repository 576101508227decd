/**
 * The text form of a BackupReport (src/engine/backup/types.ts), printed by `mailkeep backup` and
 * `mailkeep single backup` when the run ends. `--json` prints the report itself instead.
 *
 * It fits one screen for a typical run: a line per account, then only the folders that changed
 * or failed (a run with 300 unchanged folders prints one line for them), a total line, and for a
 * non-zero exit code the meaning of that code:
 *
 *     alice@example.com: ok, 2 of 14 folders changed
 *       INBOX    20 new (1.20 MiB), 3 flag updates, 0.4 s
 *       Trash    failed: connection lost; before that: 5 new (20.1 KiB)
 *                hint: rerun; it resumes from the last savepoint
 *     total: 20 new messages (1.20 MiB) in 2.1 s, 9.5 msg/s, 0.57 MiB/s
 *     exit 4 (INCOMPLETE): The run finished, but some folders or messages were not done …
 *
 * Below an account's folders, the server folders that exist but are not selected for backup
 * (`folders` / `folder_blacklist`), those new since the last run first:
 *
 *       not backed up (not selected): Projects (new), Spam, Trash
 *
 * `quiet` keeps only what went wrong, and folders not selected that are new since the last run
 * (so cron mails about each of them once); a successful quiet run otherwise prints nothing.
 */
import type {AccountReport, BackupReport, ErrorSummary, FolderReport, UnselectedFolder} from '../../engine/backup/types.js'
import {exitLine} from './exit-meaning.js'
import {formatBytes, formatCount, formatRate, formatSeconds, plural, printable} from './text.js'

export interface SummaryOptions {
  /** `--quiet`: only errors. */
  quiet?: boolean
  /** Failed UIDs listed per folder before "… and N more"; default 5. */
  maxFailedMessages?: number
  /** Folders not selected named per account before "… and N more"; default 10. */
  maxUnselected?: number
}

const INDENT = '  '
/** Folder names longer than this are not padded to a common column. */
const MAX_NAME_COLUMN = 32

export function renderBackupSummary(report: BackupReport, options: SummaryOptions = {}): string {
  const quiet = options.quiet ?? false
  const maxFailed = options.maxFailedMessages ?? 5
  const lines: string[] = []

  for (const account of report.accounts) {
    const unselected = quiet ? account.unselected.filter((f) => f.new) : account.unselected
    if (quiet && !accountHasErrors(account) && unselected.length === 0) continue
    lines.push(accountLine(account))
    if (account.error !== undefined && account.outcome !== 'skipped') lines.push(...hintLines(account.error, INDENT))
    const shown = account.folders.filter((f) => (quiet ? folderHasErrors(f) : folderChanged(f) || folderHasErrors(f) || f.note !== undefined))
    const column = Math.min(MAX_NAME_COLUMN, Math.max(0, ...shown.map((f) => printable(f.folder).length)))
    for (const folder of shown) lines.push(...folderLines(folder, column, maxFailed))
    if (unselected.length > 0) lines.push(`${INDENT}${unselectedLine(unselected, options.maxUnselected ?? 10)}`)
  }

  if (!quiet) {
    if (report.accounts.length === 0) lines.push('no accounts were backed up')
    lines.push(totalLine(report))
  }
  if (report.exitCode !== 0) lines.push(exitLine(report.exitCode))
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`
}

function accountLine(account: AccountReport): string {
  const name = printable(account.account)
  switch (account.outcome) {
    case 'skipped':
      // The engine's reason reads as a sentence: "not backed up: the account's status is 'archived'".
      return `${name}: ${account.error === undefined ? 'skipped' : oneLine(account.error.message)}`
    case 'failed':
      return `${name}: failed${account.error === undefined ? '' : `: ${oneLine(account.error.message)}`}${folderCounts(account, ' (', ')')}`
    case 'incomplete':
    case 'ok':
      return `${name}: ${account.outcome === 'ok' ? 'ok' : 'incomplete'}${folderCounts(account, ', ', '')}`
  }
}

/** `, 2 of 14 folders changed, 1 failed` (empty when the account never got to its folders). */
function folderCounts(account: AccountReport, open: string, close: string): string {
  const total = account.folders.length
  if (total === 0) return account.outcome === 'ok' ? `${open}no folders${close}` : ''
  const changed = account.folders.filter((f) => folderChanged(f) && !folderHasErrors(f)).length
  const failed = account.folders.filter(folderHasErrors).length
  const parts = [changed === 0 ? `${plural(total, 'folder')}, none changed` : `${formatCount(changed)} of ${plural(total, 'folder')} changed`]
  if (failed > 0) parts.push(`${formatCount(failed)} failed`)
  return `${open}${parts.join(', ')}${close}`
}

function folderLines(folder: FolderReport, column: number, maxFailed: number): string[] {
  const name = printable(folder.folder)
  const pad = ' '.repeat(Math.max(0, column - name.length))
  const head = `${INDENT}${name}${pad}  `
  const continuation = `${INDENT}${' '.repeat(column)}  `
  const lines = [`${head}${folderDetails(folder)}`]
  if (folder.error !== undefined) lines.push(...hintLines(folder.error, continuation))
  const failed = folder.failedMessages
  for (const {uid, reason} of failed.slice(0, maxFailed)) lines.push(`${continuation}UID ${uid} not saved: ${oneLine(reason)}`)
  if (failed.length > maxFailed) lines.push(`${continuation}… and ${formatCount(failed.length - maxFailed)} more (--json lists them all)`)
  return lines
}

function folderDetails(folder: FolderReport): string {
  const changes: string[] = []
  if (folder.renamedTo !== undefined) changes.push(`UIDVALIDITY changed, old backup moved to ${printable(folder.renamedTo)}`)
  if (folder.new > 0) changes.push(`${formatCount(folder.new)} new (${formatBytes(folder.bytes)})`)
  if (folder.flagUpdates > 0) changes.push(plural(folder.flagUpdates, 'flag update'))
  if (folder.deleted > 0) changes.push(`${formatCount(folder.deleted)} deleted`)
  if (folder.failedMessages.length > 0) changes.push(`${plural(folder.failedMessages.length, 'message')} not saved`)

  if (folder.outcome === 'removed') return 'removed: no longer backed up (mirror mode)'
  if (folder.outcome === 'failed') {
    const reason = folder.error === undefined ? 'failed' : `failed: ${oneLine(folder.error.message)}`
    // What this run saved before the failure is committed (up to the last savepoint) and kept.
    return changes.length === 0 ? reason : `${reason}; before that: ${changes.join(', ')}`
  }
  // A note says why a folder that did not fail had nothing done to it (e.g. it vanished).
  const note = folder.note === undefined ? [] : [oneLine(folder.note)]
  return [...changes, ...note, formatSeconds(folder.seconds)].join(', ')
}

/** `not backed up (not selected): Projects (new), Spam … and 3 more`; also used by `stats`. */
export function unselectedLine(folders: readonly UnselectedFolder[], max = 10): string {
  const names = folders.slice(0, max).map((f) => `${printable(f.folder)}${f.new ? ' (new)' : ''}`)
  const more = folders.length > max ? ` … and ${formatCount(folders.length - max)} more (--json lists them all)` : ''
  return `not backed up (not selected): ${names.join(', ')}${more}`
}

function hintLines(error: ErrorSummary, indent: string): string[] {
  return error.hint === undefined ? [] : [`${indent}hint: ${oneLine(error.hint)}`]
}

function totalLine(report: BackupReport): string {
  let messages = 0
  let bytes = 0
  for (const account of report.accounts) {
    for (const folder of account.folders) {
      messages += folder.new
      bytes += folder.bytes
    }
  }
  const head = `total: ${plural(messages, 'new message')}${messages > 0 ? ` (${formatBytes(bytes)})` : ''} in ${formatSeconds(report.seconds)}`
  if (messages === 0 || report.seconds <= 0) return head
  return `${head}, ${formatRate(messages / report.seconds)} msg/s, ${formatBytes(bytes / report.seconds)}/s`
}

/** A folder worth a line: something in the backup changed. */
export function folderChanged(folder: FolderReport): boolean {
  return folder.outcome === 'removed' || folder.new > 0 || folder.flagUpdates > 0 || folder.deleted > 0 || folder.renamedTo !== undefined
}

function folderHasErrors(folder: FolderReport): boolean {
  return folder.outcome === 'failed' || folder.error !== undefined || folder.failedMessages.length > 0
}

function accountHasErrors(account: AccountReport): boolean {
  return account.outcome === 'failed' || account.outcome === 'incomplete' || account.folders.some(folderHasErrors)
}

/** Error texts may span lines (a server's multi-line answer); the summary keeps one line each. */
function oneLine(text: string): string {
  return printable(text.replace(/\s*\r?\n\s*/g, ' ').trim())
}
