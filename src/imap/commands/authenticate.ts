/**
 * AUTHENTICATE for OAuth 2.0 bearer tokens, with the mechanism the configuration asks for:
 * OAUTHBEARER (RFC 7628 §3.1) or XOAUTH2 (Google's and Microsoft's predecessor). imapflow's own
 * picks OAUTHBEARER whenever announced and sends the initial response inline even without
 * SASL-IR (RFC 4959), so this replaces its AUTHENTICATE handler (per client; see connect.ts).
 * Password logins still go through imapflow (AUTHENTICATE PLAIN, RFC 4616, when announced,
 * else LOGIN, RFC 3501 §6.2.3).
 *
 * When the server rejects the token, the token source is asked for a fresh one once
 * (`getToken(true)`) and AUTHENTICATE is tried again on the same connection.
 */
import type {ImapResponse} from 'imapflow'
import type {CommandHandler, FlowInternals, WireNode} from '../flow-internals.js'

export type OAuthMechanism = 'XOAUTH2' | 'OAUTHBEARER'

export interface OAuthLogin {
  /** `auto`: chosen from the server's capabilities (chooseMechanism). */
  mechanism: OAuthMechanism | 'auto'
  /** The token source; `true` asks for a fresh token. */
  getToken: (refresh: boolean) => Promise<string>
  /** Told of every token used, so it can be kept out of logs and messages. */
  onToken: (token: string, encodings: string[]) => void
}

/** The SASL initial response (base64). */
export function oauthPayload(mechanism: OAuthMechanism, user: string, token: string, host: string, port: number): string {
  const raw =
    mechanism === 'OAUTHBEARER'
      ? `n,a=${user.replace(/=/g, '=3D').replace(/,/g, '=2C')},\x01host=${host}\x01port=${port}\x01auth=Bearer ${token}\x01\x01`
      : `user=${user}\x01auth=Bearer ${token}\x01\x01`
  return Buffer.from(raw, 'utf8').toString('base64')
}

export function authenticateHandler(original: CommandHandler, oauth: OAuthLogin | undefined): CommandHandler {
  return async (connection, ...args) => {
    const [user, credentials] = args as [string, {accessToken?: string}]
    if (oauth === undefined || !credentials?.accessToken) return original(connection, ...args)
    try {
      return await oauthAuthenticate(connection, oauth, user, credentials.accessToken)
    } catch (error) {
      if ((error as {authenticationFailed?: unknown}).authenticationFailed !== true || (error as {noMechanism?: unknown}).noMechanism === true) throw error
      const fresh = await oauth.getToken(true)
      return await oauthAuthenticate(connection, oauth, user, fresh)
    }
  }
}

/**
 * The mechanism to use: the configured one if the server announces it; with `auto`, XOAUTH2 when
 * announced (what Gmail and Microsoft 365 document, and Microsoft's only one), else OAUTHBEARER
 * (RFC 7628, what standard servers such as Dovecot offer). Undefined: the server offers neither.
 */
export function chooseMechanism(wanted: OAuthMechanism | 'auto', capabilities: {has(name: string): boolean}): OAuthMechanism | undefined {
  const candidates: OAuthMechanism[] = wanted === 'auto' ? ['XOAUTH2', 'OAUTHBEARER'] : [wanted]
  return candidates.find((m) => capabilities.has(`AUTH=${m}`))
}

async function oauthAuthenticate(connection: FlowInternals, oauth: OAuthLogin, user: string, token: string): Promise<string> {
  const mechanism = chooseMechanism(oauth.mechanism, connection.capabilities)
  if (mechanism === undefined) {
    const wanted = oauth.mechanism === 'auto' ? 'AUTH=XOAUTH2 nor AUTH=OAUTHBEARER' : `AUTH=${oauth.mechanism}`
    throw Object.assign(new Error(`server does not offer ${wanted}`), {authenticationFailed: true, noMechanism: true})
  }
  const host = connection.servername || connection.host
  const payload = oauthPayload(mechanism, user, token, host, connection.port)
  oauth.onToken(token, [payload])
  const inline = connection.capabilities.has('SASL-IR')
  let sent = inline
  const args: WireNode[] = [{type: 'ATOM', value: mechanism}]
  if (inline) args.push({type: 'ATOM', value: payload, sensitive: true})
  try {
    const result = await connection.exec('AUTHENTICATE', args, {
      onPlusTag: (_challenge: ImapResponse) => {
        if (!sent) {
          sent = true
          connection.write(payload)
          return
        }
        // A failure challenge (an error JSON): answer with the dummy response so the server
        // sends its tagged NO (RFC 7628 §3.2.3: %x01 for OAUTHBEARER; empty for XOAUTH2).
        connection.write(mechanism === 'OAUTHBEARER' ? 'AQ==' : '')
      },
    })
    result.next()
    return user
  } catch (error) {
    if ((error as {responseStatus?: unknown}).responseStatus === 'NO' || (error as {responseStatus?: unknown}).responseStatus === 'BAD') {
      Object.assign(error as object, {authenticationFailed: true})
    }
    throw error
  }
}
