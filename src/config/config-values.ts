/**
 * The value readers of the config: each takes one JSON value, the file and the key's place, and
 * returns what mailkeep uses, refusing (ConfigError) what would lose data and warning where
 * imap-backup silently replaces a value (docs/config.md, "Compatibility with imap-backup").
 * Kept apart from parse-config.ts, which walks the file's structure.
 */
import {describeType, invalidConfig, quoteList, replacedValue, showValue} from './config-error.js'
import {DEFAULT_MULTI_FETCH_SIZE} from './defaults.js'
import {nearestTypo} from '../shared/nearest.js'

export const AS_IMAP_BACKUP = ', as imap-backup does'

/** Strings and numbers that read as "no" to a person but as true to imap-backup (Ruby truthiness). */
const FALSE_LOOKING = new Set(['', '0', 'f', 'false', 'n', 'no', 'off'])

/** imap-backup's fallback for a `multi_fetch_size` that is not a positive whole number. */
const IMAP_BACKUP_MULTI_FETCH_SIZE = 1

export type JsonObject = Record<string, unknown>

export function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

export function isSet(value: unknown): boolean {
  return value !== undefined && value !== null
}

/**
 * An enum imap-backup does not check: a value outside `allowed` is replaced by `replacement`
 * (by default the fallback used for a missing value) with a warning ending in `why`.
 */
export function oneOfOr<T extends string>(
  value: unknown,
  allowed: readonly T[],
  fallback: T,
  file: string,
  where: string,
  why: string,
  warnings: string[],
  replacement: T = fallback,
): T {
  if (value === undefined || value === null) return fallback
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T
  // imap-backup replaces any unknown value; a typo of a valid one is surely meant as that one,
  // and replacing it would change what the backup does without a word under --quiet.
  const near = typeof value === 'string' ? nearestTypo(value, allowed) : undefined
  if (near !== undefined) throw invalidConfig(file, where, `${JSON.stringify(value)} is not one of ${quoteList(allowed)}; did you mean "${near}"?`, `write "${near}"`)
  warnings.push(replacedValue(file, where, value, `is not one of ${quoteList(allowed)}`, JSON.stringify(replacement), why))
  return replacement
}

export function oneOf<T extends string>(value: unknown, allowed: readonly T[], file: string, where: string, fix: string): T | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T
  const shown = typeof value === 'string' ? JSON.stringify(value) : describeType(value)
  throw invalidConfig(file, where, `must be one of ${quoteList(allowed)}, not ${shown}`, fix)
}

export function optionalString(value: unknown, file: string, where: string, fix: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined
  if (typeof value === 'string') return value
  throw invalidConfig(file, where, `must be a string, not ${describeType(value)}`, fix)
}

/**
 * imap-backup counts every value but false and null as true (Ruby), so "true" and 1 are read as
 * true, with a warning. A value that reads as "no" to a person ("false", 0, "off") is refused:
 * imap-backup would take it as true, and for mirror_mode or folder_blacklist the two readings
 * differ in which messages are kept, so mailkeep will not pick one. Arrays and objects are not
 * flags in any reading.
 */
export function optionalBoolean(value: unknown, file: string, where: string, warnings: string[]): boolean | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'boolean') return value
  const fix = 'write true or false without quotes, or remove it for false'
  if (typeof value === 'string' || typeof value === 'number') {
    if (FALSE_LOOKING.has(String(value).trim().toLowerCase())) {
      throw invalidConfig(file, where, `must be true or false, not ${showValue(value)}, which imap-backup reads as true`, fix)
    }
    warnings.push(replacedValue(file, where, value, 'is not true or false', 'true', `${AS_IMAP_BACKUP} (it counts any value but false and null as true); write true without quotes`))
    return true
  }
  throw invalidConfig(file, where, `must be true or false, not ${describeType(value)}`, fix)
}

/** One of mailkeep's own boolean keys: true or false, nothing else (docs/config.md). */
export function strictBoolean(value: unknown, file: string, where: string, fix: string): boolean | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'boolean') return value
  throw invalidConfig(file, where, `must be true or false, not ${typeof value === 'string' || typeof value === 'number' ? showValue(value) : describeType(value)}`, fix)
}

/**
 * imap-backup reads `multi_fetch_size` with Ruby's to_i and uses 1 when the result is not
 * positive (compat §3.2): 2.5 is 2, "10" is 10, 0, -5 and "ten" are 1. true, arrays and
 * objects make imap-backup fail and are refused here too; a missing value gets mailkeep's
 * default (100).
 */
export function parseMultiFetchSize(value: unknown, file: string, where: string, warnings: string[]): number {
  if (value === undefined || value === null) return DEFAULT_MULTI_FETCH_SIZE
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value
  let whole: number | undefined
  if (typeof value === 'number' && Number.isFinite(value)) whole = Math.trunc(value)
  else if (typeof value === 'string') {
    // to_i: leading whitespace, a sign and digits; anything after them is ignored, none is 0.
    const digits = /^\s*([+-]?\d+)/.exec(value)?.[1]
    whole = digits === undefined ? 0 : Number(digits)
  }
  if (whole === undefined || !Number.isSafeInteger(whole)) {
    const shown = typeof value === 'number' ? String(value) : describeType(value)
    throw invalidConfig(file, where, `must be a positive whole number, not ${shown}`, `set a whole number of 1 or more, or remove it to use the default (${DEFAULT_MULTI_FETCH_SIZE})`)
  }
  const used = whole > 0 ? whole : IMAP_BACKUP_MULTI_FETCH_SIZE
  const problem = typeof value === 'string' ? 'is a string, not a number' : whole > 0 ? 'is not a whole number' : 'is not a positive whole number'
  const fix = whole > 0 ? `write ${used}` : `write a whole number of 1 or more, or remove it for mailkeep's default (${DEFAULT_MULTI_FETCH_SIZE})`
  warnings.push(replacedValue(file, where, value, problem, String(used), `${AS_IMAP_BACKUP}; ${fix}`))
  return used
}

export function positiveInteger(value: unknown, file: string, where: string, fallback: number): number {
  if (value === undefined || value === null) return fallback
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value
  const shown = typeof value === 'number' ? String(value) : describeType(value)
  throw invalidConfig(file, where, `must be a positive whole number, not ${shown}`, `set a whole number of 1 or more, or remove it to use the default (${fallback})`)
}

export function optionalPositiveNumber(value: unknown, file: string, where: string, fix: string): number | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value
  const shown = typeof value === 'number' ? String(value) : describeType(value)
  throw invalidConfig(file, where, `must be a positive number of seconds, not ${shown}`, fix)
}

export function positiveNumber(value: unknown, file: string, where: string, fallback: number): number {
  if (value === undefined || value === null) return fallback
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value
  const shown = typeof value === 'number' ? String(value) : describeType(value)
  throw invalidConfig(file, where, `must be a positive number, not ${shown}`, `set a number greater than 0, or remove it to use the default (${fallback})`)
}

