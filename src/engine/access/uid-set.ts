/**
 * UID sets as IMAP sends them (RFC 3501 §9, `sequence-set`): ascending UIDs compressed into
 * ranges, so that a batch of 100 consecutive UIDs is `1:100` and not a 600-byte comma list.
 */

/** `[1,2,3,5,7,8]` → `1:3,5,7:8`. The input must be sorted ascending and non-empty. */
export function uidSet(sortedUids: readonly number[]): string {
  if (sortedUids.length === 0) throw new Error('uidSet of no UIDs')
  const parts: string[] = []
  let start = sortedUids[0]!
  let prev = start
  for (let i = 1; i <= sortedUids.length; i++) {
    const uid = sortedUids[i]
    if (uid !== undefined && uid === prev + 1) {
      prev = uid
      continue
    }
    parts.push(start === prev ? String(start) : `${start}:${prev}`)
    if (uid !== undefined) start = prev = uid
  }
  return parts.join(',')
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
