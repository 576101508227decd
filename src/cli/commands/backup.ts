import {Flags} from '@oclif/core'
import {runBackup} from '../../engine/backup/backup.js'
import type {BackupReport} from '../../engine/backup/types.js'
import {BaseCommand} from '../base-command.js'
import {commaList} from '../comma-list.js'
import {maxDurationFlag, maxDurationMs} from '../duration-flag.js'
import {renderBackupSummary} from '../render/backup-summary.js'

/**
 * `mailkeep backup` (also what runs when no command is given, as in imap-backup): backs up the
 * active accounts of the config file. docs/commands/backup.md documents flags, output and exit
 * codes.
 */
export default class Backup extends BaseCommand<typeof Backup, BackupReport> {
  static override summary = 'back up the configured accounts (the default command)'

  static override description = [
  'Downloads what is new in every selected folder of each active account into MBOXRD files, committing savepoints as it goes, and prints a summary. Ctrl-C (SIGINT) or SIGTERM rolls the current folder back to its last savepoint; the next run continues from there.',
  'With --max-duration (or max_duration_seconds in the config) the run stops at a savepoint when the time is up and exits 4; the next run continues.',
  'Exit status: 0 done; 4 incomplete (rerun); 5 another run holds the lock (0 with --skip-locked); 111 connection or login failed; 130/143 interrupted. More: `mailkeep help exit-codes`, `mailkeep help commands/backup`.',
].join('\n\n')

  static override examples = [
    '<%= config.bin %> backup',
    '<%= config.bin %> backup --accounts me@example.com,work@example.com',
    '<%= config.bin %> backup --refresh --json > report.json',
    '<%= config.bin %> backup --max-duration 1h30m',
  ]

  static override flags = {
    accounts: Flags.string({char: 'a', description: 'comma-separated usernames to back up (default: every active account)'}),
    refresh: Flags.boolean({char: 'r', description: 'in keep-all mode, bring the flags of stored messages up to date also without CONDSTORE or with freeze_flags (with CONDSTORE they follow anyway)'}),
    'max-duration': maxDurationFlag,
    'skip-locked': Flags.boolean({
      description: 'skip an account another mailkeep is using (a run still busy) without an error: exit 0 unless something else failed, and nothing printed under --quiet (for cron)',
    }),
  }

  static override handlesSignals = true
  static override showsProgress = true

  protected override async exec(): Promise<BackupReport> {
    const limit = maxDurationMs(this.flags['max-duration'])
    const config = await this.loadConfigAndWarn()
    const accounts = commaList(this.flags.accounts)
    const report = await runBackup({config, refresh: this.flags.refresh, skipLocked: this.flags['skip-locked'], ...(accounts === undefined ? {} : {accounts}), ...(limit === undefined ? {} : {maxDurationMs: limit})}, this.ctx)
    this.setExitCode(report.exitCode)
    return report
  }

  protected override renderText(report: BackupReport): string {
    return renderBackupSummary(report, {quiet: this.flags.quiet})
  }
}
