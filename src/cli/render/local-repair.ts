/**
 * Text of `mailkeep local repair`: per folder, what was done (or, with --dry-run, would be),
 * the messages kept without a server match, the files set aside, and the check afterwards.
 */
import type {FolderRepairReport, KeptMessage, RepairReport} from '../../engine/repair/repair.js'
import {plural, printable} from './text.js'

/** Messages listed one by one at most; the rest are counted. */
const KEPT_SHOWN = 20

export function renderRepair(report: RepairReport): string {
  const server =
    report.server === 'reachable' ? 'the server was asked' : report.server === 'unreachable' ? `the server could not be reached (${report.serverError ?? 'unknown error'})` : 'the server was not needed'
  const lines = [`Account: ${printable(report.account)}${report.dryRun ? ' (dry run: nothing was written)' : ''}; ${server}`]
  if (report.folders.length === 0) lines.push('\tno backed-up folders')
  for (const folder of report.folders) lines.push(...folderLines(folder, report.dryRun))
  return `${lines.join('\n')}\n`
}

function folderLines(f: FolderRepairReport, dryRun: boolean): string[] {
  const would = dryRun ? 'would be ' : ''
  const out = [`\t${printable(f.name)}: ${summary(f, dryRun)}`]
  if (f.action === 'rebuilt' || f.action === 'indexed-tail') {
    out.push(`\t\tUIDs: ${uidText(f)}, UIDVALIDITY ${f.uidValidity}`)
    if (f.notExact > 0) out.push(`\t\t${plural(f.notExact, 'message')} ${dryRun ? 'would' : 'could'} not get an exactness record: read as imap-backup text, not byte for byte`)
    if (f.bodiesFetched > 0) out.push(`\t\t${plural(f.bodiesFetched, 'message body', 'message bodies')} fetched to make messages byte-exact`)
  }
  for (const k of f.kept.slice(0, KEPT_SHOWN)) {
    const subject = k.subject === '' ? '' : ` "${printable(k.subject)}"`
    out.push(`\t\tkept UID ${k.uid}${subject} (offset ${k.offset}, ${k.length} bytes): ${keptText(k.reason)}; ${flagsText(k)}`)
  }
  if (f.kept.length > KEPT_SHOWN) out.push(`\t\t… and ${plural(f.kept.length - KEPT_SHOWN, 'more message')} kept (see --json)`)
  if (f.tornBytes > 0) out.push(`\t\ttorn last entry: ${plural(f.tornBytes, 'byte')} ${would}copied aside, then cut from the mbox`)
  for (const path of f.savedAside) out.push(`\t\tset aside: ${printable(path)}`)
  for (const note of f.notes) out.push(`\t\t${printable(note)}`)
  if (!dryRun && f.action !== 'none' && f.action !== 'refused') {
    const errors = f.after.filter((x) => x.severity === 'error')
    out.push(`\t\tcheck afterwards: ${errors.length === 0 ? 'OK' : printable(errors[0]!.message)}`)
    for (const w of f.after.filter((x) => x.severity === 'warning')) out.push(`\t\twarning: ${printable(w.message)}`)
  }
  return out
}

/** ignore-history's placeholders given the UID of the server message they stand for. */
function placeholders(f: FolderRepairReport): string {
  return f.placeholders > 0 ? `, ${f.placeholders} ignore-history placeholder${f.placeholders === 1 ? '' : 's'} under the UID ${f.placeholders === 1 ? 'it stands' : 'they stand'} for` : ''
}

function summary(f: FolderRepairReport, dryRun: boolean): string {
  const verb = (done: string, planned: string): string => (dryRun ? planned : done)
  switch (f.action) {
    case 'none':
      return 'OK, nothing to repair'
    case 'recovered':
      return verb('finished an interrupted run', 'would finish an interrupted run')
    case 'rebuilt':
      return `${verb('rebuilt', 'would rebuild')} the metadata from the mbox: ${plural(f.messages, 'message')}, ${f.matched} matched to the server${placeholders(f)}, ${f.kept.length} kept without a match`
    case 'indexed-tail':
      return `${verb('indexed', 'would index')} the extra messages at the end of the mbox: ${plural(f.messages, 'message')} in all, ${f.matched} matched${placeholders(f)}, ${f.kept.length} kept without a match`
    case 'set-aside':
      return verb('the .mbox file is missing; the .imap file was set aside', 'the .mbox file is missing; the .imap file would be set aside')
    case 'refused':
      return 'not repaired'
  }
}

function uidText(f: FolderRepairReport): string {
  switch (f.uids) {
    case 'verified':
      return "the server's (verified)"
    case 'salvaged':
      return 'from the damaged metadata (the server could not be asked)'
    case 'old-uidvalidity':
      return 'its own, from an earlier UIDVALIDITY of the folder'
    case 'unverified':
      return 'placeholders (not verified)'
    default:
      return 'unchanged'
  }
}

/** Per message, where its flags come from when the server could not give them. */
function flagsText(k: KeptMessage): string {
  if (k.flagsFrom === 'none') return 'flags unknown, stored without flags'
  return `flags from the damaged metadata, not verified (${k.flags.length === 0 ? 'none' : k.flags.map(printable).join(' ')})`
}

function keptText(reason: string): string {
  switch (reason) {
    case 'not-on-server':
      return 'not on the server any more'
    case 'no-match':
      return 'no server message matches it'
    case 'ambiguous':
      return 'several server messages could be it'
    case 'duplicate':
      return 'a second copy of a message already matched'
    case 'incomplete':
      return 'an incomplete entry'
    case 'salvaged-uid':
      return 'UID from the damaged metadata, not verified'
    default:
      return 'placeholder UID'
  }
}
