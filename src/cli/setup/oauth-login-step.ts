/**
 * Setup's OAuth2 step (docs/auth.md): for an account whose provider needs OAuth2 (Gmail,
 * Microsoft, or a server that takes only tokens), asks for the provider and your OAuth2 client,
 * puts the `oauth2` entry into the account's draft and logs in right away, in the browser or with
 * a device code. The refresh token is written to the account's token file at once; the config
 * itself is saved with the rest of setup's changes. A login that fails leaves the entry in place
 * and says to run `mailkeep auth login EMAIL` later.
 *
 * How it plugs in: call `oauthLoginStep(w, account, {provider})` wherever setup decides that an
 * account logs in with OAuth2 (the password-source menu does; a provider preset table can pass
 * its OAuth2 preset id, an OAuthProviderId of src/config/oauth-providers.ts).
 */
import {OAUTH_PROVIDERS, PASSWORD_SOURCE_KEYS, oauthProviderForDomain, type AccountFile, type OAuth2File, type OAuthProviderName} from '../../config/index.js'
import {obtainOAuthLogin} from '../../engine/access/auth-login.js'
import {registerSecret} from '../../shared/secrets.js'
import {openBrowser} from '../open-browser.js'
import {apply, errorLine, type Wizard} from './wizard.js'

const LOGIN_TIMEOUT_MS = 300_000

export async function oauthLoginStep(w: Wizard, account: AccountFile, options: {provider?: OAuthProviderName} = {}): Promise<void> {
  const current = account.oauth2
  const provider =
    options.provider ??
    (await w.prompter.select<OAuthProviderName>(
      'OAuth2 provider',
      [
        {name: OAUTH_PROVIDERS.google.name, value: 'google'},
        {name: OAUTH_PROVIDERS.microsoft.name, value: 'microsoft'},
        {name: 'another OAuth2 server (issuer URL)', value: 'generic'},
      ],
      {default: current?.provider ?? oauthProviderForDomain(account.username) ?? 'google'},
    ))
  const entry: OAuth2File = {provider, client_id: ''}
  const keep = current?.provider === provider ? current : undefined
  if (current?.token_file !== undefined) entry.token_file = current.token_file
  if (provider === 'generic') {
    entry.issuer = await w.prompter.input('issuer URL of the authorization server', {
      ...(keep?.issuer === undefined ? {} : {default: keep.issuer}),
      validate: (v) => /^https:\/\/|^http:\/\/(127\.|localhost|\[::1\])/.test(v) || 'an https:// URL',
    })
    entry.scope = await w.prompter.input('scopes (separated by spaces)', {...(keep?.scope === undefined ? {} : {default: keep.scope}), validate: (v) => v.trim() !== '' || 'enter the scopes'})
  } else {
    w.prompter.write(`You need your own OAuth2 client for ${OAUTH_PROVIDERS[provider].name}: \`mailkeep help auth.md\` shows how to register one (${OAUTH_PROVIDERS[provider].consoleUrl}).\n`)
  }
  entry.client_id = await w.prompter.input('client id', {...(keep?.client_id === undefined ? {} : {default: keep.client_id}), validate: (v) => v.trim() !== '' || 'enter the client id'})
  const secretRequired = provider !== 'generic' && OAUTH_PROVIDERS[provider].clientSecretRequired
  if (secretRequired || provider === 'generic') {
    const secret = await w.prompter.secret(secretRequired ? 'client secret' : 'client secret (empty if the client has none)')
    registerSecret(secret)
    if (secret !== '') entry.client_secret = secret
    else if (keep?.client_secret !== undefined) entry.client_secret = keep.client_secret
  }
  const changed = apply(w, account, (draft) => {
    for (const key of PASSWORD_SOURCE_KEYS) delete draft[key]
    draft.oauth2 = entry
  })
  if (!changed) return
  w.state.notice('Note: oauth2 is a mailkeep extension; imap-backup cannot load a config that uses it')

  const configured = w.state.toConfig().accounts.find((a) => a.username === account.username)
  if (configured?.passwordSource.kind !== 'oauth2') return
  const device =
    provider === 'google'
      ? false
      : await w.prompter.select<boolean>('How do you want to log in?', [
          {name: 'in a browser on this machine', value: false},
          {name: 'with a code on another device (phone, laptop)', value: true},
        ])
  if (!(await w.prompter.confirm('Log in now?', true))) {
    w.state.notice(`Not logged in yet: run mailkeep auth login ${account.username} before the first backup`)
    return
  }
  try {
    const result = await obtainOAuthLogin(
      {
        email: account.username,
        settings: configured.passwordSource.oauth2,
        provider,
        flow: device ? 'device' : 'code',
        port: 0,
        timeoutMs: LOGIN_TIMEOUT_MS,
        interaction: {
          openUrl: (url) => {
            w.prompter.write(`Open this URL in a browser to log in:\n\n  ${url}\n\n`)
            openBrowser(url)
          },
          showDeviceCode: (prompt) => w.prompter.write(`Open ${prompt.verificationUri} on any device and enter the code:\n\n  ${prompt.userCode}\n\n`),
        },
      },
      w.ctx,
    )
    w.state.notice(`Logged in; the refresh token is in ${result.tokenFile}`)
  } catch (error) {
    w.state.notice(`The OAuth2 login failed: ${errorLine(error)}; run mailkeep auth login ${account.username} later`)
  }
}
