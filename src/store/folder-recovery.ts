/**
 * Recovery on open (docs/design.md, "Recovery on open"), after step 1 (interrupted-operations.ts):
 * reads `.imap`, the journal and the mbox's size, judges them with the folder inspection
 * (inspection.ts; opening fails on its first error), applies a journal that began on this
 * `.imap` (I4), reads the exactness file, and in write mode removes an uncommitted tail that a
 * journal explains (I7). What must be written back (a journal to fold, a format to migrate) is
 * returned for FolderStore to write.
 */
import {constants} from 'node:fs/promises'
import {DamagedError, localIoError} from '../shared/errors.js'
import type {Logger} from '../shared/logger.js'
import {readExactness, type ExactnessState} from './exactness-state.js'
import {readBytesIfPresent, readIfPresent, sizeIfPresent} from './file-ops.js'
import type {FolderPaths} from './folder-paths.js'
import {scanMetadata} from './imap-scan.js'
import {firstError, firstOverlap, inspectFolder, journalFacts, type FolderFacts} from './inspection.js'
import {applyRecords} from './journal-records.js'
import {parseJournal, refuseNewerJournal, type JournalContents} from './journal.js'
import {scanEntries} from './mboxrd/index.js'
import type {MboxReader} from './mbox-reader.js'
import {MessageTable} from './message-table.js'
import {emptyMetadata, parseMetadata, type FolderMetadata, type LegacyV2Metadata, type Pristine} from './metadata.js'
import type {ReadSnapshot} from './read-snapshot.js'
import {openNoFollow} from './safe-path.js'

const FROM_ = Buffer.from('From ')

export interface RecoveryContext {
  paths: FolderPaths
  write: boolean
  logger: Logger
  reader: MboxReader
  damaged(message: string, cause?: unknown): DamagedError
}

export interface RecoveredFolder {
  /** Undefined: the folder has no backup yet. */
  meta: FolderMetadata | undefined
  pristine: Pristine | undefined
  exactState: ExactnessState
  /** Changed in memory only (migrated from version 2, records to move out of `.imap`). */
  dirty: boolean
  /** Write mode: fold now (a journal was there, or `dirty`), naming this journal. */
  fold?: {journalId: string | undefined}
}

/**
 * `snapshot` (read mode): the `.imap` comes from the file it holds, and the journal is read
 * before the mbox is opened, whose size is taken from the file that later reads use.
 */
export async function recoverFolder(c: RecoveryContext, snapshot: ReadSnapshot | undefined): Promise<RecoveredFolder> {
  const {paths, write} = c
  let imapBytes: Buffer | undefined
  let journalText: string | undefined
  let mboxSize: number | undefined
  if (snapshot === undefined) {
    imapBytes = await readBytesIfPresent(paths.imap)
    mboxSize = await sizeIfPresent(paths.mbox)
    journalText = await readIfPresent(paths.journal)
  } else {
    imapBytes = await snapshot.imap?.readFile().catch((error: unknown) => {
      throw localIoError(error, 'read', paths.imap)
    })
    journalText = await readIfPresent(paths.journal)
    mboxSize = await c.reader.openIfPresent()
  }
  const failOnFinding = (facts: FolderFacts): void => {
    const error = firstError(inspectFolder(facts, {repair: undefined}))
    if (error !== undefined) throw c.damaged(error.message)
  }

  if (imapBytes === undefined) {
    // An exactness file without its folder (imap-backup removed the pair): kept aside at the
    // first write, never overwritten.
    const exactState = await readExactness(paths.exact, undefined)
    if (journalText !== undefined) refuseNewerJournal(journalText, paths.journal)
    failOnFinding({paths, interrupted: [], imapPresent: false, mboxSize, ...(journalText === undefined ? {} : {journal: {state: 'pending', appended: undefined}})})
    return {meta: undefined, pristine: undefined, exactState, dirty: false} // not backed up yet (an empty mbox alone holds nothing)
  }

  let parsed: FolderMetadata | LegacyV2Metadata
  let pristine: Pristine | undefined
  try {
    // mailkeep's own layout is read byte by byte (imap-scan.ts); anything else as JSON.
    const scanned = scanMetadata(imapBytes, paths.imap)
    parsed = scanned?.meta ?? parseMetadata(imapBytes.toString('utf8'), paths.imap)
    pristine = scanned?.pristine
  } catch (error) {
    // Same finding, with the repair command for this account and folder.
    if (error instanceof DamagedError) throw c.damaged(error.message, error)
    throw error
  }
  // Before anything is written: a journal of a newer mailkeep (UnsupportedFormatError) means the
  // folder must stay exactly as it is, the empty mbox below included.
  const journal: JournalContents | undefined = journalText === undefined ? undefined : parseJournal(journalText, paths.journal)

  let meta: FolderMetadata
  let dirty = false
  if (isV2(parsed)) {
    if (mboxSize === undefined) throw c.damaged(`.mbox file '${paths.mbox}' is missing`)
    meta = await migrateV2(c, parsed)
    dirty = true
  } else {
    meta = parsed
  }

  // The journal's standing is judged on `.imap` as read; its records are applied only when it
  // began on that state (I4).
  const appended = (journal?.committed ?? []).filter((r) => r.t === 'a').map((r) => r.m)
  const journalState = journalText === undefined ? undefined : journalFacts(journal?.header, {journalId: meta.journalId, uidValidity: meta.uidValidity, count: meta.messages.length, end: meta.messages.end}, appended.length)
  const applies = journal !== undefined && journalState?.state === 'pending' && journalState.appended !== undefined
  if (applies) applyRecords(meta, journal.committed, journal.quoting)
  const recovered = applies ? appended : []

  // The entries a scan read are in order already (imap-scan.ts): those after them are checked.
  const overlap = firstOverlap(meta.messages, pristine === undefined ? 0 : pristine.rows)
  // compat check 7 on the entries this open must vouch for: the last one committed (a torn
  // write or a mis-set offset shows there first) and those a journal brings in.
  const last = meta.messages.length === 0 ? undefined : meta.messages.entryAt(meta.messages.length - 1)
  const heads: Array<{uid: number; offset: number; from: boolean}> = []
  for (const m of last === undefined ? recovered : [...recovered, last]) {
    const n = Math.min(FROM_.length, m.length)
    // Beyond the end of the mbox: the "shorter" finding comes first.
    if (mboxSize === undefined || m.offset + n > mboxSize) continue
    heads.push({uid: m.uid, offset: m.offset, from: (await c.reader.readRange(m.offset, n)).equals(FROM_)})
  }
  failOnFinding({
    paths,
    interrupted: [],
    imapPresent: true,
    mboxSize,
    list: {count: meta.messages.length, end: meta.messages.end, ...(overlap === undefined ? {} : {overlap})},
    heads,
    ...(journalState === undefined ? {} : {journal: journalState}),
  })
  if (mboxSize === undefined && write) await createEmptyMbox(paths.mbox)

  // The exactness file once the journal's entries are in: a crash between its write and the
  // `.imap`'s (fold) left rows for them.
  const exactState = await readExactness(paths.exact, meta)
  if (noteExactness(c, meta, exactState)) dirty = true

  const end = meta.messages.end
  const size = mboxSize ?? 0
  if (size > end && write) {
    // Explained by the journal (the inspection found no error): an interrupted transaction's
    // uncommitted bytes (I7).
    await truncateFile(paths.mbox, end)
    c.logger.warn(`removed ${size - end} bytes of uncommitted data left by an interrupted run`, {bytes: size - end})
  }
  const duplicates = meta.messages.duplicateUids()
  if (duplicates.length > 0) {
    c.logger.warn(`metadata lists ${duplicates.length} UID(s) more than once; \`mailkeep local check\` shows them`, {uids: duplicates.slice(0, 20)})
  }
  const folded: RecoveredFolder = {meta, pristine, exactState, dirty}
  if (write && (journalText !== undefined || dirty)) {
    if (recovered.length > 0) c.logger.info(`recovered ${recovered.length} message(s) committed by an interrupted run`, {messages: recovered.length})
    folded.fold = {journalId: journal?.header.id ?? meta.journalId}
  }
  return folded
}

/** Logs what the exactness data says; true when a format-1 `.imap` must be migrated. */
function noteExactness(c: RecoveryContext, meta: FolderMetadata, state: ExactnessState): boolean {
  const {paths} = c
  const moved = meta.recordsInFile ?? 0
  if (moved > 0 && c.write) {
    // Format 1 (mailkeep 0.1.0) kept the records in `.imap`, where imap-backup drops them: they
    // move to the exactness file at the next write (fold: that file first, then `.imap`).
    c.logger.info(`moving ${moved} exactness record(s) from '${paths.imap}' to '${paths.exact}'`, {records: moved})
  }
  if (state.damaged !== undefined) {
    c.logger.warn(`${state.damaged}; the messages it described are read as imap-backup reads them (not byte-exact)`)
  } else if (state.binding !== undefined && state.binding.unmatchedUids.length > 0) {
    const why = state.binding.problem ?? 'their messages were moved or rewritten by another tool'
    c.logger.warn(`${state.binding.unmatchedUids.length} exactness record(s) in '${paths.exact}' no longer match (${why}); those messages are read as imap-backup reads them (not byte-exact)`, {
      uids: state.binding.unmatchedUids.slice(0, 20),
    })
  } else if (!state.present && meta.exactCount !== undefined && meta.exactCount > meta.messages.recordCount) {
    c.logger.warn(`exactness file '${paths.exact}' is missing; the messages it described are read as imap-backup reads them (not byte-exact)`)
  }
  return moved > 0
}

async function migrateV2(c: RecoveryContext, v2: LegacyV2Metadata): Promise<FolderMetadata> {
  const {paths} = c
  const content = await c.reader.readWhole()
  const entries = scanEntries(content, 'legacy')
  if (entries.length !== v2.uids.length) {
    throw c.damaged(`version 2 metadata file '${paths.imap}' lists ${v2.uids.length} UIDs but .mbox file '${paths.mbox}' holds ${entries.length} messages; it was not migrated`)
  }
  const meta = emptyMetadata(v2.uidValidity)
  meta.messages = new MessageTable(entries.length)
  for (let i = 0; i < entries.length; i++) meta.messages.pushRow(v2.uids[i]!, entries[i]!.offset, entries[i]!.length, [])
  c.logger.info(`migrated metadata file '${paths.imap}' from version 2 to 3 (written at the next commit)`)
  return meta
}

function isV2(value: FolderMetadata | LegacyV2Metadata): value is LegacyV2Metadata {
  return 'version' in value && value.version === 2
}

async function createEmptyMbox(path: string): Promise<void> {
  const handle = await openNoFollow(path, constants.O_WRONLY | constants.O_CREAT, 0o600)
  await handle.close()
}

async function truncateFile(path: string, length: number): Promise<void> {
  const handle = await openNoFollow(path, constants.O_WRONLY, 0o600)
  try {
    await handle.truncate(length)
    await handle.sync()
  } catch (error) {
    throw localIoError(error, 'truncate', path)
  } finally {
    await handle.close()
  }
}
