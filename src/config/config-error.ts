/**
 * Builders for the one-line messages of ConfigError: each names the file, the key (as a JSON
 * path such as `accounts[1].multi_fetch_size`) and the fix. Values are described by their type,
 * never echoed, except where the caller knows the value is not secret (numbers, enum values).
 */
import {ConfigError} from '../shared/errors.js'

/** `Config file '<file>': <where>: <problem>; <fix>` */
export function invalidConfig(file: string, where: string, problem: string, fix: string): ConfigError {
  return new ConfigError(`Config file '${file}': ${where}: ${problem}; ${fix}`)
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
