/**
 * `auth login EMAIL`: obtains a refresh token for the account and keeps it in the account's
 * token file (docs/auth.md).
 *
 * - Authorization code flow with PKCE (RFC 6749 §4.1, RFC 7636) and a loopback redirect (RFC
 *   8252 §7.3): the URL goes to the user (printed, and opened in a browser where possible), the
 *   browser comes back to 127.0.0.1.
 * - Device authorization grant (RFC 8628) for a machine without a browser: the user opens the
 *   verification URL on another device and types the code; mailkeep polls.
 *
 * The account's `oauth2` settings come from the config and the command line (which wins). When
 * they change, or the account is new, the config is saved, but only after the login succeeded:
 * a failed login changes nothing. The access token of the login is not kept: a run gets its own.
 */
import {join} from 'node:path'
import {
  OAUTH_PROVIDERS,
  PASSWORD_SOURCE_KEYS,
  oauthProviderForDomain,
  parseConfig,
  saveConfig,
  writeTokenFile,
  type AccountFile,
  type Config,
  type ConfigFile,
  type LoginFlow,
  type OAuth2File,
  type OAuth2Settings,
  type OAuthProviderName,
} from '../../config/index.js'
import {listenLoopback, OAuthClient, type LoginInteraction, type TokenSet} from '../../oauth/index.js'
import type {RunContext} from '../../shared/context.js'
import {ConnectionError, UsageError} from '../../shared/errors.js'
import {registerSecret} from '../../shared/secrets.js'


export interface OAuth2Options {
  provider?: OAuthProviderName
  clientId?: string
  clientSecret?: string
  issuer?: string
  authorizationEndpoint?: string
  tokenEndpoint?: string
  deviceAuthorizationEndpoint?: string
  scope?: string
}

export interface AuthLoginRequest {
  /** The config file (it need not exist yet). */
  configPath: string
  /** The loaded config, or undefined when the file does not exist. */
  config: Config | undefined
  email: string
  oauth2: OAuth2Options
  flow: LoginFlow
  /** The loopback listener's port (0: any free one). */
  port: number
  /** How long to wait for the browser or the device approval. */
  timeoutMs: number
  interaction: LoginInteraction
}

export interface AuthLoginResult {
  account: string
  provider: OAuthProviderName
  flow: LoginFlow
  /** Where the refresh token now is. */
  tokenFile: string
  /** Whether the config file was written (a new account, or changed oauth2 settings). */
  configSaved: boolean
  /** The IMAP server the account uses. */
  server: string | undefined
}

export async function authLogin(request: AuthLoginRequest, ctx: RunContext): Promise<AuthLoginResult> {
  const {email} = request
  registerSecret(request.oauth2.clientSecret)
  const raw: ConfigFile = request.config === undefined ? {version: '2.2', accounts: []} : structuredClone(request.config.raw)
  const index = raw.accounts.findIndex((a) => a.username === email)
  const existing = index >= 0 ? raw.accounts[index] : undefined
  const oauth2 = oauth2File(email, existing?.oauth2, request.oauth2)
  const account: AccountFile = existing === undefined ? newAccount(email, oauth2, request.configPath) : withOAuth2(existing, oauth2)
  if (index >= 0) raw.accounts[index] = account
  else raw.accounts.push(account)
  // Validated now, saved only after the login: the same rules as loading.
  const planned = parseConfig(raw, request.configPath)
  const target = planned.accounts.find((a) => a.username === email)!
  if (target.passwordSource.kind !== 'oauth2') throw new Error('auth login: the account did not become an oauth2 account')
  const settings = target.passwordSource.oauth2

  await obtainOAuthLogin({email, settings, provider: oauth2.provider, flow: request.flow, port: request.port, timeoutMs: request.timeoutMs, interaction: request.interaction}, ctx)
  const changed = request.config === undefined || JSON.stringify(request.config.raw) !== JSON.stringify(planned.raw)
  if (changed) await saveConfig(planned, request.configPath)
  return {account: email, provider: oauth2.provider, flow: request.flow, tokenFile: settings.tokenFile, configSaved: changed, server: target.server}
}

export interface ObtainLoginRequest {
  email: string
  /** The account's normalized oauth2 settings (Account.passwordSource.oauth2). */
  settings: OAuth2Settings
  provider: OAuthProviderName
  flow: LoginFlow
  port: number
  timeoutMs: number
  interaction: LoginInteraction
}

/**
 * The login itself, for settings that are already the account's (setup's OAuth2 step calls this
 * after putting them into its draft): runs the flow and writes the token file. The config is not
 * touched.
 */
export async function obtainOAuthLogin(request: ObtainLoginRequest, ctx: RunContext): Promise<{tokenFile: string}> {
  const {email, settings} = request
  const client = await OAuthClient.open(settings)
  ctx.logger.debug('OAuth2 login', {account: email, server: client.server, flow: request.flow})
  const tokens = request.flow === 'device' ? await deviceFlow(client, request, ctx) : await codeFlow(client, request, ctx)
  if (tokens.refreshToken === undefined) {
    const why =
      request.provider === 'microsoft'
        ? 'the scope must include offline_access'
        : request.provider === 'google'
          ? 'Google sends one only with access_type=offline and prompt=consent, which mailkeep asks for: check the client type is "Desktop app"'
          : 'the client may not be allowed the refresh_token grant, or the scope may need offline_access'
    throw new ConnectionError(`the OAuth2 authorization server ${client.server} issued no refresh token for '${email}', so mailkeep could not log in on its own later (${why})`)
  }
  await writeTokenFile(settings.tokenFile, {
    version: 1,
    username: email,
    client_id: settings.clientId,
    flow: request.flow,
    obtained_at: new Date().toISOString(),
    refresh_token: tokens.refreshToken,
  })
  return {tokenFile: settings.tokenFile}
}

async function codeFlow(client: OAuthClient, request: ObtainLoginRequest, ctx: RunContext): Promise<TokenSet> {
  const listener = await listenLoopback(request.port)
  try {
    const pending = await client.authorize(listener.redirectUri, request.email)
    request.interaction.openUrl(pending.url)
    const callback = await listener.callback(ctx.signal, request.timeoutMs)
    return await pending.finish(callback)
  } finally {
    await listener.close()
  }
}

async function deviceFlow(client: OAuthClient, request: ObtainLoginRequest, ctx: RunContext): Promise<TokenSet> {
  if (!client.supportsDeviceFlow) {
    const google = request.provider === 'google' ? ' for Gmail (Google does not allow its mail scope there)' : ''
    throw new UsageError(`the OAuth2 authorization server ${client.server} offers no device login${google}; log in without --device (\`mailkeep help auth.md\`, "A machine without a browser")`)
  }
  const pending = await client.authorizeDevice()
  request.interaction.showDeviceCode(pending.prompt)
  const timeout = AbortSignal.timeout(Math.min(request.timeoutMs, pending.prompt.expiresIn * 1000))
  const signal = AbortSignal.any([ctx.signal, timeout])
  try {
    return await pending.finish(signal)
  } catch (error) {
    if (timeout.aborted && !ctx.signal.aborted) {
      throw new ConnectionError(`the device login of '${request.email}' was not approved within ${Math.round(Math.min(request.timeoutMs / 1000, pending.prompt.expiresIn))} s; run the command again`)
    }
    throw error
  }
}

/** The account's `oauth2` object: the existing one, changed by the command line. */
function oauth2File(email: string, existing: OAuth2File | undefined, options: OAuth2Options): OAuth2File {
  const provider = options.provider ?? existing?.provider ?? oauthProviderForDomain(email)
  if (provider === undefined) {
    throw new UsageError(`which provider does '${email}' log in with? Give --provider google, microsoft or generic (with --issuer)`)
  }
  // A different provider starts from scratch: its endpoints and scope do not carry over.
  const base: Partial<OAuth2File> = existing !== undefined && existing.provider === provider ? {...existing} : {}
  if (existing?.token_file !== undefined) base.token_file = existing.token_file
  const file: OAuth2File = {...base, provider, client_id: options.clientId ?? base.client_id ?? ''}
  const set = <K extends keyof OAuth2File>(key: K, value: OAuth2File[K] | undefined): void => {
    if (value !== undefined) file[key] = value
  }
  set('client_secret', options.clientSecret)
  set('issuer', options.issuer)
  set('authorization_endpoint', options.authorizationEndpoint)
  set('token_endpoint', options.tokenEndpoint)
  set('device_authorization_endpoint', options.deviceAuthorizationEndpoint)
  set('scope', options.scope)
  if (file.client_id === '') {
    throw new UsageError(`give the client id of your OAuth2 client with --client-id (\`mailkeep help auth.md\` says how to register one with ${provider === 'generic' ? 'your provider' : OAUTH_PROVIDERS[provider].name})`)
  }
  if (provider !== 'generic' && OAUTH_PROVIDERS[provider].clientSecretRequired && file.client_secret === undefined) {
    throw new UsageError(`${OAUTH_PROVIDERS[provider].name} requires the client secret of your client too: give --client-secret (\`mailkeep help auth.md\`)`)
  }
  return file
}

function newAccount(email: string, oauth2: OAuth2File, configPath: string): AccountFile {
  if (oauth2.provider === 'generic') {
    throw new UsageError(`'${email}' is not in the config: add it with mailkeep setup (server, folders), then log in`)
  }
  // As setup names a new account's directory.
  return {username: email, oauth2, local_path: join(configPath, '..', email.replaceAll('@', '_'))}
}

function withOAuth2(account: AccountFile, oauth2: OAuth2File): AccountFile {
  const copy: AccountFile = {...account}
  for (const key of PASSWORD_SOURCE_KEYS) delete copy[key]
  // The key order of the file is saveConfig()'s; only the source changes.
  return {...copy, oauth2}
}
