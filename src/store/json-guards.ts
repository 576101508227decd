/** Type guards for values read from the store's JSON files (`.imap`, `.mirror`, `.restore`). */

/** A JSON object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** A whole number ≥ 1 that a double holds exactly: a UID, a UIDVALIDITY. */
export function isPositiveInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0
}

/** A whole number ≥ 0 that a double holds exactly: an offset, a length, a count. */
export function isNonNegativeInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}
