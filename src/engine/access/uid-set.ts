/**
 * Helpers for UID lists in the engine. The UID-set codec itself (RFC 3501 §9 `sequence-set`:
 * `[1,2,3,5,7,8]` → `1:3,5,7:8`) is the IMAP layer's one implementation, `compactUidSet`
 * (src/imap/uid-set.ts).
 */
import {compactUidSet} from '../../imap/index.js'

/**
 * `compactUidSet` for a list that must not be empty (an empty set is not a valid `sequence-set`,
 * so asking for one is a bug of the caller). Kept for the backup's fetcher and repair, which
 * call it by this name.
 */
export function uidSet(uids: readonly number[]): string {
  if (uids.length === 0) throw new Error('uidSet of no UIDs')
  return compactUidSet(uids)
}

/** Splits an array into slices of at most `size` elements. */
export function slices<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

export function ascending(a: number, b: number): number {
  return a - b
}
