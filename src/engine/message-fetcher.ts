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
 */
import type {ImapSession} from '../imap/types.js'
import {MissingFolderError, RemoteError} from '../shared/errors.js'
import {throwIfAborted} from '../shared/context.js'
import type {Logger} from '../shared/logger.js'
import {planBatches, smallLimit, uniqueAscending, type BatchLimits} from './folder-plan.js'
import type {FolderRun} from './folder-run.js'
import {slices, uidSet} from './uid-set.js'

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
}

/** The SELECT/EXAMINE of reset-seen found the folder's UIDVALIDITY changed: start it again. */
export class FolderChangedError extends RemoteError {
  constructor(folder: string) {
    super(`the UIDVALIDITY of '${folder}' changed during the backup`)
  }
}

const SUMMARY_SLICE = 1000

/** Downloads `uids` (ascending, none stored yet). */
export async function downloadMessages(env: FetchEnv, uids: readonly number[]): Promise<void> {
  if (uids.length === 0) return
  const sizes = await sizesOfBigMessages(env, uids)
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
  const wanted = new Set(uids)
  const range = `${uids[0]!}:${uids[uids.length - 1]!}`
  const limit = smallLimit(env.limits)
  const found = uniqueAscending((await env.session.searchUids({uidRange: range, larger: limit})).filter((uid) => wanted.has(uid)))
  if (limit >= env.limits.largeBytes) {
    // Only "large" matters: each one found is streamed, its exact size is not needed.
    for (const uid of found) sizes.set(uid, env.limits.largeBytes + 1)
    return sizes
  }
  for (const slice of slices(found, SUMMARY_SLICE)) {
    for await (const summary of env.session.fetchSummaries(uidSet(slice))) sizes.set(summary.uid, summary.size)
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
  try {
    for await (const message of env.session.fetchMessages(uidSet(uids))) {
      if (!wanted.has(message.uid) || run.has(message.uid)) continue // not asked for, or sent twice
      const flags = withoutSeen(message.flags, unseenBefore?.has(message.uid) === true)
      await run.append({uid: message.uid, flags, internalDate: message.internalDate}, message.source)
    }
  } catch (error) {
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
  run.failMessage(uid, refused === undefined ? 'the server did not return the message although it still has it' : `the server refused to send it: ${refused.message}`)
}

async function streamOne(env: FetchEnv, uid: number): Promise<void> {
  if (env.run.has(uid)) return
  env.run.failed.delete(uid) // a failure of an earlier attempt is retried now
  const unseenBefore = env.resetSeen ? await unseenAmong(env, [uid]) : undefined
  let download
  try {
    download = await env.session.downloadMessage(uid)
  } catch (error) {
    if (!isRefusal(error)) throw error
    env.run.failMessage(uid, `the server refused to send it: ${error.message}`)
    return
  }
  if (download === null) {
    env.logger.debug(`message UID ${uid} is no longer on the server (expunged meanwhile); skipped`, {uid})
    return
  }
  const {summary, chunks} = download
  env.logger.debug(`streaming message UID ${uid} (${summary.size} bytes)`, {uid, bytes: summary.size})
  const flags = withoutSeen(summary.flags, unseenBefore?.has(uid) === true)
  if (!(await env.run.appendStream({uid, flags, internalDate: summary.internalDate}, chunks, summary.size))) {
    // Expunged while it was being downloaded: not a failure (the partial entry is already cut off).
    if (!(await stillOnServer(env, [uid])).has(uid)) {
      env.run.failed.delete(uid)
      env.logger.debug(`message UID ${uid} was expunged during its download; skipped`, {uid})
    }
    return
  }
  if (unseenBefore !== undefined && unseenBefore.size > 0) await restoreUnseen(env, [uid], unseenBefore)
}

/** `UID SEARCH UID <set>`: which of these UIDs the server still has. */
async function stillOnServer(env: FetchEnv, uids: readonly number[]): Promise<Set<number>> {
  return new Set(await env.session.searchUids({uidRange: uidSet(uniqueAscending(uids))}))
}

async function unseenAmong(env: FetchEnv, uids: readonly number[]): Promise<Set<number>> {
  return new Set(await env.session.searchUids({uidRange: uidSet(uniqueAscending(uids)), unseen: true}))
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
  await env.session.storeFlags(uidSet(became), ['\\Seen'], 'remove')
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
