import {Args} from '@oclif/core'
import {remoteCapabilities} from '../../../engine/inspect/remote-capabilities.js'
import {BaseCommand} from '../../base-command.js'
import {formatFlag} from '../../format-flag.js'

/** `mailkeep remote capabilities EMAIL` (docs/commands/remote.md). */
export default class RemoteCapabilities extends BaseCommand<typeof RemoteCapabilities, string[]> {
  static override summary = "list what an account's server supports (IMAP CAPABILITY)"

  static override description = [
    'Logs in and prints the capabilities the server announces, joined with ", " (imap-backup compatible). --json prints them as an array.',
    'Exit status: 0 done; 3 config error or unknown account; 111 connection or login failed. More: `mailkeep help commands/remote`.',
  ].join('\n\n')

  static override examples = ['<%= config.bin %> remote capabilities me@example.com']

  static override args = {email: Args.string({description: 'the account (its username in the config)', required: true})}
  static override flags = {format: formatFlag}

  protected override async exec(): Promise<string[]> {
    const config = await this.loadConfigAndWarn()
    return remoteCapabilities({config, email: this.args.email}, this.ctx)
  }

  protected override renderText(capabilities: string[]): string {
    return capabilities.join(', ')
  }
}
