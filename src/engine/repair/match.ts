/**
 * Matching the messages found in a folder's mbox to the server's messages, for `local repair`
 * (docs/repair.md, "Recovering UIDs"). Pure: no I/O, so every rule is unit-tested.
 *
 * A local message gets a server UID only when the server's message is certainly the same one:
 *
 * 1. A UID salvaged from the damaged metadata (same UIDVALIDITY) is kept when the server's
 *    message with that UID agrees with the entry (size range, Message-ID, Date), or when the
 *    server no longer has that UID at all (the message was deleted there: keep-all mode keeps it
 *    under its original UID).
 * 2. A Message-ID (RFC 5322 §3.6.4) shared with a server message whose size fits the entry and
 *    whose Date agrees. Several such server messages (the same message appended twice) are taken
 *    in UID order, as the mbox holds them in UID order.
 * 3. Without a Message-ID: only when exactly one server message without a Message-ID has the
 *    same Date and a fitting size, and no other local message fits it.
 *
 * 0. An ignore-history placeholder (`placeholderUid`: the entry is exactly the placeholder that
 *    `utils ignore-history` writes for that UID) is never matched to a message: it takes the UID
 *    it names, when the server has that UID (it stands for that message) or the UID is below
 *    UIDNEXT (the message is gone, and the UID is never given again). Otherwise it is kept like
 *    any message that matches nothing (4).
 *
 * Every other message is KEPT, under a UID that the server can never give a message: one below
 * the folder's UIDNEXT that the server does not have (RFC 3501 §2.3.1.1: UIDs are assigned in
 * strictly ascending order, so a UID below UIDNEXT that is not in use now never will be). A later
 * backup therefore neither skips a server message (no stored UID names a different server
 * message) nor downloads one that was matched. If there are not enough such UIDs, a second copy
 * of a matched message shares that message's UID (as imap-backup's duplicates do); any other
 * message cannot be placed safely (`unplaced`) and the caller falls back to placeholders.
 */

export interface LocalCandidate {
  /** Position in the mbox (entries are given in mbox order). */
  index: number
  messageId?: string
  date?: string
  /** Range of original sizes the entry can have been written from. */
  sizeMin: number
  sizeMax: number
  /** A salvaged exactness record's size and INTERNALDATE (Unix seconds), when it decodes the entry. */
  exactSize?: number
  internalDate?: number | null
  /** A UID from the damaged metadata (same UIDVALIDITY as the server's). */
  salvagedUid?: number
  /** An incomplete (torn) entry in the middle: never matched. */
  incomplete?: boolean
  /** The entry is ignore-history's placeholder for this UID: only ever given that UID (rule 0). */
  placeholderUid?: number
}

export interface ServerCandidate {
  uid: number
  size: number
  internalDate: number | null
  messageId?: string
  date?: string
}

export type MatchReason = 'salvaged-uid' | 'message-id' | 'date-and-size' | 'placeholder'
export type KeptReason = 'not-on-server' | 'no-match' | 'ambiguous' | 'duplicate' | 'incomplete'

export type Assignment =
  | {kind: 'matched'; uid: number; reason: MatchReason}
  | {kind: 'kept'; uid: number; reason: KeptReason}
  | {kind: 'unplaced'; reason: KeptReason}

export interface MatchInput {
  local: readonly LocalCandidate[]
  server: readonly ServerCandidate[]
  /** The server's UIDNEXT, read before the server's messages were listed. */
  uidNext: number
  /** UIDs the folder already holds (messages kept as they are): never given again. */
  reserved?: readonly number[]
}

export function matchMessages(input: MatchInput): Assignment[] {
  const {local, server, uidNext} = input
  const byUid = new Map(server.map((s) => [s.uid, s]))
  const claimed = new Set<number>(input.reserved ?? [])
  const result: Array<Assignment | undefined> = new Array(local.length).fill(undefined)
  const why = new Map<number, KeptReason>()
  /** A second copy of an already matched message: the UID of that message. */
  const twins = new Map<number, number>()

  // 0. ignore-history's placeholders: the UID each names, never a message's.
  for (const l of local) {
    const u = l.placeholderUid
    if (u === undefined || l.incomplete === true) continue
    why.set(l.index, 'no-match')
    if (claimed.has(u)) continue
    if (byUid.has(u)) claim(l.index, {kind: 'matched', uid: u, reason: 'placeholder'})
    else if (u < uidNext) claim(l.index, {kind: 'kept', uid: u, reason: 'not-on-server'})
  }

  // 1. Salvaged UIDs.
  for (const l of local) {
    if (l.salvagedUid === undefined || l.incomplete === true || l.placeholderUid !== undefined) continue
    const u = l.salvagedUid
    if (claimed.has(u)) continue
    const s = byUid.get(u)
    if (s !== undefined) {
      // A UID names one message for as long as UIDVALIDITY stays (RFC 3501 §2.3.1.1), and that
      // message's INTERNALDATE never changes: when the size, Message-ID and Date agree and only a
      // salvaged INTERNALDATE does not, the damaged file's record is what is wrong.
      if (fits(l, s, false)) claim(l.index, {kind: 'matched', uid: u, reason: 'salvaged-uid'})
    } else if (u < uidNext) {
      claim(l.index, {kind: 'kept', uid: u, reason: 'not-on-server'})
    }
  }

  // 2. Message-ID, in mbox order, preferring the next server UID after the last one matched.
  const byMessageId = new Map<string, ServerCandidate[]>()
  const withoutId: ServerCandidate[] = []
  for (const s of [...server].sort((a, b) => a.uid - b.uid)) {
    if (s.messageId === undefined) withoutId.push(s)
    else {
      const list = byMessageId.get(s.messageId) ?? []
      list.push(s)
      byMessageId.set(s.messageId, list)
    }
  }
  let lastUid = 0
  for (const l of local) {
    const done = result[l.index]
    if (done !== undefined) {
      if (done.kind === 'matched') lastUid = done.uid
      continue
    }
    if (l.incomplete === true) {
      why.set(l.index, 'incomplete')
      continue
    }
    if (l.messageId === undefined || l.placeholderUid !== undefined) continue
    const candidates = fitting(l, byMessageId.get(l.messageId) ?? [])
    const free = candidates.filter((s) => !claimed.has(s.uid))
    if (free.length === 0) {
      why.set(l.index, candidates.length > 0 ? 'duplicate' : byMessageId.has(l.messageId) ? 'no-match' : 'not-on-server')
      if (candidates.length > 0) twins.set(l.index, candidates[candidates.length - 1]!.uid)
      continue
    }
    const pick = free.find((s) => s.uid > lastUid) ?? free[0]!
    claim(l.index, {kind: 'matched', uid: pick.uid, reason: 'message-id'})
    lastUid = pick.uid
  }

  // 3. No Message-ID: Date and size, only when unambiguous both ways.
  const weak = local.filter((l) => result[l.index] === undefined && l.messageId === undefined && l.incomplete !== true && l.placeholderUid === undefined)
  for (let progress = true; progress; ) {
    progress = false
    for (const l of weak) {
      if (result[l.index] !== undefined) continue
      const options = fitting(l, withoutId.filter((s) => !claimed.has(s.uid)))
      if (options.length === 0) {
        why.set(l.index, 'not-on-server')
        continue
      }
      const s = options[0]!
      const rivals = weak.filter((o) => result[o.index] === undefined && fits(o, s, false))
      if (options.length === 1 && rivals.length === 1) {
        claim(l.index, {kind: 'matched', uid: s.uid, reason: 'date-and-size'})
        progress = true
      } else {
        why.set(l.index, 'ambiguous')
      }
    }
  }

  // 4. Keep the rest under UIDs the server can never use, near their neighbours when possible.
  const free = new FreeUids(uidNext, [...byUid.keys(), ...claimed])
  const nextAssigned = new Array<number | undefined>(local.length).fill(undefined)
  let following: number | undefined
  for (let i = local.length - 1; i >= 0; i--) {
    nextAssigned[i] = following
    const a = result[local[i]!.index]
    if (a !== undefined && a.kind !== 'unplaced') following = a.uid
  }
  let previous = 0
  for (let i = 0; i < local.length; i++) {
    const l = local[i]!
    const a = result[l.index]
    if (a !== undefined) {
      if (a.kind !== 'unplaced') previous = a.uid
      continue
    }
    const reason = why.get(l.index) ?? 'no-match'
    const upper = nextAssigned[i] ?? uidNext
    let uid = free.firstFrom(previous + 1)
    if (uid === undefined || uid >= upper) uid = free.firstFrom(1)
    if (uid === undefined) {
      // No free UID below UIDNEXT (the server's UIDs are contiguous). A second copy of a matched
      // message may share its UID, as imap-backup's duplicates do: it names the same message,
      // so a later backup neither skips nor downloads anything because of it.
      const twin = twins.get(l.index)
      result[l.index] = twin === undefined ? {kind: 'unplaced', reason} : {kind: 'kept', uid: twin, reason}
      continue
    }
    free.take(uid)
    result[l.index] = {kind: 'kept', uid, reason}
    previous = uid
  }
  return result.map((a) => a ?? {kind: 'unplaced', reason: 'no-match'})

  function claim(index: number, assignment: Assignment & {uid: number}): void {
    result[index] = assignment
    claimed.add(assignment.uid)
  }
}

/**
 * The server message can be the one stored in the entry. A salvaged INTERNALDATE is checked only
 * when `withInternalDate`: it comes from a damaged file and no decoding vouches for it (a garbled
 * digit in it still decodes the entry), so it may pick among messages but never rule one out.
 */
function fits(l: LocalCandidate, s: ServerCandidate, withInternalDate = true): boolean {
  if (l.exactSize !== undefined ? s.size !== l.exactSize : s.size < l.sizeMin || s.size > l.sizeMax) return false
  if (l.messageId !== s.messageId) return false
  if (l.date !== s.date) return false
  if (withInternalDate && l.internalDate !== undefined && l.internalDate !== null && s.internalDate !== null && l.internalDate !== s.internalDate) return false
  return true
}

/**
 * The server messages that fit the entry: those whose INTERNALDATE also agrees with a salvaged
 * one if any do (it tells apart a message appended twice), else those that fit otherwise.
 */
function fitting(l: LocalCandidate, servers: readonly ServerCandidate[]): ServerCandidate[] {
  const loose = servers.filter((s) => fits(l, s, false))
  const strict = loose.filter((s) => fits(l, s))
  return strict.length > 0 ? strict : loose
}

/**
 * UIDs from 1 to uidNext − 1 that are not used, found without listing them (UIDNEXT may be in
 * the millions): the used UIDs as sorted, maximal runs, searched by bisection.
 */
export class FreeUids {
  private readonly starts: number[] = []
  private readonly ends: number[] = []

  constructor(
    private readonly uidNext: number,
    used: Iterable<number>,
  ) {
    const sorted = [...new Set(used)].sort((a, b) => a - b)
    for (const uid of sorted) {
      const last = this.ends.length - 1
      if (last >= 0 && this.ends[last] === uid - 1) this.ends[last] = uid
      else {
        this.starts.push(uid)
        this.ends.push(uid)
      }
    }
  }

  take(uid: number): void {
    const i = this.runAtOrBefore(uid)
    if (i >= 0 && this.ends[i]! >= uid) return
    const joinsPrevious = i >= 0 && this.ends[i] === uid - 1
    const joinsNext = i + 1 < this.starts.length && this.starts[i + 1] === uid + 1
    if (joinsPrevious && joinsNext) {
      this.ends[i] = this.ends[i + 1]!
      this.starts.splice(i + 1, 1)
      this.ends.splice(i + 1, 1)
    } else if (joinsPrevious) this.ends[i] = uid
    else if (joinsNext) this.starts[i + 1] = uid
    else {
      this.starts.splice(i + 1, 0, uid)
      this.ends.splice(i + 1, 0, uid)
    }
  }

  /** The smallest free UID ≥ from and < uidNext, if any. */
  firstFrom(from: number): number | undefined {
    let uid = Math.max(1, from)
    const i = this.runAtOrBefore(uid)
    if (i >= 0 && this.ends[i]! >= uid) uid = this.ends[i]! + 1
    return uid < this.uidNext ? uid : undefined
  }

  /** Index of the last run starting at or before uid, or −1. */
  private runAtOrBefore(uid: number): number {
    let low = 0
    let high = this.starts.length - 1
    let found = -1
    while (low <= high) {
      const mid = (low + high) >> 1
      if (this.starts[mid]! <= uid) {
        found = mid
        low = mid + 1
      } else high = mid - 1
    }
    return found
  }
}
