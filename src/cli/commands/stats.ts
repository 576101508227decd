import {Args} from '@oclif/core'
import type {UnselectedFolder} from '../../engine/backup/types.js'
import {accountStats, type FolderStats} from '../../engine/inspect/stats.js'
import {BaseCommand} from '../base-command.js'
import {formatFlag} from '../format-flag.js'
import {unselectedLine} from '../render/backup-summary.js'
import {renderStats} from '../render/stats.js'

/** `mailkeep stats EMAIL` (docs/commands/stats.md). */
export default class Stats extends BaseCommand<typeof Stats, FolderStats[]> {
  static override summary = 'compare the backup of an account with its server, folder by folder'

  static override description = [
    'For each folder selected for backup that exists on the server: how many messages are only on the server (remote: the next backup downloads them), in both places (both), and only in the backup (local: deleted on the server). Reads the backup without changing it. --json prints [{"folder","remote","both","local"}] (imap-backup compatible). Server folders that are not selected for backup are named below the table (and logged), those new since the last backup first.',
    'Exit status: 0 done; 3 config error or unknown account; 5 a backup of this account is running; 6 the backup is damaged; 111 connection or login failed. More: `mailkeep help commands/stats`.',
  ].join('\n\n')

  static override examples = ['<%= config.bin %> stats me@example.com', '<%= config.bin %> stats me@example.com --json']

  static override args = {email: Args.string({description: 'the account (its username in the config)', required: true})}
  static override flags = {format: formatFlag}

  /** Not part of the JSON (imap-backup's rows): the text names them below the table. */
  private unselected: UnselectedFolder[] = []

  protected override async exec(): Promise<FolderStats[]> {
    const config = await this.loadConfigAndWarn()
    const stats = await accountStats({config, email: this.args.email}, this.ctx)
    this.unselected = stats.unselected
    return stats.rows
  }

  protected override renderText(rows: FolderStats[]): string {
    const table = renderStats(rows)
    return this.unselected.length === 0 ? table : `${table}\n${unselectedLine(this.unselected, Infinity)}`
  }
}
