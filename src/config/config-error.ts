/**
 * Builders for the one-line messages of ConfigError and of the loader's warnings: each names the
 * file, the key (as a JSON path such as `accounts[1].multi_fetch_size`) and the fix. Values are
 * described by their type, never echoed, except where the caller knows the value is not secret
 * (numbers, enum values, the settings imap-backup coerces).
 */
import {ConfigError} from '../shared/errors.js'

/** `Config file '<file>': <where>: <problem>; <fix>` */
export function invalidConfig(file: string, where: string, problem: string, fix: string): ConfigError {
  return new ConfigError(`Config file '${file}': ${where}: ${problem}; ${fix}`)
}

/**
 * A value imap-backup accepts and silently replaces, read the same way:
 * `Config file '<file>': <where>: <value> <problem>; using <used> instead<why>`.
 */
export function replacedValue(file: string, where: string, value: unknown, problem: string, used: string, why: string): string {
  return `Config file '${file}': ${where}: ${showValue(value)} ${problem}; using ${used} instead${why}`
}

/**
 * A value for a message about a key that never holds a secret: numbers and booleans as they
 * are, strings quoted and cut to 40 characters, other types by name.
 */
export function showValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  return describeType(value)
}

/** `accounts[1].multi_fetch_size (me@example.com)`; the username is not secret. */
export function accountKey(index: number, key: string | undefined, username: string | undefined): string {
  const path = key === undefined ? `accounts[${index}]` : `accounts[${index}].${key}`
  return username === undefined ? path : `${path} (${username})`
}

/** The JSON type of a value in words, for "must be X, not Y" messages. */
export function describeType(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  switch (typeof value) {
    case 'string':
      return 'a string'
    case 'number':
      return 'a number'
    case 'boolean':
      return value ? 'true' : 'false'
    case 'object':
      return 'an object'
    default:
      return typeof value
  }
}

export function quoteList(values: readonly string[]): string {
  return values.map((v) => JSON.stringify(v)).join(', ')
}
