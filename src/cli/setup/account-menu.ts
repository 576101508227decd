/**
 * The account menu (imap-backup's, with the connection as prompts): the header with every
 * setting, then one entry per change. Every change is validated by the loader's rules before it
 * is made (wizard.ts).
 */
import {join} from 'node:path'
import {DEFAULT_MULTI_FETCH_SIZE, providerFor, type AccountFile, type AccountStatus, type Config} from '../../config/index.js'
import {resolveConfigPath} from '../../config/paths.js'
import {checkAccountConnection, type ConnectionCheck} from '../../engine/access/setup-server.js'
import {accountHeader, describeServer} from './account-header.js'
import {chooseFolders} from './folder-chooser.js'
import {changePasswordSource, modifyPassword} from './password-source.js'
import type {Choice} from './prompter.js'
import {connectionMenu} from './connection-menu.js'
import {apply, drawScreen, errorLine, validateLogin, type Wizard} from './wizard.js'

type Action =
  | 'email'
  | 'password'
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
    {name: 'modify login', value: 'email'},
    {name: 'modify password', value: 'password'},
    {name: 'modify server and connection (port, TLS, certificate)', value: 'connection'},
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
      case 'connection':
        await connectionMenu(w, account)
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
  const login = await w.prompter.input('login', {default: account.username, validate: validateLogin})
  if (login === account.username) return
  if (w.state.accounts.some((a) => a !== account && a.username === login)) {
    w.state.notice('There is already an account set up with that login')
    return
  }
  apply(w, account, (d) => {
    d.username = login
    const host = providerFor(login).host
    if ((d.server === undefined || d.server === '') && host !== undefined) d.server = host
  })
}

/**
 * Logs in as the account being edited (not saved yet) and says what answered: the server, the
 * security and certificate, the greeting and the server's own name, the login and its folders.
 */
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
  if (!result.ok) {
    w.state.notice(`Connection failed: ${result.message}`)
    if (result.hint !== undefined) w.state.notice(`  hint: ${result.hint}`)
    return
  }
  for (const line of connectionReport(result)) w.state.notice(line)
}

/** The lines of a successful connection test. */
export function connectionReport(result: Extract<ConnectionCheck, {ok: true}>): string[] {
  const peer = result.peer
  let how: string
  if (result.security === 'plain') how = 'plain IMAP (not encrypted)'
  else {
    const version = peer?.tlsProtocol === undefined ? '' : ` ${peer.tlsProtocol}`
    const cert = peer?.certificate
    const issued = cert === undefined || cert.subject === '' ? '' : ` (issued to ${cert.subject}${cert.issuer === '' ? '' : ` by ${cert.issuer}`})`
    const verified = peer?.certificateVerified === true ? `certificate verified${issued}` : `certificate NOT verified${issued}`
    how = `${result.security === 'starttls' ? 'STARTTLS' : 'TLS'}${version}, ${verified}`
  }
  const lines = [`Connection successful: ${result.host}:${result.port} answered, over ${how}`]
  if (peer !== undefined && peer.greeting !== '') lines.push(`  the server said: "${peer.greeting}"`)
  const id = peer?.serverId
  if (id !== undefined) {
    const name = [id['name'], id['version']].filter((v) => v !== undefined).join(' ')
    const vendor = id['vendor'] === undefined ? '' : ` (${id['vendor']})`
    if (name !== '' || vendor !== '') lines.push(`  it calls itself: ${name}${vendor}`)
  }
  lines.push(`  logged in as ${result.user}${result.folders === undefined ? '' : `; ${result.folders} folder${result.folders === 1 ? '' : 's'}`}`)
  return lines
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
