import {Args} from '@oclif/core'
import {authStatus, type AuthStatusEntry} from '../../../engine/access/auth-status.js'
import {BaseCommand} from '../../base-command.js'
import {renderAuthStatus} from '../../render/auth-status.js'

/** `mailkeep auth status [EMAIL]` (docs/commands/auth.md). */
export default class AuthStatus extends BaseCommand<typeof AuthStatus, AuthStatusEntry[]> {
  static override summary = 'how each account logs in, and when its stored OAuth2 token was last refreshed'

  static override description = [
    'Per account: the login method (password source, oauth2_token_command, or mailkeep\'s own OAuth2 login) and, for OAuth2, whether a refresh token is stored, when it was obtained and when a run last refreshed with it. Reads only the config and the token files; never prints a password or a token.',
    'Exit status: 0 done; 3 config error or unknown account. More: `mailkeep help commands/auth`.',
  ].join('\n\n')

  static override examples = ['<%= config.bin %> auth status', '<%= config.bin %> auth status me@gmail.com --json']

  static override args = {email: Args.string({description: 'only this account'})}

  protected override async exec(): Promise<AuthStatusEntry[]> {
    const config = await this.loadConfigAndWarn()
    return authStatus({config, ...(this.args.email === undefined ? {} : {email: this.args.email})}, this.ctx)
  }

  protected override renderText(entries: AuthStatusEntry[]): string {
    return renderAuthStatus(entries)
  }
}
