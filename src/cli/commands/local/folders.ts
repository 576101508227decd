import {Args} from '@oclif/core'
import {localFolders, type LocalFolderName} from '../../../engine/inspect/local-folders.js'
import {formatFlag} from '../../format-flag.js'
import {BaseCommand} from '../../base-command.js'
import {printable} from '../../render/text.js'

/** `mailkeep local folders EMAIL` (docs/commands/local.md). */
export default class LocalFolders extends BaseCommand<typeof LocalFolders, LocalFolderName[]> {
  static override summary = "list an account's backed-up folders"
  static override description =
    'Prints each folder of the account\'s backup in double quotes, by its server name (imap-backup printed the escaped file name). Read-only: takes the shared lock and writes nothing. Exit status: 0; 3 config; 5 a backup is writing the account.'
  static override examples = ['<%= config.bin %> local folders me@example.com']
  static override args = {email: Args.string({description: 'the account (username)', required: true})}
  static override flags = {format: formatFlag}

  protected override async exec(): Promise<LocalFolderName[]> {
    const config = await this.loadConfigAndWarn()
    return localFolders(config, this.args.email, this.ctx)
  }

  protected override renderText(folders: LocalFolderName[]): string {
    return folders.map((f) => `"${printable(f.name)}"`).join('\n')
  }
}
