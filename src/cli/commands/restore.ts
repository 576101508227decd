import {Args, Flags} from '@oclif/core'
import type {Config} from '../../config/index.js'
import {runRestore} from '../../engine/upload/restore.js'
import type {TransferReport} from '../../engine/upload/types.js'
import {commaList} from '../comma-list.js'
import {UploadCommand} from '../transfer-command.js'

/**
 * `mailkeep restore EMAIL`: uploads the account's backup to its server or to another configured
 * account (docs/commands/restore.md). The backup is only read; a rerun uploads nothing twice.
 */
export default class Restore extends UploadCommand<typeof Restore> {
  static override summary = "upload an account's backup to its server (or to another account)"

  static override description = [
    "Uploads every folder of the account's backup (the -<uidvalidity> copies left by UIDVALIDITY changes included), or the --folders given, creating folders as needed, with the stored flags and the original INTERNALDATE. Messages arrive byte for byte as they were backed up. A server folder that already holds other mail (another UIDVALIDITY) is left untouched: the folder is restored into <name>-<uidvalidity> instead. The backup itself is never changed, and running restore again uploads nothing twice (also on servers without UIDPLUS, and after a crash).",
    'Exit status: 0 done; 4 some messages were not uploaded (listed, e.g. larger than the server\'s APPENDLIMIT); 5 a backup or another upload of this account is running; 6 the backup is damaged; 111 connection or login failed; 130/143 interrupted (rerun to continue). More: `mailkeep help commands/restore`.',
  ].join('\n\n')

  static override examples = [
    '<%= config.bin %> restore me@example.com',
    '<%= config.bin %> restore me@example.com --folders INBOX,Sent',
    '<%= config.bin %> restore old@example.com --to new@example.net --prefix Archive/old',
    '<%= config.bin %> restore old@example.com --to new@example.net --source-delimiter .',
  ]

  static override args = {email: Args.string({description: 'the account whose backup is restored', required: true})}

  static override flags = {
    to: Flags.string({description: 'upload to this other configured account instead of the account\'s own server'}),
    prefix: Flags.string({char: 'd', description: "destination prefix put before every folder name (default: the destination's personal namespace prefix)"}),
    delimiter: Flags.string({description: "destination hierarchy delimiter (default: the destination server's)"}),
    'source-delimiter': Flags.string({description: "hierarchy delimiter the backed-up folder names were made with (default: recorded in the backup, else the source server's, else /)"}),
    folders: Flags.string({description: 'comma-separated local folders to restore (default: all)'}),
  }

  protected override upload(config: Config): Promise<TransferReport> {
    const {to, prefix, delimiter} = this.flags
    const sourceDelimiter = this.flags['source-delimiter']
    const folders = commaList(this.flags.folders)
    return runRestore(
      {
        config,
        account: this.args.email,
        ...(to === undefined ? {} : {to}),
        ...(prefix === undefined ? {} : {prefix}),
        ...(delimiter === undefined ? {} : {delimiter}),
        ...(sourceDelimiter === undefined ? {} : {sourceDelimiter}),
        ...(folders === undefined ? {} : {folders}),
      },
      this.ctx,
    )
  }
}
