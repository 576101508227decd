/**
 * LOGIN (RFC 3501 §6.2.3), which imapflow sends when the server offers no AUTHENTICATE PLAIN or
 * LOGIN: its arguments go out as quoted strings (imapflow never uses a literal here), and a
 * quoted string cannot hold CR, LF or NUL (RFC 3501 §9, `QUOTED-CHAR`). imapflow's compiler
 * refuses such a string, and the refusal came back as "login refused … check the user name and
 * password" although the server never saw a login. This handler refuses first, saying why
 * (classify.ts: `unsendable`). The SASL mechanisms carry the password base64-encoded, so a line
 * break is no problem there.
 */
import type {CommandHandler} from '../flow-internals.js'

const NOT_IN_QUOTED = /[\r\n\0]/

export function loginHandler(original: CommandHandler): CommandHandler {
  return async (connection, ...args) => {
    const [user, password] = args as [unknown, unknown]
    for (const [what, value] of [['user name', user], ['password', password]] as const) {
      if (typeof value === 'string' && NOT_IN_QUOTED.test(value)) {
        const kind = /\0/.test(value) ? 'a NUL character' : 'a line break (CR or LF)'
        throw Object.assign(new Error(`the ${what} contains ${kind}, which the LOGIN command cannot carry, and the server offers no AUTHENTICATE PLAIN or LOGIN, which could; nothing was sent`), {
          authenticationFailed: true,
          unsendable: true,
        })
      }
    }
    return original(connection, ...args)
  }
}
