import {Args} from '@oclif/core'
import {remoteNamespaces, type RemoteNamespaces as Namespaces} from '../../../engine/inspect/remote-namespaces.js'
import {BaseCommand} from '../../base-command.js'
import {formatFlag} from '../../format-flag.js'
import {renderRemoteNamespaces} from '../../render/remote-namespaces.js'

/** `mailkeep remote namespaces EMAIL` (docs/commands/remote.md). */
export default class RemoteNamespaces extends BaseCommand<typeof RemoteNamespaces, Namespaces> {
  static override summary = "show the namespaces (folder prefix and delimiter) of an account's server"

  static override description = [
    'Prints the first personal, other-users and shared namespace (RFC 2342) with its prefix and delimiter, or (Not defined). --json prints {"personal":{"prefix":"","delim":"."},"other":null,"shared":null} (imap-backup compatible).',
    'Useful before `restore` or `copy` to a server that wants a prefix such as "INBOX.".',
    'Exit status: 0 done; 3 config error or unknown account; 111 connection or login failed. More: `mailkeep help commands/remote`.',
  ].join('\n\n')

  static override examples = ['<%= config.bin %> remote namespaces me@example.com', '<%= config.bin %> remote namespaces me@example.com --json']

  static override args = {email: Args.string({description: 'the account (its username in the config)', required: true})}
  static override flags = {format: formatFlag}

  protected override async exec(): Promise<Namespaces> {
    const config = await this.loadConfigAndWarn()
    return remoteNamespaces({config, email: this.args.email}, this.ctx)
  }

  protected override renderText(namespaces: Namespaces): string {
    return renderRemoteNamespaces(namespaces)
  }
}
