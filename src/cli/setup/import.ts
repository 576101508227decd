/**
 * Importing an imap-backup config (`setup --import FILE`, or the main menu's entry): the file is
 * loaded with mailkeep's own loader (imap-backup's schema is a subset of mailkeep's), shown, and
 * after confirmation added to the config being edited. The imap-backup file is only read.
 *
 * Rules (docs/commands/setup.md, "Importing an imap-backup config"):
 * - an account whose username is already configured is skipped, as is one whose backup
 *   directory another account already uses: the config being edited wins;
 * - relative paths (`local_path`, `ssl.ca_file`, `password_file`) are made absolute, taken
 *   relative to the imported file's directory as mailkeep reads them, so they keep pointing at
 *   the same place from the new config's directory;
 * - the imported `download_strategy` is taken only when the config being edited has no account.
 */
import {existsSync} from 'node:fs'
import {homedir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {loadConfig, type AccountFile, type DownloadStrategy} from '../../config/index.js'
import {isConfigRelative, resolveConfigPath} from '../../config/paths.js'
import {ConfigError, UsageError} from '../../shared/errors.js'
import {describePassword, describeServer, describeStatus, folderNames, formatRows, TITLE_PREFIX} from './account-header.js'
import {withoutFilePrefix, type SetupState} from './setup-state.js'
import {drawScreen, type Wizard} from './wizard.js'

export interface ImportPlan {
  readonly source: string
  readonly accounts: readonly AccountFile[]
  readonly skipped: ReadonlyArray<{readonly username: string; readonly reason: string}>
  /** Set when the import changes the config's download strategy. */
  readonly downloadStrategy: DownloadStrategy | undefined
  readonly warnings: readonly string[]
}

/** The default place of imap-backup's config (compat §3.1). */
export const IMAP_BACKUP_CONFIG = '~/.imap-backup/config.json'

export async function planImport(state: SetupState, sourcePath: string): Promise<ImportPlan> {
  const source = sourcePath === '~' || sourcePath.startsWith('~/') ? join(homedir(), sourcePath.slice(1)) : resolve(sourcePath)
  if (source === state.path) {
    throw new UsageError(`'${source}' is the config being edited; name the imap-backup config to import from`)
  }
  if (!existsSync(source)) {
    // loadConfig's own message would suggest creating the file with setup: not the point here.
    throw new ConfigError(`The imap-backup config '${source}' was not found`, {hint: `give the path of imap-backup's config.json (by default ${IMAP_BACKUP_CONFIG})`})
  }
  const imported = await loadConfig(source)
  const current = state.toConfig()
  const usernames = new Set(current.accounts.map((a) => a.username))
  const paths = new Map(current.accounts.flatMap((a) => (a.localPath === undefined ? [] : [[a.localPath, a.username] as const])))

  // As mailkeep reads the imported file: relative to its directory (docs/config.md, "Paths").
  const absolute = (path: string): string => (isConfigRelative(path) ? resolveConfigPath(path, dirname(source)) : path)
  const accounts: AccountFile[] = []
  const skipped: Array<{username: string; reason: string}> = []
  imported.accounts.forEach((account, i) => {
    const file = structuredClone(imported.raw.accounts[i]!)
    if (usernames.has(account.username)) {
      skipped.push({username: account.username, reason: 'already configured'})
      return
    }
    const owner = account.localPath === undefined ? undefined : paths.get(account.localPath)
    if (owner !== undefined) {
      skipped.push({username: account.username, reason: `its backup path '${account.localPath}' is used by ${owner}`})
      return
    }
    if (file.local_path !== undefined) file.local_path = absolute(file.local_path)
    if (file.password_file !== undefined) file.password_file = absolute(file.password_file)
    const options = file.connection_options
    if (typeof options === 'object' && typeof options.ssl === 'object' && typeof options.ssl.ca_file === 'string') options.ssl.ca_file = absolute(options.ssl.ca_file)
    accounts.push(file)
  })
  const strategy = imported.downloadStrategy
  const downloadStrategy = state.accounts.length === 0 && strategy !== state.downloadStrategy ? strategy : undefined
  return {source, accounts, skipped, downloadStrategy, warnings: imported.warnings.map((w) => withoutFilePrefix(w, source))}
}

/** Adds the plan's accounts to the state. Returns the problems (none expected: the plan was checked). */
export function applyImport(state: SetupState, plan: ImportPlan): string[] {
  const problems: string[] = []
  for (const account of plan.accounts) {
    const result = state.addAccount(structuredClone(account))
    if (result.error !== undefined) problems.push(`${account.username} not imported: ${result.error}`)
  }
  if (plan.downloadStrategy !== undefined) state.setDownloadStrategy(plan.downloadStrategy)
  return problems
}

export function importSummary(state: SetupState, plan: ImportPlan): string {
  const lines = [`${TITLE_PREFIX} Import from imap-backup`, '', formatRows([['from', plan.source], ['into', state.path]]), '']
  if (plan.accounts.length === 0) lines.push('Nothing to import.')
  else {
    lines.push(`Accounts to import (${plan.accounts.length}):`)
    for (const account of plan.accounts) lines.push('', indent(formatRows(accountRows(account))))
  }
  if (plan.skipped.length > 0) {
    lines.push('', 'Skipped:')
    for (const {username, reason} of plan.skipped) lines.push(`  ${username}: ${reason}`)
  }
  if (plan.downloadStrategy !== undefined) lines.push('', `download strategy: ${plan.downloadStrategy} (was ${state.downloadStrategy})`)
  for (const warning of plan.warnings) lines.push(`warning: ${warning}`)
  return `${lines.join('\n')}\n`
}

function accountRows(account: AccountFile): Array<[string, string]> {
  const folders = folderNames(account)
  const selection = folders.length === 0 ? '(all folders)' : folders.join(', ')
  return [
    ['email', account.username],
    ['password', describePassword(account)],
    ['server', describeServer(account)],
    ['path', account.local_path ?? '(unset)'],
    [account.folder_blacklist === true ? 'exclude' : 'include', selection],
    ['mode', account.mirror_mode === true ? 'mirror emails' : 'keep all emails'],
    ['status', describeStatus(account.status ?? 'active')],
  ]
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n')
}

/**
 * Shows what `sourcePath` would add and asks `question`. Returns true when the accounts were
 * added to the state; a file that cannot be loaded throws (the caller decides how to show it).
 */
export async function importScreen(w: Wizard, sourcePath: string, question: string): Promise<boolean> {
  const plan = await planImport(w.state, sourcePath)
  if (plan.accounts.length === 0 && plan.downloadStrategy === undefined) {
    w.state.notice(`Nothing to import from '${plan.source}'`)
    for (const {username, reason} of plan.skipped) w.state.notice(`  ${username}: ${reason}`)
    return false
  }
  drawScreen(w, importSummary(w.state, plan))
  if (!(await w.prompter.confirm(question, true))) return false
  for (const problem of applyImport(w.state, plan)) w.state.notice(problem)
  return true
}
