import {existsSync} from 'node:fs'
import {Args, Flags} from '@oclif/core'
import {OAUTH_PROVIDER_NAMES} from '../../../config/index.js'
import {authLogin, type AuthLoginResult} from '../../../engine/access/auth-login.js'
import {registerSecret} from '../../../shared/secrets.js'
import {BaseCommand} from '../../base-command.js'
import {openBrowser} from '../../open-browser.js'

/** `mailkeep auth login EMAIL` (docs/commands/auth.md, docs/auth.md). */
export default class AuthLogin extends BaseCommand<typeof AuthLogin, AuthLoginResult> {
  static override summary = 'log in to an account with OAuth2 and keep the refresh token for unattended runs'

  static override description = [
    "Opens the provider's login page (the URL is printed, and opened in a browser where there is one), receives the answer on 127.0.0.1 and stores the refresh token in the account's token file (mode 0600). With --device, prints a URL and a code to enter on any other device instead (for machines without a browser).",
    'The account gets an "oauth2" entry in the config (created for a new Gmail or Microsoft account). You need your own OAuth2 client: `mailkeep help auth.md` says how to register one with each provider.',
    'Exit status: 0 logged in; 2 bad usage; 3 config error or a client id the provider does not accept; 111 the provider could not be reached or refused the login. More: `mailkeep help commands/auth`.',
  ].join('\n\n')

  static override examples = [
    '<%= config.bin %> auth login me@gmail.com --client-id 1234.apps.googleusercontent.com --client-secret GOCSPX-…',
    '<%= config.bin %> auth login me@outlook.com --client-id 0000-… --device',
    '<%= config.bin %> auth login me@example.com --provider generic --issuer https://id.example.com --client-id mailkeep --scope "openid offline_access"',
  ]

  static override args = {email: Args.string({description: 'the account (its username in the config)', required: true})}
  static override flags = {
    provider: Flags.option({options: OAUTH_PROVIDER_NAMES, description: 'the OAuth2 provider [default: from the config, or the mail domain]'})(),
    'client-id': Flags.string({description: 'the client id of your OAuth2 client [default: from the config]'}),
    'client-secret': Flags.string({description: 'its secret, where the provider requires one (Google)'}),
    issuer: Flags.string({description: 'generic: the issuer URL (endpoints by discovery)'}),
    'authorization-endpoint': Flags.string({description: 'generic: the authorization endpoint'}),
    'token-endpoint': Flags.string({description: 'generic: the token endpoint'}),
    'device-authorization-endpoint': Flags.string({description: 'generic: the device authorization endpoint'}),
    scope: Flags.string({description: "the scopes to ask for [default: the provider's]"}),
    device: Flags.boolean({description: 'use the device flow: a URL and a code for another device (no browser needed here)'}),
    browser: Flags.boolean({description: 'open the login URL in a browser (--no-browser: only print it)', default: true, allowNo: true}),
    port: Flags.integer({description: 'port of the local listener on 127.0.0.1 for the browser flow [default: any free one]', min: 1, max: 65535}),
    timeout: Flags.integer({description: 'seconds to wait for the login to complete', default: 300, min: 1}),
  }

  override async init(): Promise<void> {
    // Before anything can print (even a usage error): the secret must never be shown.
    for (let i = 0; i < this.argv.length; i++) {
      const arg = this.argv[i]!
      if (arg === '--client-secret') registerSecret(this.argv[i + 1])
      else if (arg.startsWith('--client-secret=')) registerSecret(arg.slice('--client-secret='.length))
    }
    await super.init()
  }

  protected override async exec(): Promise<AuthLoginResult> {
    const f = this.flags
    const config = existsSync(this.configPath) ? await this.loadConfigAndWarn() : undefined
    const email = this.args.email
    const write = (text: string): void => {
      // The prompt goes to stderr: stdout holds only the result (--json).
      process.stderr.write(text)
    }
    return authLogin(
      {
        configPath: this.configPath,
        config,
        email,
        oauth2: {
          provider: f.provider,
          clientId: f['client-id'],
          clientSecret: f['client-secret'],
          issuer: f.issuer,
          authorizationEndpoint: f['authorization-endpoint'],
          tokenEndpoint: f['token-endpoint'],
          deviceAuthorizationEndpoint: f['device-authorization-endpoint'],
          scope: f.scope,
        },
        flow: f.device ? 'device' : 'code',
        port: f.port ?? 0,
        timeoutMs: f.timeout * 1000,
        interaction: {
          openUrl: (url) => {
            write(`To log in to ${email}, open this URL in a browser:\n\n  ${url}\n\n`)
            if (f.browser && openBrowser(url)) write('(opening it in your browser)\n')
            write(`Waiting for the login (up to ${f.timeout} s)…\n`)
          },
          showDeviceCode: (prompt) => {
            write(`To log in to ${email}, open ${prompt.verificationUri} on any device and enter the code:\n\n  ${prompt.userCode}\n\n`)
            if (prompt.verificationUriComplete !== undefined) write(`(or open ${prompt.verificationUriComplete})\n`)
            write(`Waiting for the login (up to ${Math.min(f.timeout, prompt.expiresIn)} s)…\n`)
          },
        },
      },
      this.ctx,
    )
  }

  protected override renderText(result: AuthLoginResult): string {
    const lines = [`Logged in: ${result.account} (${result.provider}, ${result.flow === 'device' ? 'device' : 'browser'} login); refresh token saved in ${result.tokenFile}`]
    if (result.configSaved) lines.push(`The account's oauth2 settings were saved to ${this.configPath}.`)
    return lines.join('\n')
  }
}
