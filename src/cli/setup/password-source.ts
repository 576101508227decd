/**
 * The account's secret: "modify password" (a password stored in the config, asked twice, never
 * echoed) and "change password source" (mailkeep's extension keys: a command, an environment
 * variable, a file, an OAuth2 token command). docs/config.md ("Passwords") describes each.
 */
import {stat} from 'node:fs/promises'
import type {AccountFile, AuthMechanism} from '../../config/index.js'
import {registerSecret} from '../../shared/secrets.js'
import {describePassword} from './account-header.js'
import {oauthLoginStep} from './oauth-login-step.js'
import {apply, type Wizard} from './wizard.js'

type SourceKind = 'plain' | 'command' | 'env' | 'file' | 'oauth2' | 'oauth2-login'

const SOURCE_KEYS = ['password', 'password_command', 'password_env', 'password_file', 'oauth2_token_command', 'oauth2', 'auth_mechanism'] as const

const EXTENSION_WARNING = 'imap-backup cannot load a config that uses it (mailkeep extension)'

export function sourceKind(account: AccountFile): SourceKind {
  if (account.password_command !== undefined) return 'command'
  if (account.password_env !== undefined) return 'env'
  if (account.password_file !== undefined) return 'file'
  if (account.oauth2_token_command !== undefined) return 'oauth2'
  if (account.oauth2 !== undefined) return 'oauth2-login'
  return 'plain'
}

/** "modify password": asks twice; a mismatch offers another try. */
export async function modifyPassword(w: Wizard, account: AccountFile): Promise<void> {
  if (sourceKind(account) !== 'plain') {
    const replace = await w.prompter.confirm(`The password now comes ${describePassword(account)}. Store a password in the config file instead?`, false)
    if (!replace) return
  }
  const password = await askPasswordTwice(w)
  if (password === undefined) {
    w.state.notice('Password not changed')
    return
  }
  if (setSource(w, account, {password})) w.state.notice('Password changed')
}

/** Undefined when the user gave up (an empty password, or no retry after a mismatch). */
export async function askPasswordTwice(w: Wizard, message = 'password (empty to cancel)'): Promise<string | undefined> {
  for (;;) {
    const first = await w.prompter.secret(message)
    if (first === '') return undefined
    // Before anything else can print: from now on the value is scrubbed from all output.
    registerSecret(first)
    const second = await w.prompter.secret('repeat the password')
    if (first === second) return first
    if (!(await w.prompter.confirm('The passwords do not match. Try again?', true))) return undefined
  }
}

/** "change password source". */
export async function changePasswordSource(w: Wizard, account: AccountFile): Promise<void> {
  const current = sourceKind(account)
  const kind = await w.prompter.select<SourceKind | 'cancel'>(
    'Where does mailkeep get the password?',
    [
      {name: 'stored in the config file (password)', value: 'plain', description: 'imap-backup compatible; protected only by the file being mode 0600'},
      {name: 'printed by a command (password_command)', value: 'command', description: `e.g. pass show mail/me; ${EXTENSION_WARNING}`},
      {name: 'an environment variable (password_env)', value: 'env', description: `e.g. MAIL_PASSWORD; ${EXTENSION_WARNING}`},
      {name: 'a file (password_file)', value: 'file', description: `a file of mode 0600 holding the password; ${EXTENSION_WARNING}`},
      {name: 'log in with OAuth2 (Gmail, Microsoft, …)', value: 'oauth2-login', description: `mailkeep logs in and refreshes its tokens itself; ${EXTENSION_WARNING}`},
      {name: 'an OAuth2 token command (oauth2_token_command)', value: 'oauth2', description: `prints an access token; ${EXTENSION_WARNING}`},
      {name: 'cancel', value: 'cancel'},
    ],
    {default: current},
  )
  switch (kind) {
    case 'cancel':
      return
    case 'oauth2-login':
      await oauthLoginStep(w, account)
      return
    case 'plain': {
      const password = await askPasswordTwice(w)
      if (password === undefined) w.state.notice('Password source not changed')
      else if (setSource(w, account, {password})) w.state.notice('The password is now stored in the config file')
      return
    }
    case 'command': {
      const command = await w.prompter.input('command that prints the password', {
        ...(account.password_command === undefined ? {} : {default: account.password_command}),
        validate: (v) => v !== '' || 'enter a command, e.g. pass show mail/me',
      })
      if (setSource(w, account, {password_command: command})) warnExtension(w, 'password_command')
      return
    }
    case 'env': {
      const name = await w.prompter.input('name of the environment variable', {
        ...(account.password_env === undefined ? {} : {default: account.password_env}),
        validate: (v) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(v) || 'letters, digits and _, not starting with a digit, without $',
      })
      if (setSource(w, account, {password_env: name})) warnExtension(w, 'password_env')
      return
    }
    case 'file': {
      const path = await w.prompter.input('file holding the password', {
        ...(account.password_file === undefined ? {} : {default: account.password_file}),
        validate: (v) => v !== '' || 'enter the path of the file',
      })
      if (setSource(w, account, {password_file: path})) {
        warnExtension(w, 'password_file')
        await checkPasswordFile(w, account)
      }
      return
    }
    case 'oauth2': {
      const command = await w.prompter.input('command that prints an OAuth2 access token', {
        ...(account.oauth2_token_command === undefined ? {} : {default: account.oauth2_token_command}),
        validate: (v) => v !== '' || 'enter a command, e.g. oama access me@gmail.com',
      })
      const mechanism = await w.prompter.select<AuthMechanism>(
        'SASL mechanism',
        [
          {name: 'XOAUTH2 (Gmail, Microsoft)', value: 'xoauth2'},
          {name: 'OAUTHBEARER (RFC 7628)', value: 'oauthbearer'},
        ],
        {default: account.auth_mechanism === 'oauthbearer' ? 'oauthbearer' : 'xoauth2'},
      )
      const source: Partial<AccountFile> = mechanism === 'oauthbearer' ? {oauth2_token_command: command, auth_mechanism: mechanism} : {oauth2_token_command: command}
      if (setSource(w, account, source)) warnExtension(w, 'oauth2_token_command')
      return
    }
  }
}

/** Replaces whatever password source the account had with `source`. */
function setSource(w: Wizard, account: AccountFile, source: Partial<AccountFile>): boolean {
  return apply(w, account, (draft) => {
    for (const key of SOURCE_KEYS) delete draft[key]
    Object.assign(draft, source)
  })
}

function warnExtension(w: Wizard, key: string): void {
  w.state.notice(`Note: ${key} is a mailkeep extension; imap-backup cannot load a config that uses it`)
}

/** The file is read at every backup, and refused unless it is private: say so now. */
async function checkPasswordFile(w: Wizard, account: AccountFile): Promise<void> {
  const configured = w.state.toConfig().accounts.find((a) => a.username === account.username)
  const source = configured?.passwordSource
  if (source?.kind !== 'file') return
  try {
    const info = await stat(source.path)
    const mode = info.mode & 0o777
    if (!info.isFile()) w.state.notice(`warning: '${source.path}' is not a regular file`)
    else if (process.platform !== 'win32' && (info.mode & 0o7777 & ~0o600) !== 0) {
      w.state.notice(`warning: '${source.path}' has mode 0${mode.toString(8)}; mailkeep refuses it until you run: chmod 600 '${source.path}'`)
    }
  } catch {
    w.state.notice(`warning: '${source.path}' does not exist yet; create it with mode 0600 before the next backup`)
  }
}
