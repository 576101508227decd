import {Args, Flags} from '@oclif/core'
import {loadConfig} from '../../config/index.js'
import {runTransfer} from '../../engine/transfer.js'
import type {TransferReport} from '../../engine/transfer-types.js'
import {BaseCommand} from '../base-command.js'
import {renderTransferSummary} from '../render/transfer-summary.js'

/** `mailkeep mirror SOURCE_EMAIL DESTINATION_EMAIL` (docs/commands/copy-mirror-migrate.md). */
export default class Mirror extends BaseCommand<typeof Mirror, TransferReport> {
  static override summary = "back up an account, then make another account's folders equal to its backup"

  static override description = [
    'As copy, and copies whose source message is gone from the backup (in mirror mode: deleted on the source server) are deleted on the destination. Nothing else is ever deleted: unlike imap-backup, a first run does not empty the destination folders; messages already there that are byte-identical copies are adopted, all others are kept.',
    'Exit status: 0 done; 2 bad options (e.g. --automatic-namespaces with an explicit prefix); 3 unknown account or status not active/archived; 4 some messages or folders were not done (listed); 5 another backup or upload of the source account is running; 111 connection or login failed; 130/143 interrupted (rerun to continue). See docs/commands/copy-mirror-migrate.md.',
  ].join('\n\n')

  static override examples = ['<%= config.bin %> mirror me@example.com replica@example.net']

  static override args = {
    source_email: Args.string({description: 'the account whose backup is uploaded', required: true}),
    destination_email: Args.string({description: 'the account it is uploaded to', required: true}),
  }

  static override flags = {
    'source-prefix': Flags.string({char: 's', description: 'prefix of the source folder names to remove (e.g. INBOX.)'}),
    'source-delimiter': Flags.string({description: "hierarchy delimiter of the source server, used when it cannot be reached (its real one is used otherwise)"}),
    'destination-prefix': Flags.string({char: 'd', description: 'prefix put before every destination folder name (e.g. INBOX. or Archive/old)'}),
    'destination-delimiter': Flags.string({description: "hierarchy delimiter of the destination (default: the destination server's)"}),
    'automatic-namespaces': Flags.boolean({description: 'take prefix and delimiter of both sides from the servers (NAMESPACE); incompatible with the four options above'}),
  }

  static override handlesSignals = true
  static override showsProgress = true

  protected override async exec(): Promise<TransferReport> {
    const config = await loadConfig(this.configPath)
    this.useConfigLogFormat(config.logFormat)
    for (const warning of config.warnings) this.logger.warn(warning)
    const f = this.flags
    const report = await runTransfer(
      {
        command: 'mirror',
        config,
        source: this.args.source_email,
        destination: this.args.destination_email,
        ...defined({
          sourcePrefix: f['source-prefix'],
          sourceDelimiter: f['source-delimiter'],
          destinationPrefix: f['destination-prefix'],
          destinationDelimiter: f['destination-delimiter'],
        }),
        automaticNamespaces: f['automatic-namespaces'],
      },
      this.ctx,
    )
    this.setExitCode(report.exitCode)
    return report
  }

  protected override renderText(report: TransferReport): string {
    return renderTransferSummary(report, {quiet: this.flags.quiet, all: this.flags.verbose})
  }
}

/** The options that were given (an absent flag must not override a default). */
function defined<T extends Record<string, string | undefined>>(values: T): Partial<Record<keyof T, string>> {
  const out: Partial<Record<keyof T, string>> = {}
  for (const [key, value] of Object.entries(values)) if (value !== undefined) out[key as keyof T] = value
  return out
}
