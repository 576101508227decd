/**
 * What a folder run has to do, decided from what the store remembers and what the server says
 * (docs/backup.md, "The algorithm"). Pure functions: no I/O, so every rule is unit-tested.
 *
 * The store records a folder's server state (UIDNEXT, HIGHESTMODSEQ) only when every message
 * below that UIDNEXT was saved (or was gone from the server when asked for). So a stored UIDNEXT
 * means: "nothing below it is missing", and only UIDs from it up need to be looked at.
 */
import type {FolderStatus, OpenedFolder} from '../../imap/types.js'

export interface LocalState {
  /** False before the folder's first backup. */
  exists: boolean
  uidValidity?: number
  uidNext?: number
  highestModseq?: string
  /** The HIGHESTMODSEQ up to which stored flags follow the server's (docs/design.md). */
  flagsModseq?: string
  /** The HIGHESTMODSEQ up to which mirror mode removed what the server expunged. */
  mirrorModseq?: string
}

/**
 * How stored flags follow the server's (docs/backup.md, "Flags"):
 * - `always`: mirror mode or --refresh: with CONDSTORE only the changes, else every message's;
 * - `cheap` (the default): only where the server tells the changes at little cost, i.e. with
 *   CONDSTORE (RFC 7162) and a folder that has mod-sequences; otherwise as downloaded;
 * - `never`: `freeze_flags` (imap-backup's behaviour): as downloaded.
 */
export type FlagPolicy = 'always' | 'cheap' | 'never'

export interface SyncMode {
  flags: FlagPolicy
  /** Mirror mode: messages the server no longer has are removed. */
  mirror: boolean
  /** The server announces CONDSTORE (RFC 7162). */
  condstore: boolean
}

/** The policy of a run: mirror mode and --refresh always follow; `freeze_flags` never. */
export function flagPolicy(options: {mirror: boolean; refresh: boolean; freezeFlags: boolean}): FlagPolicy {
  if (options.mirror || options.refresh) return 'always'
  return options.freezeFlags ? 'never' : 'cheap'
}

/**
 * Whether the flags of a folder follow the server's in this run. `highestModseq` is the
 * folder's HIGHESTMODSEQ (STATUS or EXAMINE): absent without CONDSTORE or for a NOMODSEQ folder
 * (RFC 7162 §3.1.2.2), where only a FETCH of every message's flags could tell a change.
 */
export function flagsFollow(mode: SyncMode, highestModseq: string | undefined): boolean {
  if (mode.flags === 'always') return true
  return mode.flags === 'cheap' && mode.condstore && highestModseq !== undefined
}

/**
 * The fast path: skip the folder WITHOUT selecting it, from STATUS (or LIST-STATUS) alone.
 *
 * - UIDVALIDITY and UIDNEXT unchanged: no message was added (every new message gets a UID at or
 *   above UIDNEXT, RFC 3501 §2.3.1.1) and stored UIDs still name the same messages.
 * - If flags follow the server, or expunges matter (mirror mode), HIGHESTMODSEQ must be
 *   unchanged too: every flag change and expunge raises it (RFC 7162 §3.1.1). Without CONDSTORE
 *   that cannot be known, so the folder is examined. And the stored HIGHESTMODSEQ must be one up
 *   to which the flags were followed (`flagsModseq`) and, in mirror mode, up to which expunges
 *   were removed (`mirrorModseq`): a run that did not follow them (keep-all, `freeze_flags`)
 *   moved it on past changes it left behind.
 * - Otherwise (keep-all, flags as downloaded, nothing ever deleted) UIDNEXT is enough.
 */
export function unchangedOnServer(local: LocalState, status: FolderStatus | undefined, mode: SyncMode): boolean {
  if (!local.exists || status === undefined) return false
  if (status.uidValidity === undefined || status.uidNext === undefined) return false
  if (local.uidValidity !== status.uidValidity || local.uidNext === undefined || local.uidNext !== status.uidNext) return false
  const flags = flagsFollow(mode, status.highestModseq)
  if (!flags && !mode.mirror) return true
  if (!mode.condstore || local.highestModseq === undefined || status.highestModseq === undefined || local.highestModseq !== status.highestModseq) return false
  if (flags && local.flagsModseq !== local.highestModseq) return false
  return !mode.mirror || local.mirrorModseq === local.highestModseq
}

/**
 * The mod-sequence since which QRESYNC's VANISHED tells mirror mode everything the server
 * expunged that the backup still holds: the stored HIGHESTMODSEQ, when mirror mode removed
 * expunges up to it (`mirrorModseq`). Undefined otherwise (a keep-all run moved the state on,
 * or mirror mode never compared): then only the server's full UID set can tell.
 */
export function expungesKnownSince(local: LocalState): string | undefined {
  return local.highestModseq !== undefined && local.mirrorModseq === local.highestModseq ? local.highestModseq : undefined
}

/**
 * Whether STATUS is worth asking for a folder that LIST did not give it for: only when the answer
 * could let the folder be skipped.
 */
export function statusCouldSkip(local: LocalState, mode: SyncMode): boolean {
  if (!local.exists || local.uidNext === undefined) return false
  if (mode.flags !== 'always' && !mode.mirror) return true
  return mode.condstore && local.highestModseq !== undefined
}

/** A UIDNEXT usable as a state: some old servers omit it from SELECT (then 0 or missing). */
export function validUidNext(value: number | undefined): value is number {
  return value !== undefined && Number.isSafeInteger(value) && value > 0
}

/**
 * The stored state is "complete" for this EXAMINE: a UIDNEXT was recorded under the same
 * UIDVALIDITY, so UIDs below it need no look. Otherwise (first run, an imap-backup backup, an
 * earlier run that failed part-way) every UID of the server is compared with the stored ones.
 */
export function completeUpTo(local: LocalState, opened: Pick<OpenedFolder, 'uidValidity'>): number | undefined {
  if (!local.exists || local.uidValidity !== opened.uidValidity) return undefined
  return validUidNext(local.uidNext) ? local.uidNext : undefined
}

/**
 * The UIDs to download from a `UID SEARCH UID <from>:*` answer. RFC 3501 §6.4.8: `n:*` with n
 * above the highest UID still matches the highest message, so UIDs below `from` are dropped.
 */
export function missingAbove(found: readonly number[], from: number, has: (uid: number) => boolean): number[] {
  return uniqueAscending(found.filter((uid) => uid >= from && !has(uid)))
}

/** The UIDs to download from a `UID SEARCH ALL` answer. */
export function missingOf(found: readonly number[], has: (uid: number) => boolean): number[] {
  return uniqueAscending(found.filter((uid) => !has(uid)))
}

/**
 * The UIDs sorted, each once. A list that is so already (a server's SEARCH answer nearly always
 * is) comes back as it is, not copied: a first backup of 162,755 messages would otherwise hold
 * two more lists of that length until the next full collection.
 */
export function uniqueAscending(uids: readonly number[]): number[] {
  let ascending = true
  for (let i = 1; i < uids.length && ascending; i++) ascending = (uids[i] as number) > (uids[i - 1] as number)
  if (ascending) return uids as number[]
  const sorted = [...uids].sort((a, b) => a - b)
  return sorted.filter((uid, i) => i === 0 || uid !== sorted[i - 1])
}

/**
 * Mirror mode without QRESYNC: when is `UID SEARCH ALL` not needed to find expunged messages?
 * When the stored state is complete, UIDNEXT is unchanged (nothing was added since) and the
 * server holds exactly as many messages as the backup: the server's UIDs are then a subset of
 * the stored ones (only expunges could have happened) of the same size, so the same set.
 */
export function noExpungesPossible(complete: number | undefined, opened: Pick<OpenedFolder, 'uidNext' | 'exists'>, storedCount: number): boolean {
  return complete !== undefined && opened.uidNext === complete && opened.exists === storedCount
}

/** How messages are grouped into FETCH commands (message-fetcher.ts). */
export interface BatchLimits {
  /** UIDs per FETCH (`multi_fetch_size`). */
  messages: number
  /** Upper bound of a batch's bytes, so that a FETCH response held in memory stays small. */
  bytes: number
  /** Above this, a message is streamed on its own (`large_message_bytes`). */
  largeBytes: number
}

export type Batch = {kind: 'batch'; uids: number[]} | {kind: 'stream'; uid: number}

/**
 * The size under which a message counts as "small": a full batch of small messages stays within
 * the byte bound. Messages above it (found with `UID SEARCH LARGER`, their exact sizes with a
 * FETCH of RFC822.SIZE) are packed by their real size.
 */
export function smallLimit(limits: BatchLimits): number {
  return Math.max(1, Math.min(limits.largeBytes, Math.floor(limits.bytes / Math.max(1, limits.messages))))
}

/**
 * Groups the UIDs (ascending) into batches in UID order, so the mbox stays in UID order: a batch
 * ends at `messages` UIDs, before it would exceed `bytes` (small messages counted at the small
 * limit, others at their size), and at every large message, which is streamed alone.
 */
export function planBatches(uids: readonly number[], sizes: ReadonlyMap<number, number>, limits: BatchLimits): Batch[] {
  const small = smallLimit(limits)
  const batches: Batch[] = []
  let current: number[] = []
  let bytes = 0
  const flush = (): void => {
    if (current.length > 0) batches.push({kind: 'batch', uids: current})
    current = []
    bytes = 0
  }
  for (const uid of uids) {
    const size = sizes.get(uid) ?? small
    if (size > limits.largeBytes) {
      flush()
      batches.push({kind: 'stream', uid})
      continue
    }
    if (current.length > 0 && (current.length >= limits.messages || bytes + size > limits.bytes)) flush()
    current.push(uid)
    bytes += size
  }
  flush()
  return batches
}
