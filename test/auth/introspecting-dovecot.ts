/**
 * A private Dovecot whose `oauth2` passdb validates bearer tokens (SASL XOAUTH2 and OAUTHBEARER,
 * RFC 7628) against an authorization server's token introspection endpoint (RFC 7662), as a
 * provider's IMAP server does: a token is good exactly as long as the authorization server says
 * it is active (it expired, or was revoked, and the login is refused).
 *
 * Dovecot 2.3.19's settings (dovecot-oauth2.conf.ext):
 * - `introspection_mode = post`: POST `token=<token>` to `introspection_url`, whose user info
 *   (`http://id:secret@host/...`) Dovecot sends as HTTP Basic client authentication;
 * - `force_introspection = yes`: always ask, and `active_attribute = active` /
 *   `active_value = true`: a token the server calls inactive is refused;
 * - `username_attribute = sub`: the token must belong to the user logging in (the test server's
 *   account id is the mail user).
 *
 * The password passdb comes first (the default one of startDovecot()); a token fails it and
 * falls through to the oauth2 passdb, which serves only the two OAuth mechanisms.
 */
import {chmod, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {startDovecot, type DovecotInstance, type DovecotOptions} from '../support/dovecot.js'
import {makeTempDir, removeTempDir} from '../support/temp-dir.js'
import type {AuthorizationServer} from './authorization-server.js'

export interface IntrospectingDovecot {
  readonly dovecot: DovecotInstance
  /** How many logins with this SASL mechanism succeeded (from the Dovecot log). */
  logins(mechanism: 'XOAUTH2' | 'OAUTHBEARER'): Promise<number>
  /** How many OAuth2 logins the oauth2 passdb refused. */
  refusals(): Promise<number>
  stop(): Promise<void>
}

export interface IntrospectingDovecotOptions extends DovecotOptions {
  /** The SASL mechanisms announced besides PLAIN and LOGIN (default both OAuth ones). */
  oauthMechanisms?: Array<'xoauth2' | 'oauthbearer'>
}

export async function startIntrospectingDovecot(as: AuthorizationServer, options: IntrospectingDovecotOptions = {}): Promise<IntrospectingDovecot> {
  const dir = await makeTempDir('mailkeep-oauth2-passdb-')
  // Dovecot's auth process (user dovecot) reads the settings: the directory must be searchable.
  await chmod(dir, 0o711)
  const settings = join(dir, 'dovecot-oauth2.conf.ext')
  const url = new URL(as.introspection.url)
  url.username = as.introspection.clientId
  url.password = as.introspection.clientSecret
  await writeFile(
    settings,
    [
      'introspection_mode = post',
      `introspection_url = ${url.href}`,
      'force_introspection = yes',
      'username_attribute = sub',
      'active_attribute = active',
      'active_value = true',
      'timeout_msecs = 10000',
      '',
    ].join('\n'),
    {mode: 0o644},
  )
  const mechanisms = (options.oauthMechanisms ?? ['xoauth2', 'oauthbearer']).join(' ')
  const extraConfig = [
    `auth_mechanisms = plain login ${mechanisms}`,
    // Refused tokens are logged (refusals() counts them).
    'auth_verbose = yes',
    'passdb {',
    '  driver = oauth2',
    `  mechanisms = ${mechanisms}`,
    `  args = ${settings}`,
    '}',
    options.extraConfig ?? '',
  ].join('\n')
  let dovecot: DovecotInstance
  try {
    dovecot = await startDovecot({...options, extraConfig})
  } catch (error) {
    await removeTempDir(dir)
    throw error
  }
  const log = async (): Promise<string[]> => (await readFile(dovecot.logPath, 'utf8').catch(() => '')).split('\n')
  return {
    dovecot,
    async logins(mechanism) {
      return (await log()).filter((line) => line.includes('imap-login: Info: Login:') && line.includes(`method=${mechanism},`)).length
    },
    async refusals() {
      return (await log()).filter((line) => /oauth2\(.*\): /.test(line) && /failed|inactive|invalid|mismatch/i.test(line)).length
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
