/**
 * The main menu (imap-backup's): one entry per account (` *` when modified), add an account,
 * global options, import an imap-backup config, and the way out: `save and exit` / `exit without
 * saving changes` when something changed, else `quit`.
 */
import type {AccountFile} from '../../config/index.js'
import {MailkeepError} from '../../shared/errors.js'
import {accountMenu} from './account-menu.js'
import {addAccount} from './add-account.js'
import {formatRows, TITLE_PREFIX} from './account-header.js'
import {globalOptionsMenu} from './global-options.js'
import {IMAP_BACKUP_CONFIG, importScreen} from './import.js'
import type {Choice} from './prompter.js'
import {drawScreen, type Wizard} from './wizard.js'

export type MenuOutcome = 'save' | 'discard' | 'quit'

type MainAction =
  | {kind: 'account'; account: AccountFile}
  | {kind: 'add'}
  | {kind: 'global'}
  | {kind: 'import'}
  | {kind: 'save'}
  | {kind: 'discard'}
  | {kind: 'quit'}

export async function mainMenu(w: Wizard): Promise<MenuOutcome> {
  for (;;) {
    drawScreen(w, mainHeader(w))
    const modified = w.state.isModified()
    const choices: Array<Choice<MainAction>> = [
      ...w.state.accounts.map((account) => ({
        name: `${account.username}${w.state.isAccountModified(account) ? ' *' : ''}`,
        value: {kind: 'account', account} as const,
      })),
      {name: 'add account', value: {kind: 'add'}},
      {name: 'modify global options', value: {kind: 'global'}},
      {name: 'import an imap-backup config', value: {kind: 'import'}},
      ...(modified
        ? [
            {name: 'save and exit', value: {kind: 'save'} as const},
            {name: 'exit without saving changes', value: {kind: 'discard'} as const},
          ]
        : [{name: 'quit', value: {kind: 'quit'} as const}]),
    ]
    const action = await w.prompter.select('Choose an action', choices, {numbered: true})
    switch (action.kind) {
      case 'save':
      case 'discard':
      case 'quit':
        return action.kind
      case 'account':
        await accountMenu(w, action.account)
        break
      case 'add':
        await addAccount(w)
        break
      case 'global':
        await globalOptionsMenu(w)
        break
      case 'import':
        await importFromMenu(w)
        break
    }
  }
}

function mainHeader(w: Wizard): string {
  const file = w.state.existed ? w.state.path : `${w.state.path} (not created yet)`
  return `${TITLE_PREFIX} Main Menu\n\n${formatRows([['config', file]])}\n`
}

async function importFromMenu(w: Wizard): Promise<void> {
  const path = await w.prompter.input('imap-backup config file', {default: IMAP_BACKUP_CONFIG})
  try {
    if (await importScreen(w, path, 'Import these accounts? (They are saved with "save and exit".)')) {
      w.state.notice(`Imported from '${path}'; choose "save and exit" to write them`)
    }
  } catch (error) {
    if (!(error instanceof MailkeepError)) throw error
    w.state.notice(`Could not import: ${error.message}${error.hint === undefined ? '' : ` (${error.hint})`}`)
  }
}
