/** Text of `mailkeep local requote`: per folder, what was (or, with --dry-run, would be) converted. */
import type {RequoteReport} from '../../engine/repair/requote.js'
import {plural, printable} from './text.js'

export function renderRequote(report: RequoteReport): string {
  const lines = [`Account: ${printable(report.account)}${report.dryRun ? ' (dry run: nothing was written)' : ''}`]
  if (report.folders.length === 0) lines.push('\tno backed-up folders')
  for (const f of report.folders) {
    if (f.error !== null) lines.push(`\t${printable(f.name)}: not converted: ${printable(f.error)}`)
    else if (f.strict === 0) lines.push(`\t${printable(f.name)}: nothing to convert`)
    else {
      const verb = report.dryRun ? 'would be' : 'were'
      const changed = f.rewritten === 0 ? 'none of them changes' : `${plural(f.rewritten, 'message')} ${verb} rewritten (+${plural(f.bytesAdded, 'byte')}), the others only marked`
      lines.push(`\t${printable(f.name)}: ${plural(f.strict, 'message')} quoted by mailkeep 0.1.0: ${changed}`)
    }
  }
  return `${lines.join('\n')}\n`
}
