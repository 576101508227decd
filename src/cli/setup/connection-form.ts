/**
 * An account's `connection_options` (imap-backup's Net::IMAP options plus mailkeep's `starttls`,
 * docs/config.md) as the four things a person chooses in setup: port, security (TLS, STARTTLS,
 * plain), certificate verification and a CA file. read() takes them out of the options as the
 * loader reads them (src/config/connection.ts); write() puts a changed form back, keeping every
 * other key (timeouts, `min_version`, options mailkeep does not use) as it was, and leaving out
 * what equals the default, so that an account with the defaults has no `connection_options`.
 */
import {defaultPort, type AccountFile, type ConnectionOptionsFile, type Security, type SslOptionsFile} from '../../config/index.js'

export interface ConnectionForm {
  /** Undefined: the default for the security (defaultPort). */
  port: number | undefined
  security: Security
  /** Verify the server's certificate (TLS and STARTTLS; meaningless for plain). */
  verify: boolean
  /** A PEM file of CAs to trust instead of the system's; undefined: the system's. */
  caFile: string | undefined
}

/** The options as an object (a JSON string, as older setups wrote them, is parsed). */
export function optionsOf(account: AccountFile): ConnectionOptionsFile {
  const options = account.connection_options
  if (options === undefined || options === null || options === '') return {}
  if (typeof options === 'string') {
    try {
      const parsed = JSON.parse(options) as unknown
      return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as ConnectionOptionsFile) : {}
    } catch {
      return {}
    }
  }
  return structuredClone(options)
}

export function readForm(account: AccountFile): ConnectionForm {
  const options = optionsOf(account)
  const security: Security = options.starttls === true ? 'starttls' : options.ssl === false ? 'plain' : 'tls'
  const ssl: SslOptionsFile = options.ssl !== null && typeof options.ssl === 'object' ? options.ssl : {}
  const port = typeof options.port === 'number' ? options.port : typeof options.port === 'string' && /^\d+$/.test(options.port) ? Number(options.port) : undefined
  const verifyMode = ssl.verify_mode
  return {
    port,
    security,
    verify: typeof verifyMode === 'number' ? (verifyMode & 1) === 1 : true,
    caFile: typeof ssl.ca_file === 'string' && ssl.ca_file !== '' ? ssl.ca_file : undefined,
  }
}

/** The account's options with the form written in; `undefined` when nothing is left. */
export function writeForm(account: AccountFile, form: ConnectionForm): ConnectionOptionsFile | undefined {
  const options = optionsOf(account)
  delete options.port
  if (form.port !== undefined && form.port !== defaultPort(form.security)) options.port = form.port
  const ssl: SslOptionsFile = options.ssl !== null && typeof options.ssl === 'object' ? {...options.ssl} : {}
  delete ssl.verify_mode
  delete ssl.ca_file
  if (!form.verify) ssl.verify_mode = 0
  if (form.caFile !== undefined) ssl.ca_file = form.caFile
  delete options.starttls
  delete options.ssl
  if (form.security === 'plain') options.ssl = false
  else {
    if (form.security === 'starttls') options.starttls = true
    if (Object.keys(ssl).length > 0) options.ssl = ssl
  }
  return Object.keys(options).length === 0 ? undefined : options
}

/** `port 993, TLS, certificate verified`: the form in words, for the account's header. */
export function describeForm(form: ConnectionForm): string {
  const port = form.port ?? defaultPort(form.security)
  const parts = [`port ${port}`, SECURITY_WORDS[form.security]]
  if (form.security !== 'plain') {
    if (!form.verify) parts.push('certificate NOT verified')
    else parts.push(form.caFile === undefined ? 'certificate verified' : `certificate verified with ${form.caFile}`)
  }
  return parts.join(', ')
}

export const SECURITY_WORDS: Readonly<Record<Security, string>> = {
  tls: 'TLS',
  starttls: 'STARTTLS',
  plain: 'plain IMAP (not encrypted)',
}
