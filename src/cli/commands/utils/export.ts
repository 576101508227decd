import {Args, Flags} from '@oclif/core'
import {exportFolders} from '../../../engine/export/folders.js'
import {EXPORT_FORMATS, type ExportReport} from '../../../engine/export/types.js'
import {BaseCommand} from '../../base-command.js'
import {renderExport} from '../../render/export.js'

/** `mailkeep utils export EMAIL --format maildir|eml --to DIR` (docs/commands/export.md). */
export default class Export extends BaseCommand<typeof Export, ExportReport> {
  static override summary = "write an account's backed-up messages as a Maildir tree or as .eml files"

  static override description = [
    'maildir: one Maildir per folder (DIR/<folder>/{cur,new,tmp}, subfolders nested), messages in cur/ with their flags (:2,DFPRST). eml: DIR/<folder>/<uid>.eml. Folder names are made safe for the file system as in the backup itself. Messages are written byte for byte as the server sent them (those written by imap-backup as it stored them). The backup is only read.',
    'Nothing is overwritten silently: if a folder directory already holds messages, nothing is exported unless --force, which replaces files of the same name (exporting the same backup again gives the same names) and keeps all others.',
    'Exit status: 0 done; 1 nothing backed up, or the target already holds messages; 2 unknown folder; 3 config error or unknown account; 4 some folders or messages were not exported (listed); 5 a backup of this account is running; 6 the backup is damaged; 8 a file could not be written. More: `mailkeep help commands/export`.',
  ].join('\n\n')

  static override examples = [
    '<%= config.bin %> utils export me@example.com --format maildir --to ~/Mail/me',
    '<%= config.bin %> utils export me@example.com --format eml --to ./eml --folders INBOX,Sent',
  ]

  static override args = {email: Args.string({description: 'the account (its username in the config)', required: true})}
  static override flags = {
    format: Flags.option({options: EXPORT_FORMATS, description: 'maildir or eml', required: true})(),
    to: Flags.string({description: 'target directory (created when missing)', required: true}),
    folders: Flags.string({description: 'comma-separated folder names to export (server names; write a comma inside a name as \\,) [default: all]'}),
    force: Flags.boolean({char: 'f', description: 'write into folder directories that already hold messages, replacing files of the same name'}),
  }

  static override handlesSignals = true
  static override showsProgress = true

  protected override async exec(): Promise<ExportReport> {
    const config = await this.loadConfigAndWarn()
    const folders = parseFolderList(this.flags.folders)
    const report = await exportFolders(
      {config, email: this.args.email, format: this.flags.format, to: this.flags.to, force: this.flags.force, ...(folders === undefined ? {} : {folders})},
      this.ctx,
    )
    this.setExitCode(report.exitCode)
    return report
  }

  protected override renderText(report: ExportReport): string {
    return renderExport(report, {quiet: this.flags.quiet})
  }
}

/** `INBOX,Sent,Sales\, 2024` → ['INBOX', 'Sent', 'Sales, 2024']; undefined when absent. */
export function parseFolderList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined
  const names: string[] = []
  let current = ''
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!
    if (ch === '\\' && (value[i + 1] === ',' || value[i + 1] === '\\')) current += value[++i]!
    else if (ch === ',') {
      names.push(current)
      current = ''
    } else current += ch
  }
  names.push(current)
  return names.filter((name) => name !== '')
}
