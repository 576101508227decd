/**
 * The skip of an unchanged folder (docs/backup.md): the state its metadata records, compared with
 * the server's STATUS (from LIST-STATUS, or asked when the answer could allow a skip), before the
 * folder is opened and again on the first connection.
 */
import type {ImapSession} from '../../imap/types.js'
import type {FolderStore} from '../../store/folder-store.js'
import type {FolderServerState} from '../../store/metadata.js'
import {MissingFolderError, RemoteError} from '../../shared/errors.js'
import {isStop} from '../../shared/context.js'
import type {Logger} from '../../shared/logger.js'
import {flagPolicy, statusCouldSkip, unchangedOnServer, type LocalState, type SyncMode} from './folder-plan.js'

import type {FolderEnv, FolderJob} from './folder-env.js'

export function localState(folder: FolderStore): LocalState {
  if (!folder.exists) return {exists: false}
  const {uidNext, highestModseq, flagsModseq, mirrorModseq} = folder.serverState
  return {exists: true, uidValidity: folder.uidValidity, uidNext, highestModseq, flagsModseq, mirrorModseq}
}

/** What the folder's metadata records: its server state and the naming (docs/design.md). */
export type RecordedState = LocalState & Pick<FolderServerState, 'delimiter' | 'prefix'>

export function recordedState(folder: FolderStore): RecordedState {
  return {...localState(folder), delimiter: folder.serverState.delimiter, prefix: folder.serverState.prefix}
}

/** True when the delimiter LIST gave or the namespace prefix is not what the folder records. */
export function namingUnrecorded(job: FolderJob, stored: Pick<FolderServerState, 'delimiter' | 'prefix'>): boolean {
  return (job.delimiter !== undefined && (job.delimiter ?? '') !== stored.delimiter) || stored.prefix === undefined
}

/**
 * Whether the folder can be skipped: the server's STATUS (from LIST-STATUS, or asked now when
 * the answer could allow it) says nothing changed since the recorded state.
 */
export async function skipsUnchanged(job: FolderJob, recorded: RecordedState, mode: SyncMode, session: ImapSession, logger: Logger): Promise<boolean> {
  // A folder whose naming is not recorded yet (backed up by an older version) is examined
  // once, so that the naming gets written; from then on the fast path applies again.
  if (namingUnrecorded(job, recorded)) return false
  let status = job.status
  if (status === undefined && statusCouldSkip(recorded, mode)) {
    try {
      status = await session.status(job.name)
    } catch (error) {
      // STATUS is only a shortcut: a server that refuses it still gets the folder examined.
      if (!(error instanceof RemoteError) || error instanceof MissingFolderError) throw error
      logger.debug(`STATUS refused (${error.message}); examining the folder`)
    }
  }
  if (!unchangedOnServer(recorded, status, mode)) return false
  logger.debug(`[${job.name}] unchanged since the last run (UIDNEXT ${recorded.uidNext}); not selected`)
  return true
}

/**
 * The skip check on the state peeked from the metadata's head, before the folder is opened.
 * 'unknown' when it could not run (no session now: the full path retries and reports).
 */
export async function unchangedWithoutOpening(env: FolderEnv, job: FolderJob, recorded: RecordedState, logger: Logger): Promise<'unchanged' | 'changed' | 'unknown'> {
  try {
    const session = await env.pool.session()
    const mirror = env.account.mirrorMode
    const mode: SyncMode = {flags: flagPolicy({mirror, refresh: env.refresh, freezeFlags: env.config.freezeFlags}), mirror, condstore: session.capabilities.condstore}
    return (await skipsUnchanged(job, recorded, mode, session, logger)) ? 'unchanged' : 'changed'
  } catch (error) {
    if (isStop(error, env.ctx.signal)) throw error
    return 'unknown'
  }
}
