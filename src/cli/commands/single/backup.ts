import {Flags} from '@oclif/core'
import {resolve} from 'node:path'
import {parseConfig, type ConfigFile, type DownloadStrategy} from '../../../config/index.js'
import {runBackup} from '../../../engine/backup/backup.js'
import {maxDurationFlag, maxDurationMs} from '../../duration-flag.js'
import type {BackupReport} from '../../../engine/backup/types.js'
import {ConfigError, UsageError} from '../../../shared/errors.js'
import {registerSecret} from '../../../shared/secrets.js'
import {BaseCommand} from '../../base-command.js'
import {renderBackupSummary} from '../../render/backup-summary.js'

/** Where parseConfig() messages say the settings come from. */
const COMMAND_LINE = '<command line>'

/** `-S` values (imap-backup's `delay` is stored as `delay_metadata`, compat §2.2). */
const STRATEGIES: Record<string, DownloadStrategy> = {delay: 'delay_metadata', delay_metadata: 'delay_metadata', direct: 'direct', delay_all: 'delay_all'}

const PASSWORD_FLAGS = ['password', 'password-environment-variable', 'password-file'] as const

/**
 * `mailkeep single backup`: backs up one account given on the command line, without a config
 * file (compat §2.2). The flags are turned into a one-account config and validated by the same
 * parseConfig() as a config file, then the same runBackup() runs.
 */
export default class SingleBackup extends BaseCommand<typeof SingleBackup, BackupReport> {
  static override summary = 'back up one account given on the command line, without a config file'

  static override description = [
  'Backs up one account like `mailkeep backup`, with its settings given as flags instead of a config file (imap-backup compatible).',
  'Exactly one of --password, --password-environment-variable and --password-file is required. Prefer the last two: a password on the command line is visible to other users in the process list. The password file must be readable by its owner only (chmod 600), like a config file.',
].join('\n\n')

  static override examples = [
    `<%= config.bin %> single backup -e me@example.com -s imap.example.com -W ~/.mail-password`,
    `<%= config.bin %> single backup -e me@example.com -s localhost -w MAIL_PASSWORD -o '{"port":143,"ssl":false}' -F INBOX -F Sent`,
  ]

  static override flags = {
    email: Flags.string({char: 'e', description: 'the account (IMAP user name)', required: true}),
    server: Flags.string({char: 's', description: 'IMAP server host name (default: the provider of the email domain)'}),
    password: Flags.string({char: 'p', description: 'the password (visible in the process list: prefer -w or -W)'}),
    'password-environment-variable': Flags.string({char: 'w', description: 'name of an environment variable holding the password'}),
    'password-file': Flags.string({char: 'W', description: 'a file (mode 0600) holding the password; trailing newlines are removed'}),
    path: Flags.string({char: 'P', description: 'backup directory [default: ./<email with @ replaced by _>]'}),
    folder: Flags.string({char: 'F', description: 'a folder to back up (repeatable; default: all)', multiple: true}),
    'folder-blacklist': Flags.boolean({char: 'b', description: 'back up every folder except the --folder ones'}),
    mirror: Flags.boolean({char: 'm', description: 'mirror mode: also delete locally what is gone from the server, and folders not selected'}),
    'multi-fetch-size': Flags.integer({char: 'n', description: 'messages fetched per request [default: 100]', min: 1}),
    'connection-options': Flags.string({char: 'o', description: `connection options as JSON, e.g. '{"port":993,"ssl":{"verify_mode":0}}'`}),
    'download-strategy': Flags.option({char: 'S', options: ['delay', 'direct', 'delay_all', 'delay_metadata'] as const, description: 'how writes are buffered (delay = delay_metadata) [default: delay]'})(),
    refresh: Flags.boolean({char: 'r', description: 'in keep-all mode, bring the flags of stored messages up to date also without CONDSTORE or with freeze_flags (with CONDSTORE they follow anyway)'}),
    'max-duration': maxDurationFlag,
    'reset-seen-flags-after-fetch': Flags.boolean({char: 'R', description: 'remove \\Seen again from messages that fetching marked as read (iCloud, Purelymail)'}),
  }

  static override handlesSignals = true
  static override showsProgress = true

  override async init(): Promise<void> {
    // Before anything can print (even a usage error): the password must never be shown.
    for (const password of passwordsInArgv(this.argv)) registerSecret(password)
    await super.init()
  }

  protected override async exec(): Promise<BackupReport> {
    const config = parseCommandLine(() => parseConfig(this.rawConfig(), COMMAND_LINE))
    for (const warning of config.warnings) this.logger.warn(rewriteConfigMessage(warning))
    const limit = maxDurationMs(this.flags['max-duration'])
    const report = await runBackup({config, accounts: [this.flags.email], refresh: this.flags.refresh, ...(limit === undefined ? {} : {maxDurationMs: limit})}, this.ctx)
    this.setExitCode(report.exitCode)
    return report
  }

  protected override renderText(report: BackupReport): string {
    return renderBackupSummary(report, {quiet: this.flags.quiet})
  }

  /** The one-account config file the flags describe (docs/config.md keys). */
  private rawConfig(): ConfigFile {
    const f = this.flags
    const given = PASSWORD_FLAGS.filter((name) => f[name] !== undefined)
    if (given.length > 1) throw new UsageError('Supply only one of the --password... parameters', {hint: `given: --${given.join(', --')}`})
    if (given.length === 0) throw new UsageError('Supply one of the --password... parameters', {hint: 'e.g. --password-file FILE (mode 0600) or --password-environment-variable NAME'})

    const account: Record<string, unknown> = {username: f.email}
    if (f.password !== undefined) {
      registerSecret(f.password)
      account['password'] = f.password
    }
    const variable = f['password-environment-variable']
    if (variable !== undefined) {
      const value = process.env[variable]
      if (value === undefined || value === '') {
        throw new UsageError(`The environment variable ${variable} (--password-environment-variable) is ${value === undefined ? 'not set' : 'empty'}`, {
          hint: `export ${variable} before running mailkeep`,
        })
      }
      account['password_env'] = variable
    }
    if (f['password-file'] !== undefined) account['password_file'] = resolve(f['password-file'])
    account['local_path'] = resolve(f.path ?? f.email.replaceAll('@', '_'))
    if (f.folder !== undefined && f.folder.length > 0) account['folders'] = f.folder
    if (f['folder-blacklist']) account['folder_blacklist'] = true
    if (f.mirror) account['mirror_mode'] = true
    if (f.server !== undefined) account['server'] = f.server
    if (f['connection-options'] !== undefined) account['connection_options'] = f['connection-options']
    if (f['multi-fetch-size'] !== undefined) account['multi_fetch_size'] = f['multi-fetch-size']
    if (f['reset-seen-flags-after-fetch']) account['reset_seen_flags_after_fetch'] = true

    const strategy = f['download-strategy']
    return {
      version: '2.2',
      accounts: [account as unknown as ConfigFile['accounts'][number]],
      ...(strategy === undefined ? {} : {download_strategy: STRATEGIES[strategy]}),
    }
  }
}

/** Every value of -p/--password in argv (`-p X`, `-pX`, `--password X`, `--password=X`). */
export function passwordsInArgv(argv: readonly string[]): string[] {
  const found: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') break
    if (arg === '-p' || arg === '--password') {
      const value = argv[i + 1]
      if (value !== undefined) found.push(value)
      i++
    } else if (arg.startsWith('--password=')) found.push(arg.slice('--password='.length))
    else if (arg.startsWith('-p') && arg.length > 2) found.push(arg.slice(2).replace(/^=/, ''))
  }
  return found
}

/** parseConfig() names the config file and its keys; here they are flags. */
function parseCommandLine<T>(parse: () => T): T {
  try {
    return parse()
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    const message = rewriteConfigMessage(error.message)
    throw new ConfigError(message, {cause: error, ...(error.hint === undefined ? {} : {hint: rewriteConfigMessage(error.hint)})})
  }
}

const KEY_FLAGS: Record<string, string> = {
  username: '--email',
  password: '--password',
  password_env: '--password-environment-variable',
  password_file: '--password-file',
  local_path: '--path',
  folders: '--folder',
  folder_blacklist: '--folder-blacklist',
  mirror_mode: '--mirror',
  server: '--server',
  connection_options: '--connection-options',
  multi_fetch_size: '--multi-fetch-size',
  reset_seen_flags_after_fetch: '--reset-seen-flags-after-fetch',
  download_strategy: '--download-strategy',
}

/**
 * `Config file '/cwd/<command line>': accounts[0].connection_options.port (me@x): must be …`
 * becomes `--connection-options "port": must be …`.
 */
export function rewriteConfigMessage(text: string): string {
  const file = resolve(COMMAND_LINE)
  return text
    .replaceAll(`Config file '${file}': `, '')
    .replaceAll(`'${file}'`, 'the command line')
    .replace(/\baccounts\[0\]\.([a-z_]+)((?:\.[a-z_]+)*)(?: \([^)]*\))?/g, (whole, key: string, sub: string) => {
      const flag = KEY_FLAGS[key]
      if (flag === undefined) return whole
      return sub === '' ? flag : `${flag} "${sub.slice(1)}"`
    })
    .replace(/\baccounts\[0\](?: \([^)]*\))?/g, 'the command line')
}
