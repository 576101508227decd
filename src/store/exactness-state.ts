/**
 * What a folder's exactness file (exact-file.ts) says about its messages, read after `.imap` and
 * any journal: opening a folder, `local check` and repair read it the same way.
 */
import {DamagedError} from '../shared/errors.js'
import {bindExactFile, parseExactFile, scanExactFile, type ExactBinding, type ExactPristine} from './exact-file.js'
import {keepCopyAside, readBytesIfPresent} from './file-ops.js'
import type {Logger} from '../shared/logger.js'
import type {FolderMetadata} from './metadata.js'

/** What opening the folder found in its exactness file (readExactness). */
export interface ExactnessState {
  /** The file is there. */
  present: boolean
  /** How its rows bound to the entries, when it could be read. */
  binding?: ExactBinding
  /** Why it could not be read at all. */
  damaged?: string
  /** Where its rows lie in the bytes read, while they may be written back as they are. */
  pristine?: ExactPristine
}

/**
 * Reads the folder's exactness file and gives its records to the entries they are bound to
 * (exact-file.ts): after `.imap` and any journal were applied, so rows a crash left for a
 * journal's entries bind too. A damaged file binds nothing and is reported; a newer one throws
 * UnsupportedFormatError (the folder must then stay as it is).
 */
export async function readExactness(path: string, meta: FolderMetadata | undefined): Promise<ExactnessState> {
  const bytes = await readBytesIfPresent(path)
  if (bytes === undefined) return {present: false}
  // As mailkeep writes it: read byte by byte (exact-file.ts); anything else as JSON, below.
  const scanned = meta === undefined ? undefined : scanExactFile(bytes, meta.messages, meta.uidValidity)
  if (scanned !== undefined) return {present: true, binding: scanned.binding, pristine: scanned.pristine}
  try {
    const file = parseExactFile(bytes.toString('utf8'), path)
    if (meta === undefined) return {present: true, binding: {rows: file.rows.length, bound: 0, superseded: 0, unmatchedUids: file.rows.map((r) => r[0]), problem: 'the folder has no metadata'}}
    return {present: true, binding: bindExactFile(meta.messages, file, meta.uidValidity)}
  } catch (error) {
    if (error instanceof DamagedError) return {present: true, damaged: error.message}
    throw error
  }
}

/** True when the next write of the exactness file would lose something of the present one. */
export function exactnessIsStale(state: ExactnessState): boolean {
  return state.present && (state.damaged !== undefined || (state.binding?.unmatchedUids.length ?? 0) > 0)
}

/**
 * Before the exactness file is rewritten: when the rewrite would lose something of the present
 * file (stale), its content is kept aside as `<P>.mailkeep.damaged-<ts>` or
 * `<P>.mailkeep.unmatched-<ts>` (I6). Returns the state to write on from.
 */
export async function keepStaleExactnessAside(state: ExactnessState, path: string, logger: Logger): Promise<ExactnessState> {
  if (!exactnessIsStale(state)) return state
  const keptAs = await keepCopyAside(path, state.damaged !== undefined ? '.damaged' : '.unmatched')
  const lost = state.damaged ?? `${state.binding?.unmatchedUids.length ?? 0} record(s) no longer match their messages (the folder was rewritten by another tool)`
  logger.warn(`the exactness file was kept aside as '${keptAs}' before it is rewritten: ${lost}`, {keptAs})
  return {present: true}
}
