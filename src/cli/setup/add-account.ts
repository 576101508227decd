/**
 * "add account": the login (an email address, or whatever user name the server wants), the
 * provider (a preset chosen from the address's domain, or from the list: src/config/presets.ts;
 * or a server of one's own with its security and port), then the password, then the account
 * menu, where "test connection" says what answered. docs/commands/setup.md, "Adding an account".
 *
 * The new account gets imap-backup's defaults: status active, the backup directory
 * `<config dir>/<login with @ replaced by _>` (for a login without `@`, `_<server>` is added, so
 * that two servers' "john" do not share a directory), and for iCloud and Purelymail the reset of
 * unread flags that their servers need.
 */
import {join} from 'node:path'
import {
  DEFAULT_MULTI_FETCH_SIZE,
  PROVIDER_PRESETS,
  presetForAddress,
  providerFor,
  usualPort,
  type AccountFile,
  type ProviderPreset,
  type Security,
} from '../../config/index.js'
import {accountMenu} from './account-menu.js'
import {writeForm} from './connection-form.js'
import {askPasswordTwice} from './password-source.js'
import type {Choice} from './prompter.js'
import {validateLogin, type Wizard} from './wizard.js'

/** Providers whose servers set `\Seen` on a read-only fetch (imap-backup resets it for them). */
const RESET_SEEN_PROVIDERS = new Set(['apple', 'purelymail'])

export async function addAccount(w: Wizard): Promise<void> {
  const username = await w.prompter.input('login (your email address, or the user name your server wants)', {validate: validateLogin})
  if (w.state.accounts.some((a) => a.username === username)) {
    w.state.notice('There is already an account set up with that login')
    return
  }
  const server = await chooseServer(w, username)
  const account: AccountFile = {
    username,
    password: '',
    status: 'active',
    local_path: join(w.state.configDir, backupDirName(username, server.host)),
    server: server.host,
    multi_fetch_size: DEFAULT_MULTI_FETCH_SIZE,
    ...(RESET_SEEN_PROVIDERS.has(providerFor(username).kind) ? {reset_seen_flags_after_fetch: true} : {}),
  }
  const options = writeForm(account, {port: server.port, security: server.security, verify: true, caFile: undefined})
  if (options !== undefined) account.connection_options = options
  const result = w.state.addAccount(account)
  if (result.error !== undefined) {
    w.state.notice(`Not added: ${result.error}`)
    return
  }
  for (const warning of result.warnings) w.state.notice(`warning: ${warning}`)
  if (server.preset?.advice !== undefined) w.state.notice(`${server.preset.label}: ${server.preset.advice}`)
  if (server.preset?.login !== 'oauth2') {
    const password = await askPasswordTwice(w, 'password (empty to set it later)')
    const set = password === undefined ? undefined : w.state.update(account, (d) => {
      d.password = password
    })
    if (set !== undefined && set.error === undefined) w.state.notice('Password set; choose "test connection" to try it')
  }
  await accountMenu(w, account)
}

interface ChosenServer {
  host: string
  port: number
  security: Security
  preset: ProviderPreset | undefined
}

/** The preset of the address's domain (confirmed), one chosen from the list, or one's own server. */
async function chooseServer(w: Wizard, login: string): Promise<ChosenServer> {
  const matched = presetForAddress(login)
  if (matched?.host !== undefined) {
    const ok = await w.prompter.confirm(`Use the settings for ${matched.label} (${matched.host}, port ${matched.port}, TLS)?`, true)
    if (ok) return {host: matched.host, port: matched.port, security: matched.security, preset: matched}
  }
  const choices: Array<Choice<ProviderPreset>> = PROVIDER_PRESETS.map((p) => ({
    name: p.host === undefined ? p.label : `${p.label} (${p.host})`,
    value: p,
    ...(p.advice === undefined ? {} : {description: p.advice}),
  }))
  const preset = await w.prompter.select('Which provider is the account with?', choices, {default: PROVIDER_PRESETS.at(-1)})
  if (preset.host !== undefined) return {host: preset.host, port: preset.port, security: preset.security, preset}
  const host = await w.prompter.input('server (IMAP host name, e.g. imap.example.com)', {validate: (v) => (v !== '' && !/\s/.test(v)) || 'enter a host name, without spaces'})
  const security = await w.prompter.select<Security>(
    'Security',
    [
      {name: 'TLS from the first byte (usually port 993)', value: 'tls'},
      {name: 'STARTTLS: plain, then upgraded to TLS (usually port 143)', value: 'starttls', description: 'A mailkeep extension: imap-backup cannot use an account set up this way.'},
      {name: 'plain IMAP, not encrypted (usually port 143)', value: 'plain', description: 'Only on a network you trust, e.g. a server on this machine.'},
    ],
    {default: 'tls'},
  )
  const port = await w.prompter.input('port', {
    default: String(usualPort(security)),
    validate: (v) => (/^\d{1,5}$/.test(v) && Number(v) >= 1 && Number(v) <= 65535) || 'enter a port number from 1 to 65535',
  })
  return {host, port: Number(port), security, preset: undefined}
}

/**
 * imap-backup's directory name (`me_example.com`), made safe for any login: characters that
 * would make a path of it (`/`, `\`, NUL, control characters) become `_`.
 */
export function backupDirName(login: string, host: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what must not reach a path
  const safe = (s: string): string => s.replace(/[/\\\u0000-\u001f\u007f]/g, '_')
  if (login.includes('@')) return safe(login.replaceAll('@', '_'))
  return safe(`${login}_${host}`)
}
