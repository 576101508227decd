import {Args} from '@oclif/core'
import {ignoreHistory, type IgnoreHistoryReport} from '../../../engine/backup/ignore-history.js'
import {BaseCommand} from '../../base-command.js'
import {formatFlag} from '../../format-flag.js'
import {plural, printable} from '../../render/text.js'

/** `mailkeep utils ignore-history EMAIL` (docs/commands/utils.md). */
export default class IgnoreHistory extends BaseCommand<typeof IgnoreHistory, IgnoreHistoryReport> {
  static override summary = 'mark the mail now on the server as backed up, without downloading it'

  static override description = [
    "For each folder selected for backup, stores a small placeholder (\"Message <uid> not backed up\") for every message on the server that is not in the backup yet, and records the folder's UIDNEXT, so that later backups download only mail that arrives from now on (imap-backup compatible).",
    'Exit status: 0 done; 4 a folder failed on its own (its local path cannot be made, …), the others were done; 3 config error or unknown account; 5 a backup of this account is running; 111 connection or login failed; 130/143 interrupted (the current folder is rolled back; rerun). More: `mailkeep help commands/utils`.',
  ].join('\n\n')

  static override examples = ['<%= config.bin %> utils ignore-history me@example.com']

  static override args = {email: Args.string({description: 'the account (its username in the config)', required: true})}
  static override flags = {format: formatFlag}

  static override handlesSignals = true
  static override showsProgress = true

  protected override async exec(): Promise<IgnoreHistoryReport> {
    const config = await this.loadConfigAndWarn()
    const report = await ignoreHistory({config, email: this.args.email}, this.ctx)
    this.setExitCode(report.exitCode)
    return report
  }

  protected override renderText(report: IgnoreHistoryReport): string {
    if (this.flags.quiet) return ''
    const lines = report.folders.map((f) => {
      if (f.error !== undefined) return `  ${printable(f.folder)}: not done: ${printable(f.error.message)}${f.error.hint === undefined ? '' : ` (${printable(f.error.hint)})`}`
      const moved = f.renamedTo === undefined ? '' : ` (UIDVALIDITY changed: the old backup is now '${printable(f.renamedTo)}')`
      return `  ${printable(f.folder)}: ${plural(f.ignored, 'message')} marked as not backed up${moved}`
    })
    const total = report.folders.reduce((n, f) => n + f.ignored, 0)
    const failed = report.folders.filter((f) => f.error !== undefined).length
    const done = report.folders.length - failed
    lines.unshift(
      `${report.account}: ${plural(total, 'message')} in ${plural(done, 'folder')} marked as not backed up; later backups download only newer mail` +
        (failed > 0 ? `; ${plural(failed, 'folder')} NOT done (below)` : ''),
    )
    return lines.join('\n')
  }
}
