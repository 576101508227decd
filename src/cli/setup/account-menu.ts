/**
 * The account menu (compat §3.7, "Account menu"): the header with every setting, then one entry
 * per change. Every change is validated by the loader's rules before it is made (wizard.ts).
 */
import {join} from 'node:path'
import {DEFAULT_MULTI_FETCH_SIZE, providerFor, type AccountFile, type AccountStatus, type Config} from '../../config/index.js'
import {resolveConfigPath} from '../../config/paths.js'
import {checkAccountConnection} from '../../engine/setup-server.js'
import {accountHeader, describeServer} from './account-header.js'
import {chooseFolders} from './folder-chooser.js'
import {changePasswordSource, modifyPassword} from './password-source.js'
import type {Choice} from './prompter.js'
import {apply, drawScreen, errorLine, validateEmail, type Wizard} from './wizard.js'

type Action =
  | 'email'
  | 'password'
  | 'server'
  | 'connection'
  | 'test'
  | 'mode'
  | 'path'
  | 'inclusion'
  | 'folders'
  | 'multiFetch'
  | 'resetSeen'
  | 'status'
  | 'passwordSource'
  | 'delete'
  | 'back'

const STATUS_CYCLE: Readonly<Record<AccountStatus, AccountStatus>> = {active: 'archived', archived: 'offline', offline: 'active'}

function choices(account: AccountFile): Array<Choice<Action>> {
  return [
    {name: 'modify email', value: 'email'},
    {name: 'modify password', value: 'password'},
    {name: 'modify server', value: 'server'},
    {name: 'modify connection options', value: 'connection'},
    {name: 'test connection', value: 'test'},
    {name: 'toggle mode (keep all emails / mirror emails)', value: 'mode'},
    {name: 'modify backup path', value: 'path'},
    {name: 'toggle folder inclusion mode (include / exclude)', value: 'inclusion'},
    {name: account.folder_blacklist === true ? 'choose folders to exclude' : 'choose folders to include', value: 'folders'},
    {name: 'modify multi-fetch size', value: 'multiFetch'},
    {name: 'toggle resetting unread flags after download', value: 'resetSeen'},
    {name: 'change status (active / archived / offline)', value: 'status'},
    {name: 'change password source', value: 'passwordSource'},
    {name: 'delete account', value: 'delete'},
    {name: 'back to main menu', value: 'back'},
  ]
}

export async function accountMenu(w: Wizard, account: AccountFile): Promise<void> {
  let last: Action | undefined
  for (;;) {
    drawScreen(w, accountHeader(account, w.state.isAccountModified(account)))
    const action = await w.prompter.select('Choose an action', choices(account), {numbered: true, ...(last === undefined ? {} : {default: last})})
    last = action
    switch (action) {
      case 'back':
        return
      case 'delete':
        if (await deleteAccount(w, account)) return
        break
      case 'email':
        await modifyEmail(w, account)
        break
      case 'password':
        await modifyPassword(w, account)
        break
      case 'server':
        await modifyServer(w, account)
        break
      case 'connection':
        await modifyConnectionOptions(w, account)
        break
      case 'test':
        await testConnection(w, account)
        break
      case 'mode':
        toggleMode(w, account)
        break
      case 'path':
        await modifyBackupPath(w, account)
        break
      case 'inclusion':
        toggleInclusion(w, account)
        break
      case 'folders':
        await chooseFolders(w, account)
        break
      case 'multiFetch':
        await modifyMultiFetch(w, account)
        break
      case 'resetSeen':
        apply(w, account, (d) => {
          if (d.reset_seen_flags_after_fetch === true) delete d.reset_seen_flags_after_fetch
          else d.reset_seen_flags_after_fetch = true
        })
        break
      case 'status':
        apply(w, account, (d) => {
          d.status = STATUS_CYCLE[d.status ?? 'active']
        })
        break
      case 'passwordSource':
        await changePasswordSource(w, account)
        break
    }
  }
}

async function modifyEmail(w: Wizard, account: AccountFile): Promise<void> {
  const email = await w.prompter.input('email', {default: account.username, validate: validateEmail})
  if (email === account.username) return
  if (w.state.accounts.some((a) => a !== account && a.username === email)) {
    w.state.notice('There is already an account set up with that email address')
    return
  }
  apply(w, account, (d) => {
    d.username = email
    const host = providerFor(email).host
    if ((d.server === undefined || d.server === '') && host !== undefined) d.server = host
  })
}

async function modifyServer(w: Wizard, account: AccountFile): Promise<void> {
  const current = account.server ?? providerFor(account.username).host
  const server = await w.prompter.input('server (IMAP host name)', {
    ...(current === undefined ? {} : {default: current}),
    validate: (v) => !/\s/.test(v) || 'a host name has no spaces',
  })
  apply(w, account, (d) => {
    if (server === '') delete d.server
    else d.server = server
  })
}

/** JSON; an empty answer removes them; malformed JSON changes nothing and says why. */
async function modifyConnectionOptions(w: Wizard, account: AccountFile): Promise<void> {
  const options = account.connection_options
  const current = options === undefined ? '(none)' : typeof options === 'string' ? options : JSON.stringify(options)
  w.prompter.write(`current connection options: ${current}\n`)
  const text = await w.prompter.input('connection options as JSON (empty to remove them)')
  if (text === '') {
    if (options !== undefined && apply(w, account, (d) => delete d.connection_options)) w.state.notice('Connection options removed')
    return
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    w.state.notice(`Malformed JSON, not changed: ${errorLine(error)}`)
    return
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    w.state.notice('Not changed: connection options must be a JSON object, e.g. {"port": 993, "ssl": {"verify_mode": 0}}')
    return
  }
  apply(w, account, (d) => {
    d.connection_options = parsed as AccountFile['connection_options']
  })
}

async function testConnection(w: Wizard, account: AccountFile): Promise<void> {
  w.prompter.write(`Connecting to ${describeServer(account)}…\n`)
  let config: Config
  try {
    config = w.state.toConfig()
  } catch (error) {
    // Not expected (every change was validated), but a message beats losing the session.
    w.state.notice(`Connection failed: ${errorLine(error)}`)
    return
  }
  const result = await checkAccountConnection(config, account.username, w.ctx)
  w.state.notice(result.ok ? 'Connection successful' : `Connection failed: ${result.message}`)
}

function toggleMode(w: Wizard, account: AccountFile): void {
  const mirror = account.mirror_mode !== true
  const done = apply(w, account, (d) => {
    if (mirror) d.mirror_mode = true
    else delete d.mirror_mode
  })
  if (done && mirror) {
    w.state.notice('Mirror mode: messages and folders that are gone from the server (or no longer selected) will be deleted from the backup too')
  }
}

/** Refused when another account already backs up into the same directory. */
async function modifyBackupPath(w: Wizard, account: AccountFile): Promise<void> {
  const proposed = account.local_path ?? join(w.state.configDir, account.username.replaceAll('@', '_'))
  const path = await w.prompter.input('backup path', {default: proposed, validate: (v) => v !== '' || 'enter a directory'})
  if (path === account.local_path) return
  const wanted = resolveConfigPath(path, w.state.configDir)
  const other = w.state.accounts.find((a) => a !== account && a.local_path !== undefined && resolveConfigPath(a.local_path, w.state.configDir) === wanted)
  if (other !== undefined) {
    w.state.notice(`The path '${path}' is used by another account (${other.username}); choose another one`)
    return
  }
  apply(w, account, (d) => {
    d.local_path = path
  })
}

function toggleInclusion(w: Wizard, account: AccountFile): void {
  const exclude = account.folder_blacklist !== true
  apply(w, account, (d) => {
    if (exclude) d.folder_blacklist = true
    else delete d.folder_blacklist
  })
}

async function modifyMultiFetch(w: Wizard, account: AccountFile): Promise<void> {
  const value = await w.prompter.input('messages per fetch request', {
    default: String(account.multi_fetch_size ?? DEFAULT_MULTI_FETCH_SIZE),
    validate: (v) => (/^[0-9]+$/.test(v) && Number(v) >= 1 && Number.isSafeInteger(Number(v))) || 'enter a whole number of 1 or more',
  })
  apply(w, account, (d) => {
    d.multi_fetch_size = Number(value)
  })
}

async function deleteAccount(w: Wizard, account: AccountFile): Promise<boolean> {
  const sure = await w.prompter.confirm(`Delete the account ${account.username}? (Its backup files are kept.)`, false)
  if (!sure) return false
  w.state.removeAccount(account)
  w.state.notice(`Account ${account.username} deleted`)
  return true
}
