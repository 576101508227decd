import {Args} from '@oclif/core'
import {listRemoteFolders, type RemoteFolderEntry} from '../../../engine/inspect/remote-folders.js'
import {BaseCommand} from '../../base-command.js'
import {renderRemoteFolders} from '../../render/remote-folders.js'
import {formatFlag} from '../../format-flag.js'

/** `mailkeep remote folders EMAIL` (docs/commands/remote.md). */
export default class RemoteFolders extends BaseCommand<typeof RemoteFolders, RemoteFolderEntry[]> {
  static override summary = "list the folders on an account's server"

  static override description = [
    'Lists every folder the server returns for LIST, names decoded from modified UTF-7, each in double quotes (imap-backup compatible). --json prints [{"name","delimiter","attributes"}].',
    'Exit status: 0 done; 3 config error or unknown account; 111 connection or login failed. More: `mailkeep help commands/remote`.',
  ].join('\n\n')

  static override examples = ['<%= config.bin %> remote folders me@example.com', '<%= config.bin %> remote folders me@example.com --json']

  static override args = {email: Args.string({description: 'the account (its username in the config)', required: true})}
  static override flags = {format: formatFlag}

  protected override async exec(): Promise<RemoteFolderEntry[]> {
    const config = await this.loadConfigAndWarn()
    return listRemoteFolders({config, email: this.args.email}, this.ctx)
  }

  protected override renderText(folders: RemoteFolderEntry[]): string {
    return renderRemoteFolders(folders)
  }
}
