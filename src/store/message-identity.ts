/**
 * Which backed-up entries of one folder are one message, and what an upload must append because
 * of it (docs/upload-maps.md, U7: a destination never holds more copies of a message than the
 * backup holds).
 *
 * A message can be in a backup twice without being two messages. Restore puts a backed-up
 * message back on the account's own server, where it gets a new UID (RFC 3501 §2.3.1.1: a UID is
 * never given twice under one UIDVALIDITY); the next backup downloads that copy under its new
 * UID. The backup then holds the original entry (kept although the server deleted it) and the
 * copy: two entries, one message. Counting them as two is what doubled mail on every restore →
 * backup cycle (issue 11 item 1): the next restore found the copy's UID mapped to nothing and
 * appended it again, and a restore to another account appended both.
 *
 * The identity is the pair of UIDs, never the content: two byte-identical messages the user had
 * on the server are two messages, and each gets its copy. A pair `[copy, original]` is known
 *
 * - from the folder's metadata (`mailkeep_restored`): the backup that downloaded the copy
 *   recorded it, so it outlives the restore map (a later UIDVALIDITY change resets the map and
 *   moves the backup aside with its metadata);
 * - from the folder's own restore map: its entry for the backed-up account itself and the folder
 *   itself, under the folder's UIDVALIDITY on both sides, maps `original → copy`, and `copy` is a
 *   stored UID. That is the same server message (one UIDVALIDITY, one UID), so it holds also for
 *   a copy found after a crash, recorded after the backup downloaded it.
 */
import type {UploadMapEntry} from './upload-map.js'

export type CopyPair = readonly [copy: number, original: number]

/** Classes of UIDs that are one message (union-find over the pairs). */
export class MessageIdentity {
  private readonly parent = new Map<number, number>()
  private classes: Map<number, number[]> | undefined

  constructor(pairs: Iterable<CopyPair> = []) {
    for (const [a, b] of pairs) {
      const ra = this.root(a)
      const rb = this.root(b)
      if (ra !== rb) this.parent.set(Math.max(ra, rb), Math.min(ra, rb))
    }
  }

  /** True when no two UIDs are one message (the common case: nothing was ever restored here). */
  get trivial(): boolean {
    return this.parent.size === 0
  }

  /** Every UID known to be the same message as `uid`, `uid` included, ascending. */
  members(uid: number): readonly number[] {
    if (!this.parent.has(uid)) {
      // Only a root can be a class of more than one without having a parent itself.
      const group = this.groups().get(uid)
      return group ?? [uid]
    }
    return this.groups().get(this.root(uid))!
  }

  private root(uid: number): number {
    let r = uid
    for (let p = this.parent.get(r); p !== undefined; p = this.parent.get(r)) r = p
    // Path compression: later lookups are O(1).
    for (let u = uid, p = this.parent.get(u); p !== undefined && p !== r; u = p, p = this.parent.get(u)) this.parent.set(u, r)
    return r
  }

  private groups(): Map<number, number[]> {
    if (this.classes !== undefined) return this.classes
    const out = new Map<number, number[]>()
    for (const uid of this.parent.keys()) {
      const r = this.root(uid)
      const group = out.get(r) ?? [r]
      group.push(uid)
      out.set(r, group)
    }
    for (const group of out.values()) group.sort((a, b) => a - b)
    this.classes = out
    return out
  }
}

/**
 * The `[copy, original]` pairs a folder's own restore map shows: `entry` is that map's entry for
 * the backed-up account and the folder itself (undefined when there is none); it counts only
 * under the folder's UIDVALIDITY on both sides, so that its destination UIDs are the folder's
 * own UIDs. `stored` says which UIDs the backup holds.
 */
export function restoredCopiesIn(entry: UploadMapEntry | undefined, uidValidity: number | undefined, stored: (uid: number) => boolean): CopyPair[] {
  if (entry === undefined || uidValidity === undefined) return []
  // A clash folder's entry (restore-target.ts) records copies in a folder that is not this one.
  if (entry.clash) return []
  if (entry.sourceUidValidity !== uidValidity || entry.destinationUidValidity !== uidValidity) return []
  const pairs: CopyPair[] = []
  for (const [original, copy] of entry.map) if (copy !== original && stored(copy)) pairs.push([copy, original])
  return pairs
}

/** Whether a copy of the message `uid` is on the destination: one of its entries is mapped. */
export function onDestination(uid: number, identity: MessageIdentity, mapped: (uid: number) => boolean): boolean {
  return identity.members(uid).some(mapped)
}

/**
 * The upload decision (U7): of `sourceUids`, the ones to append, ascending. A message one of
 * whose entries is mapped has its copy already and gets none; a message of several entries gets
 * one copy, of its newest entry (the last that a backup saw on the server, with the flags it had
 * then). Entries not in `sourceUids` still count as mapped.
 */
export function toAppend(sourceUids: readonly number[], identity: MessageIdentity, mapped: (uid: number) => boolean): number[] {
  if (identity.trivial) return sourceUids.filter((u) => !mapped(u))
  const chosen = new Map<number, number>()
  for (const uid of sourceUids) {
    const members = identity.members(uid)
    if (members.some(mapped)) continue
    const key = members[0]!
    chosen.set(key, Math.max(chosen.get(key) ?? 0, uid))
  }
  return [...chosen.values()].sort((a, b) => a - b)
}
