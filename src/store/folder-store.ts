/**
 * One backed-up folder: its `.mbox`, `.imap`, exactness file and journal (docs/design.md). Opening a folder runs
 * recovery ("Recovery on open"); writing happens only inside a Transaction, or through the two
 * explicit whole-folder operations: renameAway() (UIDVALIDITY change) and removeMessages()
 * (mirror mode).
 *
 * A writer holds the account's exclusive lock; see account-store.ts. A reader ('read') needs no
 * lock: it reads the last committed state (read-snapshot.ts, docs/design.md "Readers").
 */
import {constants, type FileHandle} from 'node:fs/promises'
import {dirname} from 'node:path'
import {DamagedError, InternalError, localIoError} from '../shared/errors.js'
import {atomicWrite, atomicWriteChunks, fsyncDirectory} from '../shared/atomic-write.js'
import type {Logger} from '../shared/logger.js'
import type {QuotingRule} from './mboxrd/index.js'
import {encodeFolderPath} from './folder-path.js'
import {checkNoSymlinks, ensureFolderDirectory, openNoFollow} from './safe-path.js'
import {JOURNAL_FORMAT, JournalWriter, newJournalId} from './journal.js'
import {emptyMetadata, serializeMetadataChunks, type ExactTuple, type FolderMetadata, type FolderServerState, type MessageEntry, type Pristine} from './metadata.js'
import {MessageTable, type ReadonlyMessageTable} from './message-table.js'
import {Transaction} from './transaction.js'
import type {TransactionHost} from './transaction-types.js'
import {DEFAULT_TUNING, type TransactionTuning} from './tuning.js'
import {exists, removeIfPresent, sizeIfPresent} from './file-ops.js'
import {serializeExactChunks} from './exact-file.js'
import {folderPaths, type FolderPaths} from './folder-paths.js'
import {keepStaleExactnessAside, type ExactnessState} from './exactness-state.js'
import {MboxReader} from './mbox-reader.js'
import {entryHeads, readStoredMessage, type EntrySource, type StoredMessage} from './entry-reads.js'
import {requoteCounts, requotedEntry, writeCompactMbox, type RequoteResult, type RewriteStep} from './folder-rewrite.js'
import {finishCompaction, finishInterruptedOperations, finishRename} from './interrupted-operations.js'
import {recoverFolder} from './folder-recovery.js'
import {readCommittedState, type ReadSnapshot} from './read-snapshot.js'
import {freeAsideName, type RenameAwayOptions} from './kept-aside.js'

export type OpenMode = 'write' | 'read'
export type {RequoteResult} from './folder-rewrite.js'
export type {StoredMessage} from './entry-reads.js'
export type {RenameAwayOptions} from './kept-aside.js'

export interface OpenFolderOptions {
  mode: OpenMode
  logger: Logger
  /** Used in hints, e.g. "mailkeep local repair <account> <folder>". */
  account?: string
  /** Called when the folder is closed (AccountStore stops tracking it, so its memory is freed). */
  onClose?: (folder: FolderStore) => void
}

/** What `requote` found (and, unless a dry run, did). */
const NO_MESSAGES: ReadonlyMessageTable = new MessageTable(0)

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
  private readonly reader: MboxReader
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
    this.reader = new MboxReader(this.paths.mbox, (message) => this.damaged(message))
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
    const before = this.exactState
    this.exactState = await keepStaleExactnessAside(before, this.paths.exact, this.logger)
    if (meta.messages.recordCount === 0 && !before.present) return
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
    return this.reader.readRange(this.messages.offsetAt(row), this.messages.lengthAt(row))
  }

  /**
   * At most the first `maxBytes` of the entry (separator line included): for readers that need
   * only the header block (`local list`), so a large message is never read whole.
   */
  async readEntryHead(uid: number, maxBytes: number): Promise<Buffer> {
    const row = this.rowOf(uid)
    return this.reader.readRange(this.messages.offsetAt(row), Math.min(this.messages.lengthAt(row), maxBytes))
  }

  /** readEntryHead() for every message, in metadata order, in windows (entry-reads.ts). */
  readEntryHeads(maxBytes: number): AsyncGenerator<{uid: number; head: Buffer}, void, undefined> {
    return entryHeads(this.reader, this.messages, maxBytes)
  }

  /**
   * The message as the server sent it when mailkeep stored it; for entries written by
   * imap-backup, its stored text (LF line endings, trailing newline), as imap-backup reads it.
   */
  async readMessage(uid: number): Promise<StoredMessage> {
    return readStoredMessage(this.entrySource(), this.rowOf(uid))
  }

  private entrySource(): EntrySource {
    return {reader: this.reader, messages: this.messages, exactPath: this.paths.exact, mboxPath: this.paths.mbox, damaged: (message, cause) => this.damaged(message, cause)}
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
  async renameAway(options: RenameAwayOptions = {}): Promise<string> {
    this.assertWritable()
    const meta = this.meta
    const target = await freeAsideName(this.root, this.name, meta.uidValidity, options.reserved)
    await options.beforeRename?.(target)
    const targetRelative = encodeFolderPath(target)
    // The mbox held open for reads goes with the rename: a folder begun afresh under this name
    // (initialize()) must not be read through it (a mirror-mode rewrite copied the old folder's
    // bytes into the new one's; found by test/store/readers.test.ts).
    await this.reader.close()
    await atomicWrite(this.paths.renameIntent, JSON.stringify({to: targetRelative}), {mode: 0o600})
    await finishRename(this.root, this.paths, targetRelative)
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
    const {result, added} = await requoteCounts(this.reader, messages)
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
    const undecodable = (uid: number, error: unknown): Error => this.damaged(`message UID ${uid} in '${this.paths.mbox}' cannot be decoded: ${(error as Error).message}`, error)
    await this.rewriteFolder(
      async (row) => (added.has(row) ? requotedEntry(this.reader, messages, row, this.paths.exact, undecodable) : 'copy'),
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
    const kept = await writeCompactMbox(this.reader, this.paths, meta.messages, plan, quoting)
    // A pair stays while one of its messages does: it still tells which stored message the
    // removed one was (uploads count the two as one message, docs/upload-maps.md U7).
    const pairs = meta.restoredCopies?.filter(([copy, original]) => kept.has(copy) || kept.has(original))
    const next: FolderMetadata = {...meta, messages: kept, restoredCopies: pairs === undefined || pairs.length === 0 ? undefined : pairs}
    // The new exactness file before `.imap.compact`, which commits the rewrite (Recovery step 1).
    await this.writeExactness(this.paths.exactCompact, next)
    await atomicWriteChunks(this.paths.imapCompact, serializeMetadataChunks(next), {mode: 0o600})
    await this.reader.close()
    await finishCompaction(this.paths)
    this.metadata = next
    this.pristine = undefined
    this.exactState = {...this.exactState, pristine: undefined}
  }

  /** Rolls back an open transaction and closes the files. The folder can be opened again. */
  async close(): Promise<void> {
    try {
      if (this.transaction?.isOpen) await this.transaction.rollback()
      await this.reader.close()
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
    await readCommittedState(this.paths, `folder '${this.name}'`, (snapshot) => this.loadOnce(snapshot), () => this.reader.close())
  }

  /** Recovery on open (docs/design.md): step 1 here, the rest in folder-recovery.ts. */
  private async loadOnce(snapshot: ReadSnapshot | undefined): Promise<void> {
    await this.reader.close()
    const write = this.mode === 'write'
    const damaged = (message: string, cause?: unknown, hint?: string): DamagedError => this.damaged(message, cause, hint)
    await finishInterruptedOperations({root: this.root, paths: this.paths, write, logger: this.logger, damaged})
    this.metadata = undefined
    this.pristine = undefined
    this.dirty = false
    this.exactState = {present: false}
    const state = await recoverFolder({paths: this.paths, write, logger: this.logger, reader: this.reader, damaged}, snapshot)
    this.metadata = state.meta
    this.pristine = state.pristine
    this.exactState = state.exactState
    this.dirty = state.dirty
    if (state.fold !== undefined) await this.fold(state.fold.journalId)
  }

  /** The row of a stored UID (with duplicate UIDs, imap-backup's bug, the first one). */
  private rowOf(uid: number): number {
    const row = this.messages.indexOf(uid)
    if (row < 0) throw new InternalError(`UID ${uid} is not in folder '${this.name}'`)
    return row
  }

  private assertWritable(): void {
    if (this.mode !== 'write') throw new InternalError(`folder '${this.name}' was opened read-only`)
  }

  private damaged(message: string, cause?: unknown, hint?: string): DamagedError {
    const repair = this.account === undefined ? 'mailkeep local repair' : `mailkeep local repair ${this.account} ${JSON.stringify(this.name)}`
    return new DamagedError(message, {cause, hint: hint ?? `nothing was changed; \`mailkeep local check\` lists the problems and \`${repair}\` fixes them`})
  }
}

