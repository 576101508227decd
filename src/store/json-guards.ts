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

/**
 * The text parsed as a JSON object, or the error `damaged(what, cause)` makes: `is not valid JSON
 * (…)` or `is not a JSON object` (the store's JSON files: `.imap`, the exactness file).
 */
export function parseJsonObject(text: string, damaged: (what: string, cause?: unknown) => Error): Record<string, unknown> {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (error) {
    throw damaged(`is not valid JSON (${(error as Error).message})`, error)
  }
  if (!isObject(data)) throw damaged('is not a JSON object')
  return data
}
