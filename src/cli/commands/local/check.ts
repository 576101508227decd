import {Flags} from '@oclif/core'
import {checkAccounts, checkExitCode, type CheckedAccount} from '../../../engine/inspect/local-check.js'
import {UsageError} from '../../../shared/errors.js'
import {formatFlag} from '../../format-flag.js'
import {BaseCommand} from '../../base-command.js'
import {commaList} from '../../comma-list.js'
import {renderCheck} from '../../render/local-check.js'

/** `mailkeep local check` (docs/commands/local.md). */
export default class LocalCheck extends BaseCommand<typeof LocalCheck, CheckedAccount[]> {
  static override summary = 'check the local backup for damage'
  static override description = [
    'Runs every integrity check on every backed-up folder of the selected accounts and prints all findings, each with the command that repairs it. Read-only: it takes the shared lock and changes no byte, even of a damaged folder.',
    'Exit status: 0 no damage (warnings may be listed); 6 a folder is damaged; 7 a file was written by a newer mailkeep.',
    '--delete-corrupt (imap-backup) is refused: mailkeep never deletes backup data; `mailkeep local repair` rebuilds a damaged folder and keeps the damaged files aside.',
  ].join('\n\n')
  static override examples = ['<%= config.bin %> local check', '<%= config.bin %> local check -a me@example.com --json']
  static override flags = {
    accounts: Flags.string({char: 'a', description: 'comma-separated usernames to check (default: every account)'}),
    'delete-corrupt': Flags.boolean({description: 'not supported: mailkeep never deletes backup data (use `mailkeep local repair`)'}),
    format: formatFlag,
  }

  protected override async exec(): Promise<CheckedAccount[]> {
    if (this.flags['delete-corrupt']) {
      throw new UsageError('--delete-corrupt is not supported: mailkeep never deletes backup data', {
        hint: 'run `mailkeep local check` to see what is damaged, then `mailkeep local repair EMAIL [FOLDER]`: it rebuilds the folder and keeps the damaged files aside',
      })
    }
    const config = await this.loadConfigAndWarn()
    const accounts = commaList(this.flags.accounts)
    const result = await checkAccounts({config, ...(accounts === undefined ? {} : {accounts}), ...(this.flags.config === undefined ? {} : {configFlag: this.flags.config})}, this.ctx)
    this.setExitCode(checkExitCode(result))
    return result
  }

  protected override renderText(accounts: CheckedAccount[]): string {
    return renderCheck(accounts)
  }
}
