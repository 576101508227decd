/**
 * Downloads new messages of the examined folder into the folder's transaction
 * (docs/backup.md, "Downloading").
 *
 * - Only BODY.PEEK[] (via the IMAP layer), so nothing is marked read on a compliant server.
 * - Messages above `large_message_bytes` are streamed to the mbox chunk by chunk, never held.
 * - The rest go in batches of `multi_fetch_size` UIDs, appended as they arrive. The IMAP layer
 *   hands FETCH responses over one at a time with backpressure (docs/imap.md, "Buffering"), so a
 *   batch holds about one message in memory, not the batch. Still, as a safety net a batch is
 *   bounded in bytes (BatchLimits.bytes): one `UID SEARCH UID a:b LARGER n` (RFC 3501 §6.4.4)
 *   per folder finds the messages above the "small" limit (usually none), whose RFC822.SIZE is
 *   then fetched, so there is no size pre-pass over every message (docs/backup.md, "Why no size
 *   pre-pass"); those above `large_message_bytes` are streamed.
 * - A message the server no longer has (expunged meanwhile) is skipped; one it refuses to send is
 *   recorded with its UID and reason, and the others are still fetched.
 * - A batch whose answer brings a literal over the session's limit (OversizedResponseError,
 *   src/imap/limits.ts: a message SEARCH LARGER missed, or a hostile server) closes the
 *   connection; its messages are then downloaded one by one in chunks, on a new connection
 *   (OversizedMessages, ReconnectForLiteral). One that brings such a literal even for a chunk is
 *   recorded as failed with the reason, and not tried again in this run.
 */
import {compactUidSet, OversizedResponseError} from '../../imap/index.js'
import type {ImapSession} from '../../imap/types.js'
import {MissingFolderError, RemoteError, TransientImapError} from '../../shared/errors.js'
import {throwIfAborted} from '../../shared/context.js'
import type {Logger} from '../../shared/logger.js'
import {planBatches, smallLimit, uniqueAscending, type BatchLimits} from './folder-plan.js'
import type {FolderRun} from './folder-run.js'
import {slices} from '../access/uid-lists.js'

export interface FetchEnv {
  run: FolderRun
  session: ImapSession
  folder: string
  /** UIDVALIDITY of the EXAMINE this download belongs to. */
  uidValidity: number
  limits: BatchLimits
  /** `reset_seen_flags_after_fetch` (compat §6.4). */
  resetSeen: boolean
  signal: AbortSignal
  logger: Logger
  /** What literals over the limit taught this folder's backup (kept across reconnects). */
  oversized: OversizedMessages
}

/**
 * The messages of a folder whose answers brought a literal over the session's limit, for the
 * rest of the folder's backup in this run (its attempts on new connections). Each time one is
 * met a UID moves on (fetched whole → in chunks → given up), so the reconnects it causes are
 * bounded by twice the folder's new messages.
 */
export class OversizedMessages {
  /** Fetched whole, their batch brought a literal over the limit: downloaded in chunks instead. */
  readonly chunked = new Set<number>()
  /** A chunk brought a literal over the limit too: recorded as failed, not tried again. */
  readonly givenUp = new Map<number, string>()
  private uidValidity: number | undefined

  /** UIDs mean something only under one UIDVALIDITY (RFC 3501 §2.3.1.1): forgets all on a change. */
  forUidValidity(uidValidity: number): this {
    if (this.uidValidity !== uidValidity) {
      this.chunked.clear()
      this.givenUp.clear()
      this.uidValidity = uidValidity
    }
    return this
  }
}

/**
 * A literal over the limit closed the connection; the folder goes on with a new one, downloading
 * the messages concerned differently (OversizedMessages). Transient: the same work succeeds on a
 * new connection. The folder's reconnect loop does not count it as a failure, since every one
 * moves a UID on (folder-backup.ts).
 */
export class ReconnectForLiteral extends TransientImapError {}

/** The SELECT/EXAMINE of reset-seen found the folder's UIDVALIDITY changed: start it again. */
export class FolderChangedError extends RemoteError {
  constructor(folder: string) {
    super(`the UIDVALIDITY of '${folder}' changed during the backup`)
  }
}

const SUMMARY_SLICE = 1000

/** Downloads `uids` (ascending, none stored yet). */
export async function downloadMessages(env: FetchEnv, all: readonly number[]): Promise<void> {
  const {givenUp, chunked} = env.oversized
  // Given up in an earlier attempt of this run: still reported, not fetched again.
  for (const uid of all) {
    const reason = givenUp.get(uid)
    if (reason !== undefined && !env.run.has(uid)) env.run.failed.set(uid, reason)
  }
  const uids = givenUp.size === 0 ? all : all.filter((uid) => !givenUp.has(uid))
  if (uids.length === 0) return
  env.run.reserve(uids.length)
  const sizes = await sizesOfBigMessages(env, uids)
  // Above the large limit, so that planBatches streams them.
  for (const uid of uids) if (chunked.has(uid)) sizes.set(uid, Math.max(sizes.get(uid) ?? 0, env.limits.largeBytes + 1))
  for (const batch of planBatches(uids, sizes, env.limits)) {
    throwIfAborted(env.signal)
    if (batch.kind === 'stream') await streamOne(env, batch.uid)
    else await fetchBatch(env, batch.uids.filter((uid) => !env.run.has(uid)))
  }
}

/**
 * RFC822.SIZE of the messages above the "small" limit: one `UID SEARCH UID a:b LARGER n` finds
 * them (the server answers with a few UIDs, usually none), then one FETCH of summaries for those.
 */
async function sizesOfBigMessages(env: FetchEnv, uids: readonly number[]): Promise<Map<number, number>> {
  const sizes = new Map<number, number>()
  const range = `${uids[0]!}:${uids[uids.length - 1]!}`
  const limit = smallLimit(env.limits)
  // `uids` ascends (folder-backup.ts): a binary search, not a Set of every UID to download.
  const found = uniqueAscending((await env.session.searchUids({uidRange: range, larger: limit})).filter((uid) => includes(uids, uid)))
  if (limit >= env.limits.largeBytes) {
    // Only "large" matters: each one found is streamed, its exact size is not needed.
    for (const uid of found) sizes.set(uid, env.limits.largeBytes + 1)
    return sizes
  }
  for (const slice of slices(found, SUMMARY_SLICE)) {
    for await (const summary of env.session.fetchSummaries(compactUidSet(slice))) sizes.set(summary.uid, summary.size)
  }
  // Found by LARGER but no size came back (expunged meanwhile?): stream it, the safe way.
  for (const uid of found) if (!sizes.has(uid)) sizes.set(uid, env.limits.largeBytes + 1)
  return sizes
}

async function fetchBatch(env: FetchEnv, uids: number[]): Promise<void> {
  if (uids.length === 0) return
  const unseenBefore = env.resetSeen ? await unseenAmong(env, uids) : undefined
  await fetchSet(env, uids, unseenBefore)
  if (unseenBefore !== undefined && unseenBefore.size > 0) await restoreUnseen(env, uids, unseenBefore)
}

/** One UID FETCH of BODY.PEEK[]; what did not come back is looked at one by one. */
async function fetchSet(env: FetchEnv, uids: number[], unseenBefore: ReadonlySet<number> | undefined): Promise<void> {
  const {run} = env
  const wanted = new Set(uids)
  for (const uid of uids) run.failed.delete(uid) // a failure of an earlier attempt is retried now
  let refused: RemoteError | undefined
  await run.prepare()
  try {
    // Each message's bytes go from the connection to the mbox as they arrive (docs/imap.md, "The
    // FETCH tap"); flags and date come with its end.
    await env.session.streamMessages(compactUidSet(uids), {
      open: (uid, size) => {
        if (!wanted.has(uid) || run.has(uid)) return undefined // not asked for, or sent twice
        return run.openMessage(uid, size, (summary) => ({uid, flags: withoutSeen(summary.flags, unseenBefore?.has(uid) === true), internalDate: summary.internalDate}))
      },
    })
  } catch (error) {
    if (error instanceof OversizedResponseError) {
      // Which message it was is unknown (the literal was refused at its announcement): every
      // one of the batch not saved yet is downloaded in chunks, which no limit can stop.
      const rest = uids.filter((uid) => !run.has(uid))
      // Nothing left to download differently: a reconnect would change nothing.
      if (rest.length === 0) throw error
      for (const uid of rest) env.oversized.chunked.add(uid)
      throw new ReconnectForLiteral(
        `${error.message}; reconnecting to download ${rest.length === 1 ? `UID ${rest[0]}` : `the ${rest.length} messages of that batch`} in chunks`,
        {cause: error},
      )
    }
    if (!isRefusal(error)) throw error
    refused = error
  }
  const missing = uids.filter((uid) => !run.has(uid) && !run.failed.has(uid))
  if (missing.length === 0) return
  const present = await stillOnServer(env, missing)
  for (const uid of missing) {
    if (!present.has(uid)) env.logger.debug(`message UID ${uid} is no longer on the server (expunged meanwhile); skipped`, {uid})
  }
  const retry = missing.filter((uid) => present.has(uid))
  if (retry.length === 0) return
  if (uids.length > 1) {
    // One message the server cannot send must not cost the others (imap-backup falls back to
    // single fetches too, compat §6.4).
    env.logger.debug(`${retry.length} message(s) of a batch did not come back${refused === undefined ? '' : ` (${refused.message})`}; fetching them one by one`)
    for (const uid of retry) await fetchSet(env, [uid], unseenBefore)
    return
  }
  const uid = retry[0]!
  run.failMessage(uid, refused === undefined ? 'the server did not return the message although it still has it' : `the server did not send it: ${refused.message}`)
}

async function streamOne(env: FetchEnv, uid: number): Promise<void> {
  if (env.run.has(uid)) return
  env.run.failed.delete(uid) // a failure of an earlier attempt is retried now
  const unseenBefore = env.resetSeen ? await unseenAmong(env, [uid]) : undefined
  let download
  try {
    download = await env.session.downloadMessage(uid)
  } catch (error) {
    if (error instanceof OversizedResponseError) throw giveUp(env, uid, error)
    if (!isRefusal(error)) throw error
    env.run.failMessage(uid, `the server did not send it: ${error.message}`)
    return
  }
  if (download === null) {
    env.logger.debug(`message UID ${uid} is no longer on the server (expunged meanwhile); skipped`, {uid})
    return
  }
  const {summary, chunks} = download
  env.logger.debug(`streaming message UID ${uid} (${summary.size} bytes)`, {uid, bytes: summary.size})
  const flags = withoutSeen(summary.flags, unseenBefore?.has(uid) === true)
  let appended: boolean
  try {
    appended = await env.run.appendStream({uid, flags, internalDate: summary.internalDate}, chunks, summary.size)
  } catch (error) {
    if (error instanceof OversizedResponseError) throw giveUp(env, uid, error)
    throw error
  }
  if (!appended) {
    // Expunged while it was being downloaded: not a failure (the partial entry is already cut off).
    if (!(await stillOnServer(env, [uid])).has(uid)) {
      env.run.failed.delete(uid)
      env.logger.debug(`message UID ${uid} was expunged during its download; skipped`, {uid})
    }
    return
  }
  if (unseenBefore !== undefined && unseenBefore.size > 0) await restoreUnseen(env, [uid], unseenBefore)
}

/**
 * Even a partial FETCH of `uid` brought a literal over the limit (a server that ignores byte
 * ranges, for a message larger than the limit; or a hostile one): the message is reported and
 * left for the next run, the others go on on a new connection.
 */
function giveUp(env: FetchEnv, uid: number, error: OversizedResponseError): ReconnectForLiteral {
  const reason = `the server sent it in one piece over the size limit, even when asked for a part: ${error.message}${error.hint === undefined ? '' : ` (${error.hint})`}`
  env.oversized.givenUp.set(uid, reason)
  env.run.failMessage(uid, reason)
  return new ReconnectForLiteral(`${error.message}; reconnecting to go on without UID ${uid}`, {cause: error})
}

/** `UID SEARCH UID <set>`: which of these UIDs the server still has. */
async function stillOnServer(env: FetchEnv, uids: readonly number[]): Promise<Set<number>> {
  return new Set(await env.session.searchUids({uidRange: compactUidSet(uids)}))
}

async function unseenAmong(env: FetchEnv, uids: readonly number[]): Promise<Set<number>> {
  return new Set(await env.session.searchUids({uidRange: compactUidSet(uids), unseen: true}))
}

/**
 * compat §6.4 (`reset_seen_flags_after_fetch`): some servers (iCloud, Purelymail) set \Seen even
 * on BODY.PEEK[] in a read-only EXAMINE. The messages that were unseen before the fetch and are
 * seen after it get \Seen removed again: SELECT (read-write), UID STORE -FLAGS, EXAMINE again.
 * Like imap-backup's, this races with other clients reading the same messages at that moment.
 */
async function restoreUnseen(env: FetchEnv, uids: readonly number[], unseenBefore: ReadonlySet<number>): Promise<void> {
  const after = await unseenAmong(env, uids)
  const became = uniqueAscending([...unseenBefore].filter((uid) => !after.has(uid)))
  if (became.length === 0) return
  env.logger.debug(`removing \\Seen from ${became.length} message(s) that the download marked as read`)
  const expected = env.uidValidity
  const selected = await env.session.select(env.folder)
  if (selected.uidValidity !== expected) throw new FolderChangedError(env.folder)
  await env.session.storeFlags(compactUidSet(became), ['\\Seen'], 'remove')
  const reopened = await env.session.examine(env.folder)
  if (reopened.uidValidity !== expected) throw new FolderChangedError(env.folder)
}

function withoutSeen(flags: readonly string[], strip: boolean): string[] {
  return strip ? flags.filter((f) => f.toLowerCase() !== '\\seen') : [...flags]
}

/** The server said NO/BAD to this FETCH (not: the link broke, the folder is gone). */
function isRefusal(error: unknown): error is RemoteError {
  return error instanceof RemoteError && !(error instanceof MissingFolderError) && !(error instanceof FolderChangedError)
}

/** Whether the ascending list holds `uid`. */
function includes(ascending: readonly number[], uid: number): boolean {
  let low = 0
  let high = ascending.length - 1
  while (low <= high) {
    const middle = (low + high) >>> 1
    const value = ascending[middle] as number
    if (value === uid) return true
    if (value < uid) low = middle + 1
    else high = middle - 1
  }
  return false
}
