/**
 * "choose folders": the account's folders as the server lists them NOW (a checkbox list, the
 * configured ones ticked). Configured folders that the server no longer has are dropped, with a
 * notice (compat §3.7, item 9). The selection is saved in the server's order; when the ticked
 * set is what was configured, the configured order is kept, so looking without changing
 * anything does not modify the account.
 *
 * Every folder ticked (to include) saves no `folders` key: "all folders" means all, also those
 * created on the server later (a fixed list would leave those out, issue 11 item 5).
 */
import type {AccountFile} from '../../config/index.js'
import {listSelectableFolders} from '../../engine/access/setup-server.js'
import {InterruptedError} from '../../shared/errors.js'
import {printable} from '../render/text.js'
import {folderNames} from './account-header.js'
import {apply, errorLine, type Wizard} from './wizard.js'

export async function chooseFolders(w: Wizard, account: AccountFile): Promise<void> {
  w.prompter.write('Listing the folders on the server…\n')
  let serverFolders: string[]
  try {
    serverFolders = await listSelectableFolders(w.state.toConfig(), account.username, w.ctx)
  } catch (error) {
    if (error instanceof InterruptedError) throw error
    w.state.notice(`Could not list the folders: ${errorLine(error)}`)
    return
  }
  if (serverFolders.length === 0) {
    // Every server has INBOX: an empty list is a server problem, not a reason to drop the selection.
    w.state.notice('The server listed no folders; the selection was not changed')
    return
  }

  const configured = folderNames(account)
  const onServer = new Set(serverFolders)
  const kept = configured.filter((name) => onServer.has(name))
  const missing = configured.filter((name) => !onServer.has(name))
  if (missing.length > 0) {
    w.prompter.write(`${missingNotice(missing)}\n`)
  }

  const exclude = account.folder_blacklist === true
  const message = exclude ? 'Folders NOT to back up (none ticked: all are backed up)' : 'Folders to back up (none ticked: all are backed up)'
  const ticked = new Set(
    await w.prompter.checkbox(
      message,
      serverFolders.map((name) => ({name: printable(name), value: name, checked: kept.includes(name)})),
    ),
  )
  const sameAsKept = ticked.size === kept.length && kept.every((name) => ticked.has(name))
  const selection = sameAsKept ? kept : serverFolders.filter((name) => ticked.has(name))
  const everyFolder = !exclude && serverFolders.every((name) => ticked.has(name))

  apply(w, account, (draft) => {
    if (everyFolder) {
      delete draft.folders
      return
    }
    // No key and nothing ticked: leave the key out (it means the same as []).
    if (draft.folders === undefined && selection.length === 0) return
    draft.folders = selection
  })
  if (everyFolder) w.state.notice('Every folder is backed up, also folders created on the server later')
  if (missing.length > 0) w.state.notice(missingNotice(missing))
}

function missingNotice(missing: readonly string[]): string {
  const names = missing.map((name) => `'${printable(name)}'`).join(', ')
  return `Removed from the selection (no longer on the server): ${names}`
}
