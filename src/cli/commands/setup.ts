import {Flags} from '@oclif/core'
import {stat} from 'node:fs/promises'
import {loadConfig, saveConfig, type ConfigFile} from '../../config/index.js'
import {errnoCode, UsageError} from '../../shared/errors.js'
import {ExitCode} from '../../shared/exit-codes.js'
import {BaseCommand} from '../base-command.js'
import {extensionKeys} from '../setup/account-header.js'
import {importScreen} from '../setup/import.js'
import {inquirerPrompter} from '../setup/inquirer-adapter.js'
import {mainMenu, type MenuOutcome} from '../setup/main-menu.js'
import {PromptCancelled} from '../setup/prompter.js'
import {SetupState} from '../setup/setup-state.js'
import type {Wizard} from '../setup/wizard.js'

export interface SetupResult {
  config: string
  /**
   * `saved`: the file was written; `unchanged`: nothing was changed, nothing written;
   * `discarded`: changes were dropped on request; `interrupted`: Ctrl-C, nothing written.
   */
  outcome: 'saved' | 'unchanged' | 'discarded' | 'interrupted'
  accounts: number
  /** Extension keys in the saved file (`<username>: <key>`): imap-backup cannot load it. */
  extensions: string[]
}

/**
 * `mailkeep setup`: the interactive editor of the config file (compat §2.2, §3.7), or with
 * `--import` the import of an imap-backup config. docs/commands/setup.md documents the menus.
 * The file is written only when something changed, atomically, mode 0600 (saveConfig).
 */
export default class Setup extends BaseCommand<typeof Setup, SetupResult> {
  static override summary = 'create or change the config file with interactive menus'

  static override description = [
    'Menus to add, change and delete accounts and to set the global options. A missing config file is allowed: setup starts with no account and creates the file (mode 0600, its directory 0700) when you choose "save and exit". Nothing is written unless something changed.',
    'With --import, an imap-backup config file is shown and, once confirmed, saved as mailkeep\'s config; the imap-backup file is only read. More: `mailkeep help commands/setup`.',
  ].join('\n\n')

  static override examples = [
    '<%= config.bin %> setup',
    '<%= config.bin %> setup --config ~/mail/mailkeep.json',
    '<%= config.bin %> setup --import ~/.imap-backup/config.json',
  ]

  static override flags = {
    import: Flags.string({description: 'import the accounts of this imap-backup config file (e.g. ~/.imap-backup/config.json)'}),
  }

  protected override async exec(): Promise<SetupResult> {
    if (process.stdin.isTTY !== true || process.stdout.isTTY !== true) {
      throw new UsageError('setup is interactive and needs a terminal', {hint: 'run it in a terminal, or edit the config file as `mailkeep help config` describes'})
    }
    const state = await openState(this.configPath)
    const wizard: Wizard = {prompter: inquirerPrompter(), state, ctx: this.ctx}
    let outcome: MenuOutcome
    try {
      outcome = this.flags.import === undefined ? await mainMenu(wizard) : await importOnly(wizard, this.flags.import)
    } catch (error) {
      if (!(error instanceof PromptCancelled)) throw error
      this.setExitCode(ExitCode.SIGINT)
      return this.result(state, 'interrupted')
    }
    if (outcome === 'save' && state.isModified()) {
      await saveConfig(state.content, state.path)
      return this.result(state, 'saved')
    }
    return this.result(state, outcome === 'discard' && state.isModified() ? 'discarded' : 'unchanged')
  }

  protected override renderText(result: SetupResult): string {
    switch (result.outcome) {
      case 'saved': {
        const lines = [`Saved '${result.config}' (${result.accounts} account${result.accounts === 1 ? '' : 's'})`]
        if (result.extensions.length > 0) {
          lines.push(`Note: it uses mailkeep extension keys (${result.extensions.join('; ')}); imap-backup cannot load it`)
        }
        return lines.join('\n')
      }
      case 'discarded':
        return `Changes discarded; '${result.config}' was not written`
      case 'interrupted':
        return `Setup interrupted; '${result.config}' was not written`
      case 'unchanged':
        return ''
    }
  }

  private result(state: SetupState, outcome: SetupResult['outcome']): SetupResult {
    return {config: state.path, outcome, accounts: state.accounts.length, extensions: extensionsOf(state.content)}
  }
}

/** The config to edit; a file that does not exist yet is an empty config (compat §2.2). */
async function openState(path: string): Promise<SetupState> {
  try {
    await stat(path)
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return SetupState.empty(path)
  }
  return SetupState.fromConfig(await loadConfig(path))
}

/** `setup --import FILE`: show, confirm, save. */
async function importOnly(w: Wizard, source: string): Promise<MenuOutcome> {
  const imported = await importScreen(w, source, `Save these accounts to '${w.state.path}'?`)
  if (!imported) {
    // importScreen leaves a notice when there was nothing to import: show it before exiting.
    const notices = w.state.takeNotices()
    if (notices.length > 0) w.prompter.write(`${notices.join('\n')}\n`)
    return 'quit'
  }
  return 'save'
}

function extensionsOf(file: ConfigFile): string[] {
  return file.accounts.flatMap((account) => {
    const keys = extensionKeys(account)
    return keys.length === 0 ? [] : [`${account.username}: ${keys.join(', ')}`]
  })
}
