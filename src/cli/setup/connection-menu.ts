/**
 * "modify connection": the account's server, port, security (TLS / STARTTLS / plain),
 * certificate verification and CA file as prompts, each showing the value in use; the whole
 * `connection_options` as JSON for anything else (timeouts). Every change is validated by the
 * loader's rules before it is made (wizard.ts apply), and written back as imap-backup's options
 * (connection-form.ts).
 */
import {defaultPort, providerFor, usualPort, type AccountFile, type Security} from '../../config/index.js'
import {describeServer, formatRows, TITLE_PREFIX} from './account-header.js'
import {optionsOf, readForm, SECURITY_WORDS, writeForm, type ConnectionForm} from './connection-form.js'
import type {Choice} from './prompter.js'
import {apply, drawScreen, errorLine, type Wizard} from './wizard.js'

type Action = 'server' | 'port' | 'security' | 'verify' | 'ca' | 'json' | 'back'

const SECURITY_CHOICES: ReadonlyArray<Choice<Security>> = [
  {name: 'TLS from the first byte (usually port 993)', value: 'tls', description: 'What most providers use (RFC 8314).'},
  {name: 'STARTTLS: plain, then upgraded to TLS (usually port 143)', value: 'starttls', description: 'A mailkeep extension: imap-backup cannot use an account set up this way.'},
  {name: 'plain IMAP, not encrypted (usually port 143)', value: 'plain', description: 'The password and every message cross the network readable: only on a network you trust, e.g. a server on this machine.'},
]

export async function connectionMenu(w: Wizard, account: AccountFile): Promise<void> {
  let last: Action | undefined
  for (;;) {
    drawScreen(w, connectionHeader(account))
    const form = readForm(account)
    const tlsOnly = form.security === 'plain' ? ' (not used with plain IMAP)' : ''
    const action = await w.prompter.select<Action>(
      'Choose an action',
      [
        {name: 'modify server', value: 'server'},
        {name: 'modify port', value: 'port'},
        {name: 'change security (TLS / STARTTLS / plain)', value: 'security'},
        {name: `toggle certificate verification${tlsOnly}`, value: 'verify'},
        {name: `modify CA file${tlsOnly}`, value: 'ca'},
        {name: 'edit all connection options as JSON', value: 'json'},
        {name: 'back to the account', value: 'back'},
      ],
      {numbered: true, ...(last === undefined ? {} : {default: last})},
    )
    last = action
    switch (action) {
      case 'back':
        return
      case 'server':
        await modifyServer(w, account)
        break
      case 'port':
        await modifyPort(w, account, form)
        break
      case 'security':
        await changeSecurity(w, account, form)
        break
      case 'verify':
        if (form.security === 'plain') w.state.notice('Plain IMAP has no certificate to verify; choose TLS or STARTTLS first')
        else setForm(w, account, {...form, verify: !form.verify})
        break
      case 'ca':
        await modifyCaFile(w, account, form)
        break
      case 'json':
        await editJson(w, account)
        break
    }
  }
}

export function connectionHeader(account: AccountFile): string {
  const form = readForm(account)
  const port = form.port ?? defaultPort(form.security)
  const rows: Array<[string, string]> = [
    ['server', describeServer(account)],
    ['port', form.port === undefined ? `${port} (the default for ${SECURITY_WORDS[form.security]})` : String(port)],
    ['security', SECURITY_CHOICES.find((c) => c.value === form.security)!.name.replace(/ \(usually port \d+\)$/, '')],
  ]
  if (form.security !== 'plain') {
    rows.push(['certificate', form.verify ? 'verified (the server must prove it is the one named above)' : 'NOT verified: anyone on the way could pose as the server'])
    rows.push(['CA file', form.caFile ?? '(the system\'s certificate authorities)'])
  }
  const others = Object.keys(optionsOf(account)).filter((k) => !['port', 'ssl', 'starttls'].includes(k))
  if (others.length > 0) {
    const options = optionsOf(account) as Record<string, unknown>
    rows.push(['other options', JSON.stringify(Object.fromEntries(others.map((k) => [k, options[k]])))])
  }
  return `${TITLE_PREFIX} Connection of ${account.username}\n\n${formatRows(rows)}\n`
}

function setForm(w: Wizard, account: AccountFile, form: ConnectionForm): boolean {
  return apply(w, account, (d) => {
    const options = writeForm(d, form)
    if (options === undefined) delete d.connection_options
    else d.connection_options = options
  })
}

async function modifyServer(w: Wizard, account: AccountFile): Promise<void> {
  const current = account.server ?? providerFor(account.username).host
  const server = await w.prompter.input('server (IMAP host name)', {
    ...(current === undefined ? {} : {default: current}),
    validate: (v) => (v !== '' && !/\s/.test(v)) || 'enter a host name, without spaces',
  })
  apply(w, account, (d) => {
    d.server = server
  })
}

async function modifyPort(w: Wizard, account: AccountFile, form: ConnectionForm): Promise<void> {
  const value = await w.prompter.input(`port (${usualPort(form.security)} is usual for ${SECURITY_WORDS[form.security]})`, {
    default: String(form.port ?? defaultPort(form.security)),
    validate: (v) => (/^\d{1,5}$/.test(v) && Number(v) >= 1 && Number(v) <= 65535) || 'enter a port number from 1 to 65535',
  })
  setForm(w, account, {...form, port: Number(value)})
}

/** A port left at the usual one for the old security follows to the usual one for the new. */
async function changeSecurity(w: Wizard, account: AccountFile, form: ConnectionForm): Promise<void> {
  const security = await w.prompter.select('Security', SECURITY_CHOICES, {default: form.security})
  if (security === form.security) return
  const port = form.port ?? defaultPort(form.security)
  const next: ConnectionForm = {...form, security, port: port === usualPort(form.security) || form.port === undefined ? usualPort(security) : port}
  if (setForm(w, account, next) && security === 'starttls') {
    w.state.notice('Note: starttls is a mailkeep extension; imap-backup cannot load a config that uses it')
  }
}

async function modifyCaFile(w: Wizard, account: AccountFile, form: ConnectionForm): Promise<void> {
  if (form.security === 'plain') {
    w.state.notice('Plain IMAP has no certificate to verify; choose TLS or STARTTLS first')
    return
  }
  w.prompter.write(`CA file now: ${form.caFile ?? "(the system's certificate authorities)"}\n`)
  const path = await w.prompter.input("PEM file of the CAs to trust (empty: the system's)")
  setForm(w, account, {...form, caFile: path === '' ? undefined : path})
}

/** JSON; an empty answer removes them; malformed JSON changes nothing and says why. */
async function editJson(w: Wizard, account: AccountFile): Promise<void> {
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
