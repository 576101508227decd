import {Args, Flags} from '@oclif/core'
import {exportToThunderbird} from '../../../engine/export/thunderbird.js'
import type {ThunderbirdExportReport} from '../../../engine/export/types.js'
import {BaseCommand} from '../../base-command.js'
import {renderThunderbirdExport} from '../../render/export.js'

/** `mailkeep utils export-to-thunderbird EMAIL` (docs/commands/export.md). */
export default class ExportToThunderbird extends BaseCommand<typeof ExportToThunderbird, ThunderbirdExportReport> {
  static override summary = "copy an account's backed-up folders into Thunderbird's Local Folders"

  static override description = [
    "Writes every backed-up folder of the account as a mailbox under Local Folders/imap-backup/<email> of a Thunderbird profile (imap-backup compatible), as correct mboxrd: a body line starting with \"From \" does not split a message, and messages keep their bytes. The backup is only read. Close Thunderbird first; it shows the folders when it starts.",
    'A mailbox that already exists (or has a .msf index) is skipped with a warning unless --force, which replaces it and deletes its index. Without --profile the default profile of the only Thunderbird install is used.',
    'Exit status: 0 done; 1 no such profile, profile not set up, or nothing backed up; 3 config error or unknown account; 4 some folders were skipped or not exported (listed); 5 a backup of this account is running; 6 the backup is damaged. More: `mailkeep help commands/export`.',
  ].join('\n\n')

  static override examples = [
    '<%= config.bin %> utils export-to-thunderbird me@example.com',
    '<%= config.bin %> utils export-to-thunderbird me@example.com --profile work --force',
  ]

  static override args = {email: Args.string({description: 'the account (its username in the config)', required: true})}
  static override flags = {
    profile: Flags.string({char: 'p', description: 'the name of the Thunderbird profile to copy emails to [default: the default profile]'}),
    force: Flags.boolean({char: 'f', description: 'overwrite existing mailboxes (their .msf index is deleted)'}),
  }

  static override handlesSignals = true
  static override showsProgress = true

  protected override async exec(): Promise<ThunderbirdExportReport> {
    const config = await this.loadConfigAndWarn()
    const report = await exportToThunderbird(
      {config, email: this.args.email, force: this.flags.force, ...(this.flags.profile === undefined ? {} : {profile: this.flags.profile})},
      this.ctx,
    )
    this.setExitCode(report.exitCode)
    return report
  }

  protected override renderText(report: ThunderbirdExportReport): string {
    return renderThunderbirdExport(report, {quiet: this.flags.quiet})
  }
}
