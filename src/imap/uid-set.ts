/**
 * UID sets (RFC 3501 §9 `sequence-set`) as the adapter needs them: check a set before it goes
 * on the wire, test membership, expand a set the server sent (VANISHED) and compact a list.
 *
 * `*` means "the largest UID in use" (RFC 3501 §6.4.8), so `n:*` always matches the highest
 * message, even one below n. mailkeep always means "n and above" by `n:*`: the adapter treats
 * `*` as unbounded and drops a response outside the set (`contains`), so asking for `uidNext:*`
 * on an unchanged folder yields nothing instead of the last message again.
 */

const PART = /^(\d+|\*)(?::(\d+|\*))?$/

/** Ceiling for expanding a set received from a server (a hostile `1:4294967295`). */
export const MAX_EXPANDED = 0x1000000

export function isValidUidSet(set: string): boolean {
  return set.length > 0 && set.split(',').every((part) => {
    const m = PART.exec(part)
    return m !== null && m[1] !== '0' && m[2] !== '0'
  })
}

interface Range {
  low: number
  high: number
}

function ranges(set: string): Range[] {
  return set.split(',').map((part) => {
    const m = PART.exec(part)
    if (!m) throw new Error(`invalid UID set ${JSON.stringify(set)}`)
    const a = m[1] === '*' ? Infinity : Number(m[1])
    const b = m[2] === undefined ? a : m[2] === '*' ? Infinity : Number(m[2])
    return {low: Math.min(a, b), high: Math.max(a, b)}
  })
}

/** A membership test for `set`, with `*` read as unbounded (see above). */
export function uidSetMatcher(set: string): (uid: number) => boolean {
  const list = ranges(set)
  return (uid) => list.some((r) => uid >= r.low && uid <= r.high)
}

/** Expands a set the server sent (`1:3,7`); rejects `*` and absurd sizes. */
export function expandUidSet(set: string, limit = MAX_EXPANDED): number[] {
  const out: number[] = []
  for (const r of ranges(set)) {
    if (!Number.isFinite(r.high)) throw new Error(`unexpected '*' in ${JSON.stringify(set)}`)
    if (out.length + (r.high - r.low + 1) > limit) throw new Error(`UID set ${JSON.stringify(set.slice(0, 60))} has more than ${limit} members`)
    for (let n = r.low; n <= r.high; n++) out.push(n)
  }
  return out
}

/** `1:3,7,9:10` from any list of UIDs. */
export function compactUidSet(uids: readonly number[]): string {
  const sorted = [...new Set(uids)].sort((a, b) => a - b)
  const parts: string[] = []
  for (let i = 0; i < sorted.length; ) {
    let j = i
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}:${sorted[j]}`)
    i = j + 1
  }
  return parts.join(',')
}
