/**
 * The text form of a TransferReport (src/engine/upload/types.ts), printed by `restore`,
 * `copy`, `mirror` and `migrate`. `--json` prints the report itself.
 *
 *     restore alice@example.com → alice@example.com
 *       INBOX        → INBOX            12 uploaded (1.20 MiB), 3 already there
 *       Work         → Work-1606316666  5 uploaded (20.1 KiB); 'Work' holds other mail (UIDVALIDITY 17): left untouched, created 'Work-1606316666'
 *       Big          → Big              NOT uploaded: 1 message
 *                      UID 7: 52428800 bytes is larger than the destination's APPENDLIMIT …
 *     total: 17 uploaded (1.22 MiB), 3 already there, 0 adopted, in 2.1 s
 *     exit 4 (INCOMPLETE): …
 *
 * Folders where nothing happened are counted, not listed (unless `verbose`). `quiet` keeps only
 * what went wrong.
 */
import type {TransferFolderReport, TransferReport} from '../../engine/upload/types.js'
import {renderBackupSummary} from './backup-summary.js'
import {exitLine} from './exit-meaning.js'
import {formatBytes, formatSeconds, plural, printable} from './text.js'

export interface TransferSummaryOptions {
  quiet?: boolean
  /** List every folder, also those where nothing happened. */
  all?: boolean
  /** Skipped messages listed per folder before "… and N more"; default 5. */
  maxListed?: number
}

const INDENT = '  '
const MAX_COLUMN = 28

export function renderTransferSummary(report: TransferReport, options: TransferSummaryOptions = {}): string {
  const quiet = options.quiet ?? false
  const maxListed = options.maxListed ?? 5
  const lines: string[] = []
  if (report.backup !== undefined) {
    const text = renderBackupSummary({...report.backup, exitCode: 0}, {quiet}).trimEnd()
    if (text !== '') lines.push(`backup of ${printable(report.source)} first:`, ...text.split('\n').map((l) => INDENT + l))
  }
  if (!quiet) lines.push(`${report.command} ${printable(report.source)} → ${printable(report.destination)}`)
  const shown = report.folders.filter((f) => (quiet ? hasProblems(f) : options.all === true || changed(f) || hasProblems(f)))
  const left = Math.min(MAX_COLUMN, Math.max(0, ...shown.map((f) => printable(f.source).length)))
  const right = Math.min(MAX_COLUMN, Math.max(0, ...shown.map((f) => printable(f.destination).length)))
  for (const folder of shown) lines.push(...folderLines(folder, left, right, maxListed))
  const hidden = report.folders.length - shown.length
  if (!quiet && hidden > 0) lines.push(`${INDENT}(${plural(hidden, 'more folder')} already up to date)`)
  if (!quiet) lines.push(totalLine(report))
  if (report.exitCode !== 0) lines.push(exitLine(report.exitCode))
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`
}

function folderLines(folder: TransferFolderReport, left: number, right: number, maxListed: number): string[] {
  const head = `${INDENT}${printable(folder.source).padEnd(left)} → ${printable(folder.destination).padEnd(right)}  `
  const pad = ' '.repeat(INDENT.length + left + 3)
  const lines: string[] = []
  if (folder.outcome === 'failed') {
    const done = counts(folder)
    lines.push(`${head}failed: ${oneLine(folder.error?.message ?? 'unknown error')}${done === 'nothing uploaded' ? '' : `; before that: ${done}`}`)
    if (folder.error?.hint !== undefined) lines.push(`${pad}hint: ${oneLine(folder.error.hint)}`)
  } else {
    let text = counts(folder)
    if (folder.clash !== undefined) {
      const clash = folder.clash
      const holds = (clash.present ?? 0) > 0 ? ` and ${plural(clash.present!, 'message')} of this backup (recorded, not uploaded again)` : ''
      text +=
        clash.folder === folder.destination
          ? `; '${printable(clash.folder)}' holds other mail (UIDVALIDITY ${clash.uidValidity})${holds}: left untouched, nothing else to upload`
          : `; '${printable(clash.folder)}' holds other mail (UIDVALIDITY ${clash.uidValidity})${holds}: left untouched, ${folder.created ? 'created' : 'used'} '${printable(folder.destination)}'`
    } else if (folder.created) text += ' (folder created)'
    lines.push(head + text)
  }
  if (folder.skipped.length > 0) {
    lines.push(`${pad}NOT uploaded: ${plural(folder.skipped.length, 'message')}`)
    for (const s of folder.skipped.slice(0, maxListed)) lines.push(`${pad}  UID ${s.uid}: ${oneLine(s.reason)}`)
    if (folder.skipped.length > maxListed) lines.push(`${pad}  … and ${folder.skipped.length - maxListed} more (--json lists them all)`)
  }
  if (folder.droppedFlags.length > 0) {
    const flags = [...new Set(folder.droppedFlags.flatMap((d) => d.flags))].slice(0, 5).join(' ')
    lines.push(`${pad}${plural(folder.droppedFlags.length, 'message')} uploaded without some flags (${printable(flags)}): ${oneLine(folder.droppedFlags[0]!.reason)}`)
  }
  for (const note of folder.notes) lines.push(`${pad}note: ${oneLine(note)}`)
  return lines
}

function counts(f: TransferFolderReport): string {
  const parts: string[] = []
  if (f.uploaded > 0) parts.push(`${f.uploaded} uploaded (${formatBytes(f.bytes)})`)
  if (f.alreadyPresent > 0) parts.push(`${f.alreadyPresent} already there`)
  if (f.adopted > 0) parts.push(`${f.adopted} found there and recorded`)
  if (f.flagsUpdated > 0) parts.push(plural(f.flagsUpdated, 'flag update'))
  if (f.deleted > 0) parts.push(`${f.deleted} deleted`)
  const base = parts.length === 0 ? 'nothing uploaded' : parts.join(', ')
  return f.placeholders > 0 ? `${base}; ${plural(f.placeholders, 'ignore-history placeholder')} not uploaded (not mail)` : base
}

function totalLine(report: TransferReport): string {
  const sum = (key: 'uploaded' | 'bytes' | 'alreadyPresent' | 'adopted' | 'deleted'): number => report.folders.reduce((n, f) => n + f[key], 0)
  const skipped = report.folders.reduce((n, f) => n + f.skipped.length, 0)
  const failed = report.folders.filter((f) => f.outcome === 'failed').length
  let text = `total: ${sum('uploaded')} uploaded (${formatBytes(sum('bytes'))}), ${sum('alreadyPresent')} already there, ${sum('adopted')} found there`
  if (report.command === 'mirror' || sum('deleted') > 0) text += `, ${sum('deleted')} deleted`
  if (skipped > 0) text += `, ${skipped} NOT uploaded`
  if (failed > 0) text += `, ${plural(failed, 'folder')} failed`
  return `${text}, in ${formatSeconds(report.seconds)}`
}

function changed(f: TransferFolderReport): boolean {
  return f.uploaded > 0 || f.adopted > 0 || f.flagsUpdated > 0 || f.deleted > 0 || f.created || f.clash !== undefined || f.placeholders > 0
}

function hasProblems(f: TransferFolderReport): boolean {
  return f.outcome !== 'ok' || f.skipped.length > 0 || f.droppedFlags.length > 0 || f.notes.length > 0
}

function oneLine(text: string): string {
  return printable(text.replace(/\s*\n\s*/g, ' '))
}
