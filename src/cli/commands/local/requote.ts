import {Args, Flags} from '@oclif/core'
import {requoteAccount, type RequoteReport} from '../../../engine/repair/requote.js'
import {formatFlag} from '../../format-flag.js'
import {BaseCommand} from '../../base-command.js'
import {renderRequote} from '../../render/local-requote.js'

/** `mailkeep local requote EMAIL [FOLDER]` (docs/commands/local.md, docs/mbox-format.md). */
export default class LocalRequote extends BaseCommand<typeof LocalRequote, RequoteReport> {
  static override summary = "convert messages mailkeep 0.1.0 quoted to today's rule, so imap-backup reads them right"
  static override description = [
    "mailkeep 0.1.0 quoted only `From ` lines with the space; mailkeep now also quotes lines such as `>From:`, so that imap-backup, whose reader removes a `>` from every `>From` line, reads every message right. mailkeep reads both kinds exactly: convert only a backup that imap-backup will read. Each converted message is checked to read back byte for byte as before; the folder is rewritten once. More: `mailkeep help mbox-format`.",
    "Takes the account's exclusive lock. --dry-run counts what would change and writes nothing.",
    'Exit status: 0 converted (or nothing to convert); 5 a backup holds the lock; 6 a folder is damaged (run `mailkeep local check`); 7 a folder was written by a newer mailkeep.',
  ].join('\n\n')
  static override examples = ['<%= config.bin %> local requote me@example.com --dry-run', '<%= config.bin %> local requote me@example.com INBOX']
  static override args = {
    email: Args.string({description: 'the account (username)', required: true}),
    folder: Args.string({description: "the folder's server name (default: every folder of the account)"}),
  }
  static override flags = {
    'dry-run': Flags.boolean({char: 'n', description: 'count what would change; write nothing'}),
    format: formatFlag,
  }
  static override handlesSignals = true

  protected override async exec(): Promise<RequoteReport> {
    const config = await this.loadConfigAndWarn()
    const report = await requoteAccount(
      {config, account: this.args.email, dryRun: this.flags['dry-run'], ...(this.args.folder === undefined ? {} : {folder: this.args.folder})},
      this.ctx,
    )
    this.setExitCode(report.exitCode)
    return report
  }

  protected override renderText(report: RequoteReport): string {
    return renderRequote(report)
  }
}
