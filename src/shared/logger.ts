/**
 * The only importer of pino. The rest of mailkeep sees the small Logger interface below.
 *
 * Logs go to stderr so that stdout stays free for command output and `--json` reports. Secrets
 * are removed by key (pino's redact paths), by value from the fields that hold foreign text
 * (`error`, `stack`: scrubForeign) and, on every line, by value where a value cannot be a word
 * of our own text (scrubOutput; src/shared/secrets.ts says why not more).
 */
import {pino, type Logger as PinoLogger, type LevelWithSilent} from 'pino'
import {REDACTED, scrubForeign, scrubOutput} from './secrets.js'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'
export type LogFormat = 'text' | 'json'
export type LogFields = Record<string, unknown>

export interface Logger {
  debug(message: string, fields?: LogFields): void
  info(message: string, fields?: LogFields): void
  warn(message: string, fields?: LogFields): void
  error(message: string, fields?: LogFields): void
  child(bindings: LogFields): Logger
}

export interface LoggerOptions {
  level: LogLevel
  format: LogFormat
  /** Where lines go; stderr by default. */
  write?: (line: string) => void
}

const SECRET_KEYS = ['password', 'pass', 'accessToken', 'access_token', 'token', 'secret', 'oauth2_token', 'authorization']
const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`])

export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(line))
  const destination = {
    write(json: string): void {
      if (options.format === 'json') write(scrubOutput(scrubFields(json)))
      else write(scrubOutput(formatText(scrubFields(json))))
    },
  }
  const instance = pino(
    {
      level: options.level as LevelWithSilent,
      base: undefined,
      redact: {paths: REDACT_PATHS, censor: REDACTED},
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {level: (label) => ({level: label})},
    },
    destination,
  )
  return wrap(instance)
}

function wrap(instance: PinoLogger): Logger {
  return {
    debug: (message, fields) => instance.debug(fields ?? {}, message),
    info: (message, fields) => instance.info(fields ?? {}, message),
    warn: (message, fields) => instance.warn(fields ?? {}, message),
    error: (message, fields) => instance.error(fields ?? {}, message),
    child: (bindings) => wrap(instance.child(bindings)),
  }
}

/** Fields that carry foreign text (a library's error message, a stack trace). */
const FOREIGN_FIELDS = ['error', 'stack', 'cause', 'reason']

/** The record with its foreign fields cleaned of every secret (scrubForeign). */
function scrubFields(json: string): string {
  if (!FOREIGN_FIELDS.some((key) => json.includes(`"${key}":`))) return json
  let record: Record<string, unknown>
  try {
    record = JSON.parse(json) as Record<string, unknown>
  } catch {
    return scrubForeign(json)
  }
  for (const key of FOREIGN_FIELDS) {
    const value = record[key]
    if (typeof value === 'string') record[key] = scrubForeign(value)
    else if (value !== undefined && typeof value === 'object') record[key] = JSON.parse(scrubForeign(JSON.stringify(value))) as unknown
  }
  return `${JSON.stringify(record)}\n`
}

/** `2024-02-19T10:41:22.295Z WARN  [account=me@x folder=INBOX] message key=value` */
function formatText(json: string): string {
  let record: Record<string, unknown>
  try {
    record = JSON.parse(json) as Record<string, unknown>
  } catch {
    return json
  }
  const {time, level, msg, ...rest} = record
  const context: string[] = []
  for (const key of ['account', 'folder']) {
    if (key in rest) {
      context.push(`${key}=${String(rest[key])}`)
      delete rest[key]
    }
  }
  const extra = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
  const prefix = context.length > 0 ? ` [${context.join(' ')}]` : ''
  const suffix = extra.length > 0 ? ` ${extra.join(' ')}` : ''
  return `${String(time)} ${String(level).toUpperCase().padEnd(5)}${prefix} ${String(msg ?? '')}${suffix}\n`
}

export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
}

/** A logger that keeps records in memory, for tests that assert on what was logged. */
export interface MemoryLogger extends Logger {
  readonly records: Array<{level: LogLevel; message: string; fields: LogFields}>
}

export function memoryLogger(bindings: LogFields = {}, records: MemoryLogger['records'] = []): MemoryLogger {
  const push = (level: LogLevel) => (message: string, fields?: LogFields) => {
    records.push({level, message, fields: {...bindings, ...fields}})
  }
  return {
    records,
    debug: push('debug'),
    info: push('info'),
    warn: push('warn'),
    error: push('error'),
    child: (more) => memoryLogger({...bindings, ...more}, records),
  }
}
