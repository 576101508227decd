/**
 * What the upload commands share: `restore` (docs/commands/restore.md) and `copy`, `mirror`,
 * `migrate` (docs/commands/copy-mirror-migrate.md). Each calls one engine function that returns a
 * TransferReport; this base loads the config, sets the exit code from the report and renders it.
 * The arguments and naming flags of copy, mirror and migrate are defined here once.
 */
import {Args, Flags, type Command} from '@oclif/core'
import type {Config} from '../config/index.js'
import type {TransferOptions, TransferReport} from '../engine/upload/types.js'
import {BaseCommand} from './base-command.js'
import {renderTransferSummary} from './render/transfer-summary.js'

export abstract class UploadCommand<T extends typeof Command> extends BaseCommand<T, TransferReport> {
  static override handlesSignals = true
  static override showsProgress = true

  /** Calls the engine's upload use-case with the loaded config. */
  protected abstract upload(config: Config): Promise<TransferReport>

  protected override async exec(): Promise<TransferReport> {
    const config = await this.loadConfigAndWarn()
    const report = await this.upload(config)
    this.setExitCode(report.exitCode)
    return report
  }

  protected override renderText(report: TransferReport): string {
    return renderTransferSummary(report, {quiet: this.flags.quiet, all: this.flags.verbose})
  }
}

/** The exit-status paragraph of copy, mirror and migrate (their `--help`). */
export const TRANSFER_EXIT_STATUS =
  'Exit status: 0 done; 2 bad options (e.g. --automatic-namespaces with an explicit prefix); 3 unknown account or status not active/archived; 4 some messages or folders were not done (listed); 5 another backup or upload of the source account is running; 111 connection or login failed; 130/143 interrupted (rerun to continue). More: `mailkeep help commands/copy-mirror-migrate`.'

/** SOURCE_EMAIL DESTINATION_EMAIL of copy, mirror and migrate. */
export const transferArgs = {
  source_email: Args.string({description: 'the account whose backup is uploaded', required: true}),
  destination_email: Args.string({description: 'the account it is uploaded to', required: true}),
}

/** The naming options of copy, mirror and migrate (docs/delimiters-and-prefixes.md). */
export const namingFlags = {
  'source-prefix': Flags.string({char: 's', description: 'prefix of the source folder names to remove (e.g. INBOX.)'}),
  'source-delimiter': Flags.string({description: 'hierarchy delimiter the backed-up folder names were made with (default: recorded in the backup, else the source server\'s, else /)'}),
  'destination-prefix': Flags.string({char: 'd', description: 'prefix put before every destination folder name (e.g. INBOX. or Archive/old)'}),
  'destination-delimiter': Flags.string({description: "hierarchy delimiter of the destination (default: the destination server's)"}),
  'automatic-namespaces': Flags.boolean({description: 'take prefix and delimiter of both sides from the servers (NAMESPACE); incompatible with the four options above'}),
}

interface TransferArgValues {
  source_email: string
  destination_email: string
}

interface NamingFlagValues {
  'source-prefix'?: string | undefined
  'source-delimiter'?: string | undefined
  'destination-prefix'?: string | undefined
  'destination-delimiter'?: string | undefined
  'automatic-namespaces': boolean
}

/** The engine options of copy, mirror or migrate from their arguments and naming flags. */
export function transferOptions(command: TransferOptions['command'], config: Config, args: TransferArgValues, flags: NamingFlagValues): TransferOptions {
  return {
    command,
    config,
    source: args.source_email,
    destination: args.destination_email,
    ...defined({
      sourcePrefix: flags['source-prefix'],
      sourceDelimiter: flags['source-delimiter'],
      destinationPrefix: flags['destination-prefix'],
      destinationDelimiter: flags['destination-delimiter'],
    }),
    automaticNamespaces: flags['automatic-namespaces'],
  }
}

/** The options that were given (an absent flag must not override a default). */
function defined<T extends Record<string, string | undefined>>(values: T): Partial<Record<keyof T, string>> {
  const out: Partial<Record<keyof T, string>> = {}
  for (const [key, value] of Object.entries(values)) if (value !== undefined) out[key as keyof T] = value
  return out
}
