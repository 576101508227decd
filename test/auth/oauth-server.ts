/**
 * A private Dovecot that accepts OAuth2 bearer tokens (SASL XOAUTH2 and OAUTHBEARER, RFC 7628),
 * and token commands for mailkeep's `oauth2_token_command`.
 *
 * Dovecot 2.3's OAuth2 mechanisms check the token through the passdbs like a password (verified
 * on 2.3.19: mech-oauth2 hands the token to the passdb chain as a plain credential), so no
 * identity provider is needed: a second passwd-file passdb holds each user's currently valid
 * token, and `mechanisms = xoauth2 oauthbearer` keeps it out of LOGIN and PLAIN (a token is not
 * a password). The password passdb comes first; a token fails it and falls through to the token
 * passdb (passdb `result_failure = continue`, the default).
 */
import {chmod, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {renameSync, writeFileSync} from 'node:fs'
import {DEFAULT_USERS, startDovecot, type DovecotInstance, type DovecotOptions} from '../support/dovecot.js'
import {makeTempDir, removeTempDir} from '../support/temp-dir.js'

export interface OAuthServerOptions extends DovecotOptions {
  /** The valid token of each user (user → token) from the start. */
  tokens?: Record<string, string>
}

export interface OAuthServer {
  readonly dovecot: DovecotInstance
  /**
   * Sets the valid token of the given users (the others keep theirs), synchronously (for a proxy
   * callback that must finish before anything else). Dovecot notices a changed passwd-file only
   * at a lookup in a later second than its last one (it checks mtime and size at most once a
   * second), so a test that rotates a token mid-run waits that long before the next login; the
   * initial tokens are best given to startOAuthDovecot().
   */
  setTokensSync(tokens: Record<string, string>): void
  /** How many logins with this SASL mechanism the Dovecot log shows. */
  logins(mechanism: 'XOAUTH2' | 'OAUTHBEARER' | 'PLAIN' | 'LOGIN'): Promise<number>
  stop(): Promise<void>
}

export async function startOAuthDovecot(options: OAuthServerOptions = {}): Promise<OAuthServer> {
  const dir = await makeTempDir('mailkeep-oauth-')
  // Dovecot's auth process (user dovecot) reads the token file: the directory must be searchable.
  await chmod(dir, 0o711)
  const tokensPath = join(dir, 'tokens')
  let current: Record<string, string> = {...options.tokens}
  const content = (tokens: Record<string, string>): string => {
    current = {...current, ...tokens}
    return Object.entries(current)
      .map(([user, token]) => `${user}:{PLAIN}${token}::::::\n`)
      .join('')
  }
  // Written before Dovecot starts: its first read sees every initial token.
  await writeFile(tokensPath, content({}), {mode: 0o644})
  const extraConfig = [
    'auth_mechanisms = plain login xoauth2 oauthbearer',
    'passdb {',
    '  driver = passwd-file',
    `  args = ${tokensPath}`,
    '  mechanisms = xoauth2 oauthbearer',
    '}',
    options.extraConfig ?? '',
  ].join('\n')
  const {tokens: _tokens, ...dovecotOptions} = options
  let dovecot: DovecotInstance
  try {
    dovecot = await startDovecot({users: DEFAULT_USERS, ...dovecotOptions, extraConfig})
  } catch (error) {
    await removeTempDir(dir)
    throw error
  }
  return {
    dovecot,
    setTokensSync(tokens) {
      // Written aside and renamed: the auth process never reads half a file.
      writeFileSync(`${tokensPath}.new`, content(tokens), {mode: 0o644})
      renameSync(`${tokensPath}.new`, tokensPath)
    },
    async logins(mechanism) {
      const log = await readFile(dovecot.logPath, 'utf8').catch(() => '')
      return log.split('\n').filter((line) => line.includes('imap-login: Info: Login:') && line.includes(`method=${mechanism},`)).length
    },
    async stop() {
      try {
        await dovecot.stop()
      } finally {
        await removeTempDir(dir)
      }
    },
  }
}

/**
 * An `oauth2_token_command` for tests: `sh <dir>/token.sh`. Each run counts itself in
 * `<dir>/calls` and prints `<dir>/first-token` on the first run if that file exists, else
 * `<dir>/token`. Tests set the files with writeToken().
 */
export async function tokenCommand(dir: string): Promise<string> {
  const script = join(dir, 'token.sh')
  await writeFile(
    script,
    [
      '#!/bin/sh',
      `dir='${dir}'`,
      'n=$(( $(cat "$dir/calls" 2>/dev/null || echo 0) + 1 ))',
      'echo "$n" > "$dir/calls"',
      'if [ "$n" -eq 1 ] && [ -f "$dir/first-token" ]; then cat "$dir/first-token"; else cat "$dir/token"; fi',
      '',
    ].join('\n'),
    {mode: 0o700},
  )
  return `sh '${script}'`
}

export async function writeToken(dir: string, name: 'token' | 'first-token', token: string): Promise<void> {
  await writeFile(join(dir, name), `${token}\n`, {mode: 0o600})
}

export function writeTokenSync(dir: string, name: 'token' | 'first-token', token: string): void {
  writeFileSync(join(dir, `${name}.new`), `${token}\n`, {mode: 0o600})
  renameSync(join(dir, `${name}.new`), join(dir, name))
}

/** How often the token command ran. */
export async function tokenCalls(dir: string): Promise<number> {
  return Number((await readFile(join(dir, 'calls'), 'utf8').catch(() => '0')).trim())
}
