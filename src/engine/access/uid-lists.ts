/**
 * Helpers for lists of UIDs in the engine: slicing them for commands of bounded length, sorting.
 * A UID set on the wire (RFC 3501 §9 `sequence-set`: `[1,2,3,5,7,8]` → `1:3,5,7:8`) is made by
 * the IMAP layer's one codec, `compactUidSet` (src/imap/uid-set.ts); the session refuses an empty
 * or malformed one.
 */

/** Splits an array into slices of at most `size` elements. */
export function slices<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/** For `sort`: numbers in ascending order. */
export function ascending(a: number, b: number): number {
  return a - b
}
