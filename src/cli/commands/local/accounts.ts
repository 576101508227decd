import {localAccounts, type LocalAccount} from '../../../engine/inspect/local-accounts.js'
import {formatFlag} from '../../format-flag.js'
import {BaseCommand} from '../../base-command.js'
import {printable} from '../../render/text.js'

/** `mailkeep local accounts` (docs/commands/local.md). */
export default class LocalAccounts extends BaseCommand<typeof LocalAccounts, LocalAccount[]> {
  static override summary = 'list the configured accounts'
  static override description = 'Prints the username of every account in the config file, whatever its status (active, archived, offline). Exit status: 0; 3 when the config cannot be read.'
  static override examples = ['<%= config.bin %> local accounts', '<%= config.bin %> local accounts --json']
  static override flags = {format: formatFlag}

  protected override async exec(): Promise<LocalAccount[]> {
    const config = await this.loadConfigAndWarn()
    return localAccounts(config)
  }

  protected override renderText(accounts: LocalAccount[]): string {
    return accounts.map((a) => printable(a.username)).join('\n')
  }
}
