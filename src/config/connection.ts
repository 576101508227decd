/**
 * imap-backup's `connection_options` are Net::IMAP options (compat §3.4). This module validates
 * them and maps them to the normalized `Connection` the IMAP layer uses.
 *
 * Defaults are imap-backup's: port 993, TLS from the first byte, certificate verification on,
 * TLS 1.2 or later. Like imap-backup, an account-level `ssl` replaces the whole default `ssl`
 * object, but mailkeep never goes below TLS 1.2, so a missing `min_version` still means 1.2.
 * `ssl: false` is plain IMAP and keeps port 993 unless a port is given (imap-backup does the
 * same). mailkeep adds `starttls: true` (RFC 3501 §6.2.1), on port 143 unless one is given; an
 * `ssl` object then holds the settings of the upgraded connection.
 *
 * Keys Net::IMAP or OpenSSL accept but mailkeep does not use are kept in the file and reported
 * as warnings; they never make loading fail. A `min_version` below TLS 1.2, which imap-backup
 * passes on to OpenSSL, is read as TLS 1.2 with a warning.
 */
import {accountKey, describeType, invalidConfig, replacedValue} from './config-error.js'
import {
  DEFAULT_IDLE_RESPONSE_TIMEOUT_SECONDS,
  DEFAULT_OPEN_TIMEOUT_SECONDS,
  DEFAULT_SOCKET_TIMEOUT_SECONDS,
  DEFAULT_STARTTLS_PORT,
  DEFAULT_TLS_PORT,
} from './defaults.js'
import {nearestTypo} from '../shared/nearest.js'
import {resolveConfigPath} from './paths.js'
import type {Connection, ConnectionOptionsFile, Security, SslOptionsFile, TlsVersion} from './types.js'

export interface AccountContext {
  /** The config file, for messages. */
  readonly file: string
  readonly configDir: string
  readonly index: number
  readonly username: string | undefined
}

export type ConnectionSettings = Omit<Connection, 'host'>

const KNOWN_OPTIONS = new Set(['port', 'ssl', 'open_timeout', 'idle_response_timeout', 'starttls', 'timeout'])
const KNOWN_SSL_OPTIONS = new Set(['verify_mode', 'ca_file', 'min_version'])
/** Options of Net::IMAP and of Ruby's OpenSSL contexts that imap-backup passes on and mailkeep does not use. */
const FOREIGN_OPTIONS = new Set(['config', 'debug', 'sasl_ir', 'read_timeout', 'verify_hostname'])
const FOREIGN_SSL_OPTIONS = new Set(['max_version', 'ca_path', 'verify_hostname', 'verify_depth', 'cert', 'key', 'ciphers', 'cert_store', 'ssl_version', 'extra_chain_cert', 'verify_callback', 'timeout'])

/**
 * The account's `connection_options` as an object: a JSON string is parsed (imap-backup accepts
 * both); null and "" mean none. Throws for anything that is not an object.
 */
export function parseConnectionOptions(value: unknown, ctx: AccountContext): ConnectionOptionsFile | undefined {
  const where = accountKey(ctx.index, 'connection_options', ctx.username)
  if (value === undefined || value === null || value === '') return undefined
  let parsed: unknown = value
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value)
    } catch {
      throw invalidConfig(ctx.file, where, 'is a string but not valid JSON', 'write it as a JSON object, e.g. {"port": 993, "ssl": {"verify_mode": 0}}')
    }
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw invalidConfig(ctx.file, where, `must be an object, not ${describeType(parsed)}`, 'write it as a JSON object, e.g. {"port": 993}')
  }
  return parsed as ConnectionOptionsFile
}

/** Validates the options and maps them; unknown keys are added to `warnings`. */
export function mapConnection(options: ConnectionOptionsFile | undefined, ctx: AccountContext, warnings: string[]): ConnectionSettings {
  const opts: ConnectionOptionsFile = options ?? {}
  const key = (k: string): string => accountKey(ctx.index, `connection_options.${k}`, ctx.username)
  for (const k of Object.keys(opts)) {
    if (!KNOWN_OPTIONS.has(k)) warnings.push(unknownOption(ctx.file, key(k), k, KNOWN_OPTIONS, FOREIGN_OPTIONS))
  }

  const starttls = opts.starttls
  if (starttls !== undefined && typeof starttls !== 'boolean') {
    throw invalidConfig(ctx.file, key('starttls'), `must be true or false, not ${describeType(starttls)}`, 'write "starttls": true to upgrade a plain connection with STARTTLS')
  }
  const ssl = opts.ssl
  if (ssl !== undefined && ssl !== null && typeof ssl !== 'boolean' && (typeof ssl !== 'object' || Array.isArray(ssl))) {
    throw invalidConfig(ctx.file, key('ssl'), `must be true, false or an object of TLS settings, not ${describeType(ssl)}`, 'e.g. "ssl": {"verify_mode": 0} or "ssl": false for plain IMAP')
  }
  if (starttls === true && ssl === true) {
    throw invalidConfig(
      ctx.file,
      key('ssl'),
      'ssl: true (TLS from the first byte) contradicts starttls: true',
      'remove "ssl" (or give it an object of TLS settings) to use STARTTLS, or remove "starttls" for TLS on port 993',
    )
  }

  const security: Security = starttls === true ? 'starttls' : ssl === false ? 'plain' : 'tls'
  const tls: SslOptionsFile = ssl !== null && typeof ssl === 'object' ? ssl : {}
  if (typeof ssl === 'object' && ssl !== null) {
    for (const k of Object.keys(tls)) {
      if (!KNOWN_SSL_OPTIONS.has(k)) warnings.push(unknownOption(ctx.file, key(`ssl.${k}`), k, KNOWN_SSL_OPTIONS, FOREIGN_SSL_OPTIONS))
    }
  }

  const port = opts.port === undefined || opts.port === null ? (security === 'starttls' ? DEFAULT_STARTTLS_PORT : DEFAULT_TLS_PORT) : parsePort(opts.port, ctx, key('port'))
  const connectTimeoutMs = seconds(opts.open_timeout, DEFAULT_OPEN_TIMEOUT_SECONDS, ctx, key('open_timeout'))
  // imap-backup's idle_response_timeout concerns IDLE, which mailkeep never uses: it is validated
  // for compatibility but the socket timeout is mailkeep's own `timeout` key.
  seconds(opts.idle_response_timeout, DEFAULT_IDLE_RESPONSE_TIMEOUT_SECONDS, ctx, key('idle_response_timeout'))
  const idleTimeoutMs = seconds(opts.timeout, DEFAULT_SOCKET_TIMEOUT_SECONDS, ctx, key('timeout'))

  if (security === 'plain') return {port, security, verifyCertificate: false, connectTimeoutMs, idleTimeoutMs}

  const verifyCertificate = parseVerifyMode(tls.verify_mode, ctx, key('ssl.verify_mode'))
  const minTlsVersion = parseMinVersion(tls.min_version, ctx, key('ssl.min_version'), warnings)
  let caFile: string | undefined
  if (tls.ca_file !== undefined && tls.ca_file !== null) {
    if (typeof tls.ca_file !== 'string' || tls.ca_file === '') {
      throw invalidConfig(ctx.file, key('ssl.ca_file'), `must be the path of a PEM file, not ${describeType(tls.ca_file)}`, 'give the path as a string, or remove the key to use the system CAs')
    }
    caFile = resolveConfigPath(tls.ca_file, ctx.configDir)
  }
  return {
    port,
    security,
    verifyCertificate,
    ...(caFile === undefined ? {} : {caFile}),
    minTlsVersion,
    connectTimeoutMs,
    idleTimeoutMs,
  }
}

/**
 * The warning for an option mailkeep does not use; a typo of one it does use (`prot`, `sll`,
 * `verify_mod`) is an error instead: the setting it was meant to be would be silently unused.
 * Options Net::IMAP or OpenSSL know (`max_version` is close to `min_version`) stay warnings.
 */
function unknownOption(file: string, where: string, name: string, known: ReadonlySet<string>, foreign: ReadonlySet<string>): string {
  const near = foreign.has(name) ? undefined : nearestTypo(name, known)
  if (near !== undefined) throw invalidConfig(file, where, `is not an option mailkeep knows; did you mean "${near}"?`, `rename it to "${near}" (as it is, the setting would be ignored)`)
  return `Config file '${file}': ${where}: not used by mailkeep, ignored`
}

/** An integer port, or a string of digits (Ruby's TCPSocket accepts both). */
function parsePort(value: unknown, ctx: AccountContext, where: string): number {
  const n = typeof value === 'string' && /^[0-9]+$/.test(value) ? Number(value) : value
  if (typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535) return n
  const shown = typeof value === 'number' ? String(value) : describeType(value)
  throw invalidConfig(ctx.file, where, `must be a port number from 1 to 65535, not ${shown}`, 'e.g. 993 for TLS, 143 for STARTTLS or plain IMAP')
}

function seconds(value: unknown, fallback: number, ctx: AccountContext, where: string): number {
  if (value === undefined || value === null) return fallback * 1000
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return Math.round(value * 1000)
  const shown = typeof value === 'number' ? String(value) : describeType(value)
  throw invalidConfig(ctx.file, where, `must be a positive number of seconds, not ${shown}`, `remove it to use the default (${fallback})`)
}

/** OpenSSL's verify mode: bit 0 (VERIFY_PEER) on means verify; 0 (VERIFY_NONE) turns it off. */
function parseVerifyMode(value: unknown, ctx: AccountContext, where: string): boolean {
  if (value === undefined || value === null) return true
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return (value & 1) === 1
  const shown = typeof value === 'number' ? String(value) : describeType(value)
  throw invalidConfig(ctx.file, where, `must be 0 (no verification) or 1 (verify the certificate), not ${shown}`, 'remove it to verify the certificate (the default)')
}

const TLS_VERSION_NUMBERS: Readonly<Record<number, TlsVersion | 'old'>> = {0x0002: 'old', 0x0300: 'old', 0x0301: 'old', 0x0302: 'old', 0x0303: 'TLSv1.2', 0x0304: 'TLSv1.3'}

/**
 * Ruby writes OpenSSL's version constants by name (`TLS1_2`, `:TLS1_2`, `TLS1_2_VERSION`) or
 * number (771, 772); Node's names (`TLSv1.2`) are accepted too. mailkeep never goes below TLS 1.2:
 * an older version (which imap-backup would allow) is raised to 1.2 with a warning, so the file
 * loads and the connection stays as safe as with every other account; a server that speaks only
 * TLS 1.0/1.1 then fails with a TLS error when it is used.
 */
function parseMinVersion(value: unknown, ctx: AccountContext, where: string, warnings: string[]): TlsVersion {
  if (value === undefined || value === null) return 'TLSv1.2'
  let version: TlsVersion | 'old' | undefined
  if (typeof value === 'number') version = TLS_VERSION_NUMBERS[value]
  else if (typeof value === 'string') {
    const m = /^:?(TLS|SSL)V?(\d)(?:[._](\d))?(?:_VERSION)?$/i.exec(value.trim())
    if (m !== null) {
      const [, family = '', major, minor] = m
      if (family.toUpperCase() === 'SSL') version = 'old'
      else if (major === '1' && minor === '2') version = 'TLSv1.2'
      else if (major === '1' && minor === '3') version = 'TLSv1.3'
      else if (major === '1' && (minor === undefined || minor === '0' || minor === '1')) version = 'old'
    }
  }
  if (version === 'old') {
    warnings.push(replacedValue(ctx.file, where, value, 'is a TLS version older than 1.2', '"TLS1_2"', ', mailkeep\'s minimum (imap-backup would allow the older version); remove it or set "TLS1_2" or "TLS1_3"'))
    return 'TLSv1.2'
  }
  if (version === undefined) {
    const shown = typeof value === 'string' || typeof value === 'number' ? JSON.stringify(value) : describeType(value)
    throw invalidConfig(ctx.file, where, `must be "TLS1_2" or "TLS1_3", not ${shown}`, 'remove it to require TLS 1.2 or later (the default)')
  }
  return version
}
