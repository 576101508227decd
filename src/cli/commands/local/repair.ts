import {Args, Flags} from '@oclif/core'
import {repairAccount, type RepairReport} from '../../../engine/repair/repair.js'
import {formatFlag} from '../../format-flag.js'
import {BaseCommand} from '../../base-command.js'
import {renderRepair} from '../../render/local-repair.js'

/** `mailkeep local repair EMAIL [FOLDER]` (docs/commands/local.md, docs/repair.md). */
export default class LocalRepair extends BaseCommand<typeof LocalRepair, RepairReport> {
  static override summary = "rebuild a damaged folder's metadata from its mbox"
  static override description = [
    "Repairs the folders `mailkeep local check` reports (all of the account's, or FOLDER): rebuilds a missing or damaged .imap from the mbox, with UIDs and flags recovered from the server, indexes extra messages at the end of the mbox, cuts a torn last message (its bytes are copied aside first) and finishes interrupted runs. Nothing is deleted: the damaged .imap is kept as <folder>.imap.damaged-<UTC time>. Messages that match no server message are kept. More: `mailkeep help repair`.",
    'Takes the account\'s exclusive lock. --dry-run shows what would be done and writes nothing.',
    'Exit status: 0 repaired (or nothing to repair); 4 repaired without the server (placeholder UIDs: repair again when it can be reached); 5 a backup holds the lock; 6 still damaged.',
  ].join('\n\n')
  static override examples = ['<%= config.bin %> local repair me@example.com INBOX --dry-run', '<%= config.bin %> local repair me@example.com']
  static override args = {
    email: Args.string({description: 'the account (username)', required: true}),
    folder: Args.string({description: "the folder's server name (default: every damaged folder of the account)"}),
  }
  static override flags = {
    'dry-run': Flags.boolean({char: 'n', description: 'show what would be done; write nothing'}),
    format: formatFlag,
  }
  static override handlesSignals = true

  protected override async exec(): Promise<RepairReport> {
    const config = await this.loadConfigAndWarn()
    const report = await repairAccount(
      {
        config,
        account: this.args.email,
        dryRun: this.flags['dry-run'],
        ...(this.args.folder === undefined ? {} : {folder: this.args.folder}),
        ...(this.flags.config === undefined ? {} : {configFlag: this.flags.config}),
      },
      this.ctx,
    )
    this.setExitCode(report.exitCode)
    return report
  }

  protected override renderText(report: RepairReport): string {
    return renderRepair(report)
  }
}
