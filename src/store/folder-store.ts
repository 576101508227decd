/**
 * One backed-up folder: its `.mbox`, `.imap`, exactness file and journal (docs/design.md). Opening a folder runs
 * recovery ("Recovery on open"); writing happens only inside a Transaction, or through the two
 * explicit whole-folder operations: renameAway() (UIDVALIDITY change) and removeMessages()
 * (mirror mode).
 *
 * A writer holds the account's exclusive lock; see account-store.ts. A reader ('read') needs no
 * lock: it reads the last committed state (read-snapshot.ts, docs/design.md "Readers").
 */
import {constants, rename, type FileHandle} from 'node:fs/promises'
import {dirname} from 'node:path'
import {BusyError, DamagedError, errnoCode, InternalError, localIoError} from '../shared/errors.js'
import {writeAll} from '../shared/write-all.js'
import {atomicWrite, atomicWriteChunks, fsyncDirectory} from '../shared/atomic-write.js'
import type {Logger} from '../shared/logger.js'
import {decodeEntry, fromExactnessTuple, MboxrdDecoder, scanEntries, strictToCompat, type QuotingRule} from './mboxrd/index.js'
import {encodeFolderPath, folderNameWithSuffix} from './folder-path.js'
import {checkNoSymlinks, ensureFolderDirectory, openNoFollow} from './safe-path.js'
import {JOURNAL_FORMAT, JournalWriter, newJournalId, parseJournal, refuseNewerJournal, type JournalContents} from './journal.js'
import {
  emptyMetadata,
  parseMetadata,
  serializeMetadataChunks,
  type ExactTuple,
  type FolderMetadata,
  type FolderServerState,
  type LegacyV2Metadata,
  type MessageEntry,
  type Pristine,
} from './metadata.js'
import {MessageTable, type ReadonlyMessageTable} from './message-table.js'
import {applyRecords} from './journal-records.js'
import {Transaction} from './transaction.js'
import type {TransactionHost} from './transaction-types.js'
import {DEFAULT_TUNING, type TransactionTuning} from './tuning.js'
import {exists, keepCopyAside, readBytesIfPresent, readIfPresent, regularFileIfPresent, removeIfPresent, sizeIfPresent} from './file-ops.js'
import {serializeExactChunks} from './exact-file.js'
import {scanMetadata} from './imap-scan.js'
import {folderPaths, type FolderPaths} from './folder-paths.js'
import {exactnessIsStale, readExactness, type ExactnessState} from './exactness-state.js'
import {firstError, firstOverlap, inspectFolder, journalFacts, type FolderFacts} from './inspection.js'
import {openSnapshot, pause, READ_ATTEMPTS, stillSame, type ReadSnapshot} from './read-snapshot.js'

export type OpenMode = 'write' | 'read'



export interface OpenFolderOptions {
  mode: OpenMode
  logger: Logger
  /** Used in hints, e.g. "mailkeep local repair <account> <folder>". */
  account?: string
  /** Called when the folder is closed (AccountStore stops tracking it, so its memory is freed). */
  onClose?: (folder: FolderStore) => void
}

/** What `requote` found (and, unless a dry run, did). */
export interface RequoteResult {
  /** Entries written with mailkeep 0.1.0's strict rule. */
  strict: number
  /** Of these, entries whose bytes change (a `>From` line without the space gets one more `>`). */
  rewritten: number
  /** Bytes the mbox grows by. */
  bytesAdded: number
}

/** One row of a rewrite: dropped, copied as it is, or replaced by these bytes. */
type RewriteStep = 'drop' | 'copy' | Buffer

export interface StoredMessage {
  bytes: Buffer
  /** True when the bytes are exactly what the server sent (mailkeep-written entries). */
  exact: boolean
}

const FROM_ = Buffer.from('From ')
const NO_MESSAGES: ReadonlyMessageTable = new MessageTable(0)
const COPY_CHUNK = 1024 * 1024
/** Largest read of readEntryHeads(). */
const HEAD_WINDOW = 1024 * 1024




export class FolderStore implements TransactionHost {
  readonly relativePath: string
  readonly paths: FolderPaths
  readonly logger: Logger
  private metadata: FolderMetadata | undefined
  /** Where the entries of the `.imap` read at open lie in its bytes, while they may be written back as they are. */
  private pristine: Pristine | undefined
  /** v2 metadata migrated in memory and not yet written as v3. */
  private dirty = false
  private transaction: Transaction | undefined
  private reader: FileHandle | undefined
  private exactState: ExactnessState = {present: false}

  private constructor(
    readonly root: string,
    readonly name: string,
    readonly mode: OpenMode,
    logger: Logger,
    private readonly account: string | undefined,
    private readonly onClose: ((folder: FolderStore) => void) | undefined,
  ) {
    this.relativePath = encodeFolderPath(name)
    this.paths = folderPaths(root, this.relativePath)
    this.logger = logger.child({folder: name})
  }

  /** Opens a folder (it need not exist yet) and runs recovery. */
  static async open(root: string, name: string, options: OpenFolderOptions): Promise<FolderStore> {
    const folder = new FolderStore(root, name, options.mode, options.logger, options.account, options.onClose)
    await checkNoSymlinks(root, `${folder.relativePath}.mbox`)
    await folder.load()
    return folder
  }

  get mboxPath(): string {
    return this.paths.mbox
  }

  /** False until initialize(): there is no backup of this folder yet. */
  get exists(): boolean {
    return this.metadata !== undefined
  }

  get meta(): FolderMetadata {
    if (this.metadata === undefined) throw new InternalError(`folder '${this.name}' has not been initialized`)
    return this.metadata
  }

  get uidValidity(): number | undefined {
    return this.metadata?.uidValidity
  }

  get serverState(): FolderServerState {
    const m = this.metadata
    return {uidNext: m?.uidNext, highestModseq: m?.highestModseq, flagsModseq: m?.flagsModseq, mirrorModseq: m?.mirrorModseq, delimiter: m?.delimiter, prefix: m?.prefix}
  }

  /** The committed messages, in mbox order. */
  get messages(): ReadonlyMessageTable {
    return this.metadata?.messages ?? NO_MESSAGES
  }

  has(uid: number): boolean {
    return this.messages.has(uid)
  }

  /** The entry of the UID (the first one, if imap-backup listed it twice); made on each call. */
  entry(uid: number): MessageEntry | undefined {
    return this.messages.get(uid)
  }

  exactness(uid: number): ExactTuple | undefined {
    return this.messages.exactness(uid)
  }

  /** About `count` more messages are coming (a download): the message table makes room once. */
  reserve(count: number): void {
    this.metadata?.messages.reserve(this.metadata.messages.length + count)
  }

  /**
   * `[copy, original]` pairs: stored messages that are copies mailkeep restored of other stored
   * messages of this folder (docs/design.md, `mailkeep_restored`). A pair may name a UID no
   * longer stored (mirror mode removed it): it still joins the others.
   */
  get restoredCopies(): ReadonlyArray<readonly [number, number]> {
    return this.metadata?.restoredCopies ?? []
  }

  /** What opening the folder found in its exactness file. */
  get exactnessFile(): ExactnessState {
    return this.exactState
  }

  /** Creates the empty pair for a new folder: mbox first, so `.imap` never exists without it. */
  async initialize(uidValidity: number): Promise<void> {
    this.assertWritable()
    if (this.metadata !== undefined) throw new InternalError(`folder '${this.name}' already exists`)
    await ensureFolderDirectory(this.root, `${this.relativePath}.mbox`)
    let handle: FileHandle
    try {
      handle = await openNoFollow(this.paths.mbox, constants.O_WRONLY | constants.O_CREAT, 0o600)
      await handle.close()
    } catch (error) {
      throw localIoError(error, 'create', this.paths.mbox)
    }
    const meta = emptyMetadata(uidValidity)
    await atomicWriteChunks(this.paths.imap, serializeMetadataChunks(meta), {mode: 0o600})
    this.metadata = meta
    this.pristine = undefined
  }

  /** Starts a transaction. Only one at a time; the folder must exist. */
  async begin(tuning: Partial<TransactionTuning> = {}): Promise<Transaction> {
    this.assertWritable()
    if (this.transaction?.isOpen) throw new InternalError(`folder '${this.name}' already has an open transaction`)
    const meta = this.meta
    if (this.dirty) await this.fold(meta.journalId)
    const start = meta.messages.end
    const mbox = await openNoFollow(this.paths.mbox, constants.O_WRONLY | constants.O_APPEND, 0o600).catch((error: unknown) => {
      throw localIoError(error, 'open', this.paths.mbox)
    })
    try {
      const {size} = await mbox.stat()
      // I3: with no transaction open the mbox ends where the metadata ends; recovery made it so.
      if (size !== start) throw this.damaged(`.mbox file '${this.paths.mbox}' is ${size} bytes but its metadata ends at ${start}`)
      const id = newJournalId()
      const journal = await JournalWriter.create(this.paths.journal, {
        j: JOURNAL_FORMAT,
        id,
        uid_validity: meta.uidValidity,
        base_count: meta.messages.length,
        base_end: start,
      })
      this.transaction = new Transaction(this, mbox, journal, id, {...DEFAULT_TUNING, ...tuning}, start)
      return this.transaction
    } catch (error) {
      await mbox.close().catch(() => {})
      throw error
    }
  }

  /**
   * TransactionHost: writes the exactness file, then `.imap`, both naming the folded journal,
   * then removes the journal (docs/design.md, "Write order"). The exactness file goes first: once
   * `.imap` names the journal, recovery removes the journal, so the records must be on disk by then.
   */
  async fold(journalId: string | undefined): Promise<void> {
    const meta = this.meta
    if (journalId !== undefined) meta.journalId = journalId
    await this.writeExactness(this.paths.exact, meta)
    await atomicWriteChunks(this.paths.imap, serializeMetadataChunks(meta, this.pristine), {mode: 0o600})
    // The file is new: its bytes are not the ones the spans point into.
    this.pristine = undefined
    this.dirty = false
    await removeIfPresent(this.paths.journal)
    await fsyncDirectory(dirname(this.paths.imap))
  }

  /**
   * Writes the exactness file of `meta` to `target` (the folder's, or its `.compact` twin for a
   * rewrite) by atomic replace (I2). When that would drop something of the present file (it is
   * damaged, or has rows that no longer match their entries because another tool rewrote the
   * folder), its content is first kept aside as `<P>.mailkeep.damaged-<ts>` or
   * `<P>.mailkeep.unmatched-<ts>` (I6). A folder without records gets no file unless it has one.
   */
  private async writeExactness(target: string, meta: FolderMetadata): Promise<void> {
    const state = this.exactState
    if (exactnessIsStale(state)) {
      const keptAs = await keepCopyAside(this.paths.exact, state.damaged !== undefined ? '.damaged' : '.unmatched')
      const lost = state.damaged ?? `${state.binding?.unmatchedUids.length ?? 0} record(s) no longer match their messages (the folder was rewritten by another tool)`
      this.logger.warn(`the exactness file was kept aside as '${keptAs}' before it is rewritten: ${lost}`, {keptAs})
      this.exactState = {present: true}
    }
    if (meta.messages.recordCount === 0 && !state.present) return
    // Its rows read at open, unchanged, are written back as they are (exact-file.ts ExactPristine).
    const pristine = target === this.paths.exact ? this.exactState.pristine : undefined
    await atomicWriteChunks(target, serializeExactChunks(meta, pristine), {mode: 0o600})
    if (target === this.paths.exact) this.exactState = {present: true}
  }

  /** TransactionHost: re-reads the folder from disk, as opening it does. */
  async recover(): Promise<void> {
    await this.load()
  }

  /** TransactionHost. */
  release(): void {
    this.transaction = undefined
  }

  /** The mbox entry as stored (separator line included). */
  async readEntry(uid: number): Promise<Buffer> {
    const row = this.rowOf(uid)
    return this.readRange(this.messages.offsetAt(row), this.messages.lengthAt(row))
  }

  /**
   * At most the first `maxBytes` of the entry (separator line included): for readers that need
   * only the header block (`local list`), so a large message is never read whole.
   */
  async readEntryHead(uid: number, maxBytes: number): Promise<Buffer> {
    const row = this.rowOf(uid)
    return this.readRange(this.messages.offsetAt(row), Math.min(this.messages.lengthAt(row), maxBytes))
  }

  /**
   * readEntryHead() for every message, in metadata order, reading neighbouring entries together
   * in windows of at most 1 MiB: a folder of small messages costs one read per window, a large
   * message never more than `maxBytes`. A yielded head is valid until the next one is asked for.
   */
  async *readEntryHeads(maxBytes: number): AsyncGenerator<{uid: number; head: Buffer}, void, undefined> {
    const messages = this.messages
    for (let i = 0; i < messages.length; ) {
      const start = messages.offsetAt(i)
      let end = start + Math.min(messages.lengthAt(i), maxBytes)
      let j = i + 1
      for (; j < messages.length; j++) {
        const offset = messages.offsetAt(j)
        const headEnd = offset + Math.min(messages.lengthAt(j), maxBytes)
        if (offset < end || headEnd - start > HEAD_WINDOW) break
        end = headEnd
      }
      const window = await this.readRange(start, end - start)
      for (let k = i; k < j; k++) {
        const from = messages.offsetAt(k) - start
        yield {uid: messages.uidAt(k), head: window.subarray(from, from + Math.min(messages.lengthAt(k), maxBytes))}
      }
      i = j
    }
  }

  /**
   * The message as the server sent it when mailkeep stored it; for entries written by
   * imap-backup, its stored text (LF line endings, trailing newline), as imap-backup reads it.
   */
  async readMessage(uid: number): Promise<StoredMessage> {
    const row = this.rowOf(uid)
    const tuple = this.messages.exactnessAt(row)
    const quoting = this.messages.quotingAt(row) ?? 'compat'
    if (tuple !== undefined && this.messages.lengthAt(row) > COPY_CHUNK) return this.readLargeExact(uid, this.messages.entryAt(row), tuple, quoting)
    const raw = await this.readRange(this.messages.offsetAt(row), this.messages.lengthAt(row))
    try {
      const record = tuple === undefined ? undefined : fromExactnessTuple(tuple, `${this.paths.exact}, UID ${uid}`).record
      return {bytes: decodeEntry(raw, record, quoting), exact: record !== undefined}
    } catch (error) {
      throw this.damaged(`message UID ${uid} in '${this.paths.mbox}' cannot be decoded: ${(error as Error).message}`, error)
    }
  }

  /**
   * readMessage() of a large entry written by mailkeep: decoded while it is read in chunks, into
   * one buffer of the record's size, so the whole entry is never held beside the message (restore
   * of a 50 MB message holds one copy of it here, not two). Same result, same checks.
   */
  private async readLargeExact(uid: number, entry: MessageEntry, tuple: ExactTuple, quoting: QuotingRule): Promise<StoredMessage> {
    const context = `${this.paths.exact}, UID ${uid}`
    const fail = (error: unknown): DamagedError => this.damaged(`message UID ${uid} in '${this.paths.mbox}' cannot be decoded: ${(error as Error).message}`, error)
    let decoder: MboxrdDecoder
    let out: Buffer
    try {
      const {record} = fromExactnessTuple(tuple, context)
      decoder = new MboxrdDecoder(record, quoting)
      out = Buffer.allocUnsafe(record.size)
    } catch (error) {
      throw fail(error)
    }
    let filled = 0
    // The decoder refuses to produce more than record.size bytes, so `out` cannot overflow.
    const put = (pieces: Buffer[]): void => {
      for (const piece of pieces) filled += piece.copy(out, filled)
    }
    for (let done = 0; done < entry.length; done += COPY_CHUNK) {
      const chunk = await this.readRange(entry.offset + done, Math.min(COPY_CHUNK, entry.length - done))
      try {
        put(decoder.push(chunk))
      } catch (error) {
        throw fail(error)
      }
    }
    try {
      put(decoder.end())
    } catch (error) {
      throw fail(error)
    }
    return {bytes: filled === out.length ? out : out.subarray(0, filled), exact: true}
  }

  /**
   * After a UIDVALIDITY change, starts a folder that holds nothing afresh in place: its `.imap`
   * is replaced (atomically, I2) by an empty one for `uidValidity` that keeps the recorded
   * naming (delimiter, prefix). There is nothing to keep aside, so no `<name>-<uidvalidity>`
   * pair is made (a server such as Courier gives an empty folder a new UIDVALIDITY in every
   * session, which would otherwise make one per run). Only when no message is committed, the
   * mbox is empty and no transaction is open: then no committed message byte exists to be
   * rewritten (I6); what a journal holds (server state under the old UIDVALIDITY) is folded
   * first, so the replaced `.imap` never meets a journal of another UIDVALIDITY (I4). Returns
   * false, changing nothing, otherwise; the caller then moves the folder aside (renameAway).
   */
  async restartEmpty(uidValidity: number): Promise<boolean> {
    this.assertWritable()
    if (this.transaction?.isOpen) return false
    const meta = this.meta
    if (meta.messages.length > 0 || meta.messages.end > 0) return false
    if ((await sizeIfPresent(this.paths.mbox)) !== 0) return false
    if (this.dirty || (await exists(this.paths.journal))) await this.fold(meta.journalId)
    const fresh = emptyMetadata(uidValidity)
    if (meta.delimiter !== undefined) fresh.delimiter = meta.delimiter
    if (meta.prefix !== undefined) fresh.prefix = meta.prefix
    await atomicWriteChunks(this.paths.imap, serializeMetadataChunks(fresh), {mode: 0o600})
    this.metadata = fresh
    this.logger.info(`UIDVALIDITY changed from ${meta.uidValidity} to ${uidValidity}; the folder's backup was empty, so nothing was kept aside`)
    return true
  }

  /**
   * Moves the folder's files to `<name>-<uidvalidity>` (or `-1`, `-2`, … when taken) after a
   * UIDVALIDITY change (compat §4.6), so that the folder can start afresh. Returns the server
   * name of the moved-away copy. An existing pair in the way is skipped, never deleted.
   */
  async renameAway(): Promise<string> {
    this.assertWritable()
    const meta = this.meta
    let target: string | undefined
    for (let n = 0; target === undefined; n++) {
      const candidate = folderNameWithSuffix(this.name, n === 0 ? `-${meta.uidValidity}` : `-${meta.uidValidity}-${n}`)
      const candidatePaths = folderPaths(this.root, encodeFolderPath(candidate))
      const taken = await Promise.all(
        [candidatePaths.imap, candidatePaths.mbox, candidatePaths.mirror, ...candidatePaths.uploadMaps, candidatePaths.journal, candidatePaths.renameIntent, candidatePaths.exact].map(exists),
      )
      if (!taken.includes(true)) target = candidate
      if (n > 10_000) throw new InternalError('no free name for the renamed folder')
    }
    const targetRelative = encodeFolderPath(target)
    // The mbox held open for reads goes with the rename: a folder begun afresh under this name
    // (initialize()) must not be read through it (a mirror-mode rewrite copied the old folder's
    // bytes into the new one's; found by test/store/readers.test.ts).
    await this.closeReader()
    await atomicWrite(this.paths.renameIntent, JSON.stringify({to: targetRelative}), {mode: 0o600})
    await this.finishRename(targetRelative)
    this.metadata = undefined
    this.pristine = undefined
    this.exactState = {present: false} // it moved with the pair
    this.logger.info(`UIDVALIDITY changed: the old backup was moved to '${target}'`, {renamedTo: target})
    return target
  }

  /**
   * Removes messages (mirror mode: they were deleted on the server). The folder is rewritten
   * once, whatever the number of messages (rewriteFolder). Returns how many messages were removed.
   */
  async removeMessages(uids: Iterable<number>): Promise<number> {
    this.assertWritable()
    const messages = this.meta.messages
    const remove = new Set<number>()
    for (const uid of uids) if (messages.has(uid)) remove.add(uid)
    if (remove.size === 0) return 0
    await this.rewriteFolder((row) => (remove.has(messages.uidAt(row)) ? 'drop' : 'copy'))
    return remove.size
  }

  /**
   * Converts the entries written with mailkeep 0.1.0's strict quoting rule to the current one
   * (mboxrd/quoting.ts, strictToCompat), so that imap-backup reads them right too: the explicit
   * `mailkeep local requote`, never done implicitly (I6). Each converted entry must read back as
   * the very message it held (both decoded with the record), or nothing is written. Entries the
   * two rules write alike only change their mark; the folder is rewritten once (rewriteFolder)
   * only when some entry changes. With `dryRun`, only counts (a read-only open will do).
   */
  async requote(options: {dryRun: boolean}): Promise<RequoteResult> {
    if (!options.dryRun) this.assertWritable()
    const messages = this.messages
    const result: RequoteResult = {strict: 0, rewritten: 0, bytesAdded: 0}
    const added = new Map<number, number>()
    for (let row = 0; row < messages.length; row++) {
      if (messages.quotingAt(row) !== 'strict') continue
      result.strict++
      const entry = await this.readRange(messages.offsetAt(row), messages.lengthAt(row))
      const converted = strictToCompat(entry)
      if (converted === entry) continue
      added.set(row, converted.length - entry.length)
      result.rewritten++
      result.bytesAdded += converted.length - entry.length
    }
    if (options.dryRun || result.strict === 0) return result
    if (added.size === 0) {
      // Every entry reads the same under both rules: only the marks change.
      for (let row = 0; row < messages.length; row++) {
        const tuple = messages.exactnessAt(row)
        if (tuple !== undefined) this.meta.messages.setRecordAt(row, tuple[1], tuple[2], tuple[3], tuple[4], 'compat')
      }
      await this.fold(this.meta.journalId)
      return result
    }
    await this.rewriteFolder(
      async (row) => {
        if (!added.has(row)) return 'copy'
        const entry = await this.readRange(messages.offsetAt(row), messages.lengthAt(row))
        const converted = strictToCompat(entry)
        const {record} = fromExactnessTuple(messages.exactnessAt(row), `${this.paths.exact}, UID ${messages.uidAt(row)}`)
        let same = false
        try {
          same = decodeEntry(converted, record, 'compat').equals(decodeEntry(entry, record, 'strict'))
        } catch (error) {
          throw this.damaged(`message UID ${messages.uidAt(row)} in '${this.paths.mbox}' cannot be decoded: ${(error as Error).message}`, error)
        }
        if (!same) throw new InternalError(`requoting UID ${messages.uidAt(row)} would change the message`)
        return converted
      },
      () => 'compat',
    )
    return result
  }

  /**
   * Rewrites the folder once: `plan` says for each row whether its entry is dropped, copied as it
   * is, or replaced by other bytes (which must read back as the same message with its record);
   * `quoting` may change the rule a kept record is marked with. A new mbox, exactness file and
   * `.imap` are written beside the old ones, and `.imap.compact` (written last, atomically)
   * commits the swap (docs/design.md, Recovery step 1).
   */
  private async rewriteFolder(plan: (row: number) => RewriteStep | Promise<RewriteStep>, quoting?: (row: number) => QuotingRule): Promise<void> {
    const meta = this.meta
    const messages = meta.messages
    const kept = new MessageTable(messages.length)
    await removeIfPresent(this.paths.mboxCompact)
    const out = await openNoFollow(this.paths.mboxCompact, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600).catch((error: unknown) => {
      throw localIoError(error, 'create', this.paths.mboxCompact)
    })
    try {
      let position = 0
      /** Copied entries that follow each other, written together. */
      let pending: [number, number] | undefined
      const flush = async (): Promise<void> => {
        if (pending === undefined) return
        const [start, length] = pending
        pending = undefined
        for (let done = 0; done < length; done += COPY_CHUNK) {
          const chunk = await this.readRange(start + done, Math.min(COPY_CHUNK, length - done))
          await writeAll(out, chunk, position)
          position += chunk.length
        }
      }
      let offset = 0
      for (let row = 0; row < messages.length; row++) {
        const step = await plan(row)
        if (step === 'drop') continue
        const start = messages.offsetAt(row)
        const length = step === 'copy' ? messages.lengthAt(row) : step.length
        const record = messages.exactnessAt(row)
        kept.push({uid: messages.uidAt(row), offset, length, flags: messages.flagsAt(row)}, record, record === undefined ? undefined : (quoting?.(row) ?? messages.quotingAt(row)))
        offset += length
        if (step === 'copy') {
          if (pending !== undefined && pending[0] + pending[1] === start) pending[1] += length
          else {
            await flush()
            pending = [start, length]
          }
        } else {
          await flush()
          await writeAll(out, step, position)
          position += step.length
        }
      }
      await flush()
      await out.sync()
    } catch (error) {
      await out.close().catch(() => {})
      await removeIfPresent(this.paths.mboxCompact)
      if (error instanceof DamagedError || error instanceof InternalError) throw error
      throw localIoError(error, 'write', this.paths.mboxCompact)
    }
    await out.close()
    // A pair stays while one of its messages does: it still tells which stored message the
    // removed one was (uploads count the two as one message, docs/upload-maps.md U7).
    const pairs = meta.restoredCopies?.filter(([copy, original]) => kept.has(copy) || kept.has(original))
    const next: FolderMetadata = {...meta, messages: kept, restoredCopies: pairs === undefined || pairs.length === 0 ? undefined : pairs}
    // The new exactness file before `.imap.compact`, which commits the rewrite (Recovery step 1).
    await this.writeExactness(this.paths.exactCompact, next)
    await atomicWriteChunks(this.paths.imapCompact, serializeMetadataChunks(next), {mode: 0o600})
    await this.closeReader()
    await this.finishCompaction()
    this.metadata = next
    this.pristine = undefined
    this.exactState = {...this.exactState, pristine: undefined}
  }

  /** Rolls back an open transaction and closes the files. The folder can be opened again. */
  async close(): Promise<void> {
    try {
      if (this.transaction?.isOpen) await this.transaction.rollback()
      await this.closeReader()
    } finally {
      this.onClose?.(this)
    }
  }

  // ---------------------------------------------------------------------------------------
  // Recovery (docs/design.md, "Recovery on open")

  private async load(): Promise<void> {
    if (this.mode === 'write') {
      await this.loadOnce(undefined)
      return
    }
    // A reader takes no lock: it reads until what it read is one committed state (read-snapshot.ts).
    for (let attempt = 1; ; attempt++) {
      const snapshot = await openSnapshot(this.paths)
      let failure: unknown
      try {
        await this.loadOnce(snapshot)
      } catch (error) {
        failure = error
      }
      const stable = await stillSame(this.paths, snapshot).finally(() => snapshot.close())
      if (stable || attempt >= READ_ATTEMPTS) {
        if (failure !== undefined) throw failure
        if (!stable) throw new BusyError(`folder '${this.name}' kept changing while it was read (${this.paths.base}): a backup is writing it`, {hint: 'try again in a moment'})
        return
      }
      await this.closeReader()
      await pause(attempt)
    }
  }

  /**
   * Recovery on open (docs/design.md). `snapshot` (read mode): the `.imap` comes from the file it
   * holds, and the journal is read before the mbox is opened, whose size is taken from the file
   * that later reads use.
   */
  private async loadOnce(snapshot: ReadSnapshot | undefined): Promise<void> {
    await this.closeReader()
    await this.finishInterruptedOperations()
    const write = this.mode === 'write'
    let imapBytes: Buffer | undefined
    let journalText: string | undefined
    let mboxSize: number | undefined
    if (snapshot === undefined) {
      imapBytes = await readBytesIfPresent(this.paths.imap)
      mboxSize = await sizeIfPresent(this.paths.mbox)
      journalText = await readIfPresent(this.paths.journal)
    } else {
      imapBytes = await snapshot.imap?.readFile().catch((error: unknown) => {
        throw localIoError(error, 'read', this.paths.imap)
      })
      journalText = await readIfPresent(this.paths.journal)
      mboxSize = await this.openReaderIfPresent()
    }
    this.metadata = undefined
    this.pristine = undefined
    this.dirty = false
    this.exactState = {present: false}

    if (imapBytes === undefined) {
      // An exactness file without its folder (imap-backup removed the pair): kept aside at the
      // first write, never overwritten.
      this.exactState = await readExactness(this.paths.exact, undefined)
      if (journalText !== undefined) refuseNewerJournal(journalText, this.paths.journal)
      this.failOnFinding({paths: this.paths, interrupted: [], imapPresent: false, mboxSize, ...(journalText === undefined ? {} : {journal: {state: 'pending', appended: undefined}})})
      return // a folder not backed up yet (an empty mbox alone holds nothing)
    }

    let parsed: FolderMetadata | LegacyV2Metadata
    let pristine: Pristine | undefined
    try {
      // mailkeep's own layout is read byte by byte (imap-scan.ts); anything else as JSON.
      const scanned = scanMetadata(imapBytes, this.paths.imap)
      parsed = scanned?.meta ?? parseMetadata(imapBytes.toString('utf8'), this.paths.imap)
      pristine = scanned?.pristine
    } catch (error) {
      // Same finding, with the repair command for this account and folder.
      if (error instanceof DamagedError) throw this.damaged(error.message, error)
      throw error
    }
    // Before anything is written: a journal of a newer mailkeep (UnsupportedFormatError) means the
    // folder must stay exactly as it is, the empty mbox below included.
    const journal: JournalContents | undefined = journalText === undefined ? undefined : parseJournal(journalText, this.paths.journal)

    let meta: FolderMetadata
    if (isV2(parsed)) {
      if (mboxSize === undefined) throw this.damaged(`.mbox file '${this.paths.mbox}' is missing`)
      meta = await this.migrateV2(parsed)
      this.dirty = true
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
      heads.push({uid: m.uid, offset: m.offset, from: (await this.readRange(m.offset, n)).equals(FROM_)})
    }
    this.failOnFinding({
      paths: this.paths,
      interrupted: [],
      imapPresent: true,
      mboxSize,
      list: {count: meta.messages.length, end: meta.messages.end, ...(overlap === undefined ? {} : {overlap})},
      heads,
      ...(journalState === undefined ? {} : {journal: journalState}),
    })
    if (mboxSize === undefined && write) await this.createEmptyMbox()

    // The exactness file once the journal's entries are in: a crash between its write and the
    // `.imap`'s (fold) left rows for them.
    this.exactState = await readExactness(this.paths.exact, meta)
    this.noteExactness(meta)

    const end = meta.messages.end
    const size = mboxSize ?? 0
    if (size > end && write) {
      // Explained by the journal (the inspection found no error): an interrupted transaction's
      // uncommitted bytes (I7).
      await truncateFile(this.paths.mbox, end)
      this.logger.warn(`removed ${size - end} bytes of uncommitted data left by an interrupted run`, {bytes: size - end})
    }
    const duplicates = meta.messages.duplicateUids()
    if (duplicates.length > 0) {
      this.logger.warn(`metadata lists ${duplicates.length} UID(s) more than once; \`mailkeep local check\` shows them`, {uids: duplicates.slice(0, 20)})
    }
    this.metadata = meta
    this.pristine = pristine
    if (write && (journalText !== undefined || this.dirty)) {
      if (recovered.length > 0) this.logger.info(`recovered ${recovered.length} message(s) committed by an interrupted run`, {messages: recovered.length})
      await this.fold(journal?.header.id ?? meta.journalId)
    }
  }

  /** The inspection of what was read (inspection.ts): opening fails on its first error. */
  private failOnFinding(facts: FolderFacts): void {
    const error = firstError(inspectFolder(facts, {repair: undefined}))
    if (error !== undefined) throw this.damaged(error.message)
  }

  /** Logs what the exactness data says, and marks a format-1 `.imap` for migration. */
  private noteExactness(meta: FolderMetadata): void {
    const state = this.exactState
    const moved = meta.recordsInFile ?? 0
    if (moved > 0) {
      // Format 1 (mailkeep 0.1.0) kept the records in `.imap`, where imap-backup drops them: they
      // move to the exactness file at the next write (fold: that file first, then `.imap`).
      this.dirty = true
      if (this.mode === 'write') this.logger.info(`moving ${moved} exactness record(s) from '${this.paths.imap}' to '${this.paths.exact}'`, {records: moved})
    }
    if (state.damaged !== undefined) {
      this.logger.warn(`${state.damaged}; the messages it described are read as imap-backup reads them (not byte-exact)`)
    } else if (state.binding !== undefined && state.binding.unmatchedUids.length > 0) {
      const why = state.binding.problem ?? 'their messages were moved or rewritten by another tool'
      this.logger.warn(`${state.binding.unmatchedUids.length} exactness record(s) in '${this.paths.exact}' no longer match (${why}); those messages are read as imap-backup reads them (not byte-exact)`, {
        uids: state.binding.unmatchedUids.slice(0, 20),
      })
    } else if (!state.present && meta.exactCount !== undefined && meta.exactCount > meta.messages.recordCount) {
      this.logger.warn(`exactness file '${this.paths.exact}' is missing; the messages it described are read as imap-backup reads them (not byte-exact)`)
    }
  }

  private async migrateV2(v2: LegacyV2Metadata): Promise<FolderMetadata> {
    const content = await this.readWhole()
    const entries = scanEntries(content, 'legacy')
    if (entries.length !== v2.uids.length) {
      throw this.damaged(`version 2 metadata file '${this.paths.imap}' lists ${v2.uids.length} UIDs but .mbox file '${this.paths.mbox}' holds ${entries.length} messages; it was not migrated`)
    }
    const meta = emptyMetadata(v2.uidValidity)
    meta.messages = new MessageTable(entries.length)
    for (let i = 0; i < entries.length; i++) meta.messages.pushRow(v2.uids[i]!, entries[i]!.offset, entries[i]!.length, [])
    this.logger.info(`migrated metadata file '${this.paths.imap}' from version 2 to 3 (written at the next commit)`)
    return meta
  }

  private async finishInterruptedOperations(): Promise<void> {
    const intent = await readIfPresent(this.paths.renameIntent)
    const compact = await regularFileIfPresent(this.paths.imapCompact)
    const mboxCompact = await regularFileIfPresent(this.paths.mboxCompact)
    const exactCompact = await regularFileIfPresent(this.paths.exactCompact)
    if (intent === undefined && !compact && !mboxCompact && !exactCompact) return
    if (this.mode !== 'write') {
      // A rewrite still being written (a lone `.mbox.compact`) changes nothing committed.
      if (intent === undefined && !compact) return
      throw this.damaged(`an interrupted operation on '${this.paths.base}' has not been finished yet`, undefined, 'run `mailkeep backup` (or any command that writes to this account) to finish it')
    }
    if (intent !== undefined) {
      let to: unknown
      try {
        to = (JSON.parse(intent) as {to?: unknown}).to
      } catch {
        to = undefined
      }
      if (typeof to !== 'string') throw this.damaged(`rename intent '${this.paths.renameIntent}' is unreadable`)
      await this.finishRename(to)
      this.logger.warn(`finished an interrupted rename to '${to}'`)
    }
    if (compact) {
      await this.finishCompaction()
      this.logger.warn('finished an interrupted rewrite of the folder')
    } else {
      // An unfinished rewrite: our own temporary files.
      await removeIfPresent(this.paths.mboxCompact)
      await removeIfPresent(this.paths.exactCompact)
    }
  }

  private async finishRename(targetRelative: string): Promise<void> {
    const target = folderPaths(this.root, targetRelative)
    // The upload maps go too: they say where THIS backup (this UIDVALIDITY) was uploaded, which
    // is where a restore of the kept-aside copy continues (restore-target.ts), and the pairs of
    // its restored copies (message-identity.ts); the folder starting afresh has none yet.
    for (const [from, to] of [
      [this.paths.mbox, target.mbox],
      [this.paths.imap, target.imap],
      [this.paths.mirror, target.mirror],
      ...this.paths.uploadMaps.map((path, i) => [path, target.uploadMaps[i]!] as const),
      [this.paths.exact, target.exact],
    ] as const) {
      if ((await exists(from)) && !(await exists(to))) await rename(from, to)
    }
    await fsyncDirectory(dirname(this.paths.base))
    await removeIfPresent(this.paths.renameIntent)
    await fsyncDirectory(dirname(this.paths.base))
  }

  private async finishCompaction(): Promise<void> {
    if (await exists(this.paths.mboxCompact)) await rename(this.paths.mboxCompact, this.paths.mbox)
    if (await exists(this.paths.exactCompact)) await rename(this.paths.exactCompact, this.paths.exact)
    await fsyncDirectory(dirname(this.paths.base))
    await rename(this.paths.imapCompact, this.paths.imap)
    await fsyncDirectory(dirname(this.paths.base))
  }

  private async createEmptyMbox(): Promise<void> {
    const handle = await openNoFollow(this.paths.mbox, constants.O_WRONLY | constants.O_CREAT, 0o600)
    await handle.close()
  }

  /** The row of a stored UID (with duplicate UIDs, imap-backup's bug, the first one). */
  private rowOf(uid: number): number {
    const row = this.messages.indexOf(uid)
    if (row < 0) throw new InternalError(`UID ${uid} is not in folder '${this.name}'`)
    return row
  }

  /** Read mode: opens the mbox for all later reads; its size, or undefined when there is none. */
  private async openReaderIfPresent(): Promise<number | undefined> {
    try {
      this.reader = await openNoFollow(this.paths.mbox, constants.O_RDONLY, 0o600)
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined
      throw localIoError(error, 'open', this.paths.mbox)
    }
    const info = await this.reader.stat()
    if (!info.isFile()) throw this.damaged(`'${this.paths.mbox}' is not a regular file`)
    return info.size
  }

  private async readRange(offset: number, length: number): Promise<Buffer> {
    this.reader ??= await openNoFollow(this.paths.mbox, constants.O_RDONLY, 0o600).catch((error: unknown) => {
      throw localIoError(error, 'open', this.paths.mbox)
    })
    const buffer = Buffer.allocUnsafe(length)
    let done = 0
    while (done < length) {
      const {bytesRead} = await this.reader.read(buffer, done, length - done, offset + done)
      if (bytesRead === 0) throw this.damaged(`.mbox file '${this.paths.mbox}' ends before byte ${offset + length}`)
      done += bytesRead
    }
    return buffer
  }

  private async readWhole(): Promise<Buffer> {
    const size = (await sizeIfPresent(this.paths.mbox)) ?? 0
    return size === 0 ? Buffer.alloc(0) : this.readRange(0, size)
  }

  private async closeReader(): Promise<void> {
    const reader = this.reader
    this.reader = undefined
    await reader?.close()
  }

  private assertWritable(): void {
    if (this.mode !== 'write') throw new InternalError(`folder '${this.name}' was opened read-only`)
  }

  private damaged(message: string, cause?: unknown, hint?: string): DamagedError {
    const repair = this.account === undefined ? 'mailkeep local repair' : `mailkeep local repair ${this.account} ${JSON.stringify(this.name)}`
    return new DamagedError(message, {cause, hint: hint ?? `nothing was changed; \`mailkeep local check\` lists the problems and \`${repair}\` fixes them`})
  }
}

function isV2(value: FolderMetadata | LegacyV2Metadata): value is LegacyV2Metadata {
  return 'version' in value && value.version === 2
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

