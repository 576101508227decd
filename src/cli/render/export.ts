/**
 * The text form of the export reports (src/engine/export/types.ts), printed by `mailkeep utils
 * export-to-thunderbird` and `mailkeep utils export`; `--json` prints the report itself.
 *
 *     me@example.com: exported to Thunderbird profile 'default-release'
 *       into /home/me/.thunderbird/x.default-release/Mail/Local Folders/imap-backup.sbd/me@example.com.sbd
 *       INBOX          120 messages (3.10 MiB)
 *       Work/Projects  skipped: '…/Work.sbd/Projects' exists
 *                      hint: pass --force to replace it
 *     total: 120 messages (3.10 MiB) in 1 of 2 folders
 *     exit 4 (INCOMPLETE): not everything was exported; …
 *
 * `quiet` keeps only what went wrong.
 */
import type {ExportFolderReport, ExportReport, ThunderbirdExportReport} from '../../engine/export/types.js'
import {ExitCode, type ExitCodeValue} from '../../shared/exit-codes.js'
import {exitLine, exitMeaning} from './exit-meaning.js'
import {formatBytes, formatCount, plural, printable} from './text.js'

export interface ExportRenderOptions {
  quiet?: boolean
  /** Failed UIDs listed per folder before "… and N more"; default 5. */
  maxFailedMessages?: number
}

const INDENT = '  '
const MAX_NAME_COLUMN = 32

export function renderThunderbirdExport(report: ThunderbirdExportReport, options: ExportRenderOptions = {}): string {
  const head = [`${printable(report.account)}: exported to Thunderbird profile '${printable(report.profile.name)}'`, `${INDENT}into ${printable(report.target)}`]
  return render(head, report.folders, report, options)
}

export function renderExport(report: ExportReport, options: ExportRenderOptions = {}): string {
  const head = [`${printable(report.account)}: exported as ${report.format === 'maildir' ? 'Maildir' : '.eml files'} to ${printable(report.to)}`]
  return render(head, report.folders, report, options)
}

function render(head: string[], folders: ExportFolderReport[], report: {messages: number; bytes: number; exitCode: ExitCodeValue}, options: ExportRenderOptions): string {
  const quiet = options.quiet ?? false
  const maxFailed = options.maxFailedMessages ?? 5
  const shown = quiet ? folders.filter(hasProblem) : folders
  const lines: string[] = []
  if (!quiet || shown.length > 0) lines.push(...head)
  const column = Math.min(MAX_NAME_COLUMN, Math.max(0, ...shown.map((f) => printable(f.folder).length)))
  for (const folder of shown) lines.push(...folderLines(folder, column, maxFailed))
  if (!quiet) {
    const exported = folders.filter((f) => f.status === 'exported').length
    lines.push(`total: ${plural(report.messages, 'message')} (${formatBytes(report.bytes)}) in ${formatCount(exported)} of ${plural(folders.length, 'folder')}`)
    const legacy = folders.reduce((n, f) => n + f.legacyMessages, 0)
    if (legacy > 0) {
      const [was, it] = legacy === 1 ? ['was', 'it'] : ['were', 'them']
      lines.push(`note: ${plural(legacy, 'message')} written by imap-backup ${was} exported as imap-backup stored ${it} (LF line endings, a newline added), not byte for byte`)
    }
  }
  if (report.exitCode === ExitCode.INCOMPLETE) {
    // The table's advice ("resumes from the last savepoint") is about backups; say what it means here.
    lines.push(`exit ${report.exitCode} (${exitMeaning(report.exitCode).name}): not everything was exported; the folders and messages above say what and why`)
  } else if (report.exitCode !== ExitCode.OK) lines.push(exitLine(report.exitCode))
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`
}

function hasProblem(folder: ExportFolderReport): boolean {
  return folder.status !== 'exported' || folder.failedMessages.length > 0
}

function folderLines(folder: ExportFolderReport, column: number, maxFailed: number): string[] {
  const name = printable(folder.folder)
  const label = `${INDENT}${name.padEnd(column)}  `
  const pad = ' '.repeat(label.length)
  const lines: string[] = []
  if (folder.status === 'exported') {
    lines.push(`${label}${plural(folder.messages, 'message')} (${formatBytes(folder.bytes)})`)
  } else {
    const message = folder.error === undefined ? '' : `: ${oneLine(folder.error.message)}`
    lines.push(`${label}${folder.status}${message}`)
    if (folder.error?.hint !== undefined) lines.push(`${pad}hint: ${oneLine(folder.error.hint)}`)
  }
  if (folder.failedMessages.length > 0) {
    const listed = folder.failedMessages.slice(0, maxFailed).map((m) => `UID ${m.uid}: ${oneLine(m.reason)}`)
    lines.push(`${pad}not exported: ${plural(folder.failedMessages.length, 'message')}`)
    for (const line of listed) lines.push(`${pad}${INDENT}${line}`)
    const more = folder.failedMessages.length - listed.length
    if (more > 0) lines.push(`${pad}${INDENT}… and ${formatCount(more)} more`)
  }
  return lines
}

function oneLine(text: string): string {
  return printable(text.replace(/\s*\n\s*/g, ' '))
}
