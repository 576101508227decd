/**
 * Upload maps: which destination message is the copy of which source message, for restore,
 * copy, mirror and migrate (docs/upload-maps.md). The store layer's part: the files, their
 * journal and the upload lock. No IMAP here.
 *
 * Two files per backed-up folder `<P>`:
 *
 * - `<P>.mirror` (copy, mirror, migrate): imap-backup's format (compat §4.7), one entry per
 *   destination user: `{"<user>":{"source_uid_validity":S,"destination_uid_validity":D,
 *   "map":{"<src uid>":<dst uid>},"mailkeep":{"folder":"<dst folder>","pending":{…}}}}`.
 *   imap-backup reads the first three keys of an entry and keeps any others when it rewrites the
 *   file, so mailkeep's additions live in the entry's `mailkeep` object.
 * - `<P>.restore` (restore): mailkeep's own, one entry per destination user AND destination
 *   folder: `{"version":1,"destinations":{"<user>":{"<dst folder>":{<entry as above, without
 *   "mailkeep", with "pending">}}}}`.
 *
 * Both are only ever replaced atomically (I2's rule for every non-append write). Between two
 * rewrites, changes go to an append-only journal `<P>.mirror.journal` / `<P>.restore.journal`
 * (JSON Lines), so a folder of 100,000 messages costs one rewrite per FOLD_RECORDS changes, not
 * one per message. Every journal record is an absolute operation (reset an entry, set or remove
 * pairs, set the pending intent), so replaying a journal over the file it was folded into gives
 * the same state: a crash between the rewrite and the journal's removal is harmless. A torn last
 * line (the crash came mid-write) is ignored; it was never fsynced, so nothing relied on it.
 *
 * The *pending intent* is what makes an upload idempotent across a crash: before a batch of
 * APPENDs the uploader records, durably (`intend()` fsyncs), "source UIDs u1…un are about to be
 * appended; their copies will have destination UIDs ≥ from". A run that finds an intent looks
 * for those messages on the destination before appending anything again.
 *
 * Writers hold the account's upload lock (`acquireUploadLock`), so two uploads from one backup
 * never interleave their map writes; the backup itself is only read (shared account lock).
 */
import {constants, type FileHandle} from 'node:fs/promises'
import {dirname} from 'node:path'
import {DamagedError, localIoError} from '../shared/errors.js'
import {writeAll} from '../shared/write-all.js'
import {atomicWrite, fsyncDirectory} from '../shared/atomic-write.js'
import type {Logger} from '../shared/logger.js'
import {readIfPresent, removeIfPresent} from './file-ops.js'
import {isObject, isPositiveInt} from './json-guards.js'
import {acquireAccountLock, type AccountLock} from './lock.js'
import {openNoFollow} from './safe-path.js'
import {applyLine, mapObject, optionalUid, parseJournalLine, parsePending, type JournalLine, type MutableEntry} from './upload-journal.js'

export type UploadMapKind = 'mirror' | 'restore'

/** The lock file that keeps uploads from one backup apart (in the account root). */
export const UPLOAD_LOCK_FILE_NAME = '.mailkeep-upload.lock'

/** The journal is folded into the map file after this many records. */
export const FOLD_RECORDS = 20_000

const RESTORE_FORMAT = 1

export interface PendingUpload {
  /** Every copy of these messages has a destination UID at or above this. */
  from: number
  /** Source UIDs that may have been appended without their destination UID being recorded. */
  uids: readonly number[]
}

export interface UploadMapEntry {
  /** The destination folder; undefined in a `.mirror` entry written by imap-backup. */
  readonly folder: string | undefined
  readonly sourceUidValidity: number | undefined
  readonly destinationUidValidity: number | undefined
  /** Source UID → destination UID. */
  readonly map: ReadonlyMap<number, number>
  readonly pending: PendingUpload | undefined
  /**
   * restore: the entry of a *clash* folder (docs/commands/restore.md, "Folder clashes"): the
   * backed-up messages it already holds, recorded as present so that they are not uploaded into
   * the clash folder `<name>-<uidvalidity>` too. Nothing is ever uploaded into it.
   */
  readonly clash: boolean
}

/** Takes the account's upload lock (exclusive, not waiting): one upload per backup at a time. */
export async function acquireUploadLock(root: string): Promise<AccountLock> {
  return acquireAccountLock(root, 'exclusive', {fileName: UPLOAD_LOCK_FILE_NAME})
}

export function uploadMapPath(base: string, kind: UploadMapKind): string {
  return `${base}.${kind}`
}

export function uploadJournalPath(base: string, kind: UploadMapKind): string {
  return `${base}.${kind}.journal`
}

/**
 * The upload map of one source folder (one of its two files). Changes are kept in memory and
 * journaled; `intend()` and `sync()` make them durable, `fold()` rewrites the map file.
 */
export class UploadMap {
  readonly path: string
  readonly journalPath: string
  private readonly users = new Map<string, Map<string, MutableEntry>>()
  /** Top-level keys of a `.mirror` file that are not entries (kept as they are). */
  private extraTop: Record<string, unknown> = {}
  private journal: FileHandle | undefined
  private buffered: JournalLine[] = []
  private journalRecords = 0
  private dirty = false

  private constructor(
    readonly base: string,
    readonly kind: UploadMapKind,
  ) {
    this.path = uploadMapPath(base, kind)
    this.journalPath = uploadJournalPath(base, kind)
  }

  /**
   * Reads the map file and replays its journal, if any. The caller holds the upload lock (the
   * journal is folded at once, so that the next records start a fresh file).
   */
  static async open(base: string, kind: UploadMapKind, logger: Logger): Promise<UploadMap> {
    const map = new UploadMap(base, kind)
    const text = await readIfPresent(map.path)
    if (text !== undefined) map.parse(text)
    const journal = await readIfPresent(map.journalPath)
    if (journal !== undefined) {
      const applied = map.replay(journal)
      if (applied > 0) logger.info(`replayed ${applied} upload map record(s) left by an interrupted run`, {file: map.journalPath})
      await map.fold()
    }
    return map
  }

  /**
   * The map as the files hold it, a leftover journal replayed in memory only: nothing is written,
   * so no upload lock is needed. For a backup, which reads a folder's `.restore` map under the
   * account's exclusive lock (no upload can run then), and for copy and mirror, which read the
   * `.restore` map of a folder they upload (docs/upload-maps.md, U7). Undefined when there is
   * no map at all.
   */
  static async read(base: string, kind: UploadMapKind): Promise<UploadMap | undefined> {
    const map = new UploadMap(base, kind)
    const text = await readIfPresent(map.path)
    const journal = await readIfPresent(map.journalPath)
    if (text === undefined && journal === undefined) return undefined
    if (text !== undefined) map.parse(text)
    if (journal !== undefined) map.replay(journal)
    return map
  }

  /** The entry for this destination user and folder (for `.mirror`: the user's one entry, if it is for this folder or names none). */
  entry(user: string, folder: string): UploadMapEntry | undefined {
    const entry = this.find(user, folder)
    return entry
  }

  /** Starts the entry afresh: empty map, these UIDVALIDITYs, no intent; `clash` for a clash folder's (restore). */
  reset(user: string, folder: string, sourceUidValidity: number, destinationUidValidity: number, clash = false): void {
    this.apply({t: 'r', u: user, f: folder, s: sourceUidValidity, d: destinationUidValidity, ...(clash ? {c: true as const} : {})})
  }

  /** Records source → destination pairs (durable at the next intend/sync/fold). */
  record(user: string, folder: string, pairs: ReadonlyArray<readonly [number, number]>): void {
    if (pairs.length === 0) return
    this.apply({t: 'm', u: user, f: folder, p: pairs.map(([s, d]) => [s, d])})
  }

  /** Removes pairs by source UID. */
  forget(user: string, folder: string, sourceUids: readonly number[]): void {
    if (sourceUids.length === 0) return
    this.apply({t: 'x', u: user, f: folder, s: [...sourceUids]})
  }

  /** Records the intent of a batch durably: when this resolves, a crash cannot lose it. */
  async intend(user: string, folder: string, pending: PendingUpload): Promise<void> {
    this.apply({t: 'p', u: user, f: folder, from: pending.from, uids: [...pending.uids]})
    await this.sync()
  }

  /** Clears the intent (durable at the next intend/sync/fold). */
  clearPending(user: string, folder: string): void {
    if (this.find(user, folder)?.pending === undefined) return
    this.apply({t: 'p', u: user, f: folder, from: 0, uids: []})
  }

  /** Writes buffered records to the journal and fsyncs it; folds a long journal. */
  async sync(): Promise<void> {
    await this.flush(true)
    if (this.journalRecords >= FOLD_RECORDS) await this.fold()
  }

  /** Rewrites the map file with everything recorded (atomically), then removes the journal. */
  async fold(): Promise<void> {
    this.buffered = []
    if (this.dirty) await atomicWrite(this.path, this.serialize(), {mode: 0o600})
    this.dirty = false
    await this.closeJournal()
    await removeIfPresent(this.journalPath)
    await fsyncDirectory(dirname(this.journalPath)).catch(() => undefined)
    this.journalRecords = 0
  }

  /** Folds and closes. After an interruption the journal is enough; fold() is still tried. */
  async close(): Promise<void> {
    try {
      await this.fold()
    } finally {
      await this.closeJournal()
    }
  }

  // ---------------------------------------------------------------------------------------

  private find(user: string, folder: string): MutableEntry | undefined {
    const entries = this.users.get(user)
    if (entries === undefined) return undefined
    if (this.kind === 'restore') return entries.get(folder)
    const only = entries.get('')
    return only !== undefined && (only.folder === undefined || only.folder === folder) ? only : undefined
  }

  /** The entry a record changes, created when missing (for `.mirror`: replacing another folder's). */
  private target(user: string, folder: string): MutableEntry {
    let entries = this.users.get(user)
    if (entries === undefined) this.users.set(user, (entries = new Map()))
    const key = this.kind === 'restore' ? folder : ''
    let entry = entries.get(key)
    if (entry === undefined || (this.kind === 'mirror' && entry.folder !== undefined && entry.folder !== folder)) {
      entry = {folder, sourceUidValidity: undefined, destinationUidValidity: undefined, map: new Map(), pending: undefined, clash: false, extra: entry?.extra ?? {}, extraMailkeep: {}}
      entries.set(key, entry)
    }
    entry.folder = folder
    return entry
  }

  private apply(line: JournalLine): void {
    applyLine(this.target(line.u, line.f), line)
    this.dirty = true
    // Written at the next intend()/sync(): one write per batch, in order (writes are never
    // started concurrently, so records cannot be reordered on disk).
    this.buffered.push(line)
  }

  private async flush(fsync: boolean): Promise<void> {
    if (this.buffered.length > 0) {
      const lines = this.buffered
      this.buffered = []
      this.journal ??= await this.openJournal()
      try {
        await writeAll(this.journal, lines.map((l) => JSON.stringify(l)).join('\n') + '\n')
      } catch (error) {
        throw localIoError(error, 'write', this.journalPath)
      }
      this.journalRecords += lines.length
    }
    if (fsync && this.journal !== undefined) {
      try {
        await this.journal.sync()
      } catch (error) {
        throw localIoError(error, 'write', this.journalPath)
      }
    }
  }

  private async openJournal(): Promise<FileHandle> {
    const handle = await openNoFollow(this.journalPath, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND, 0o600)
    // A new journal's directory entry must survive a power loss before its records matter.
    await fsyncDirectory(dirname(this.journalPath)).catch((error: unknown) => {
      throw localIoError(error, 'write', dirname(this.journalPath))
    })
    return handle
  }

  private async closeJournal(): Promise<void> {
    const handle = this.journal
    this.journal = undefined
    await handle?.close().catch(() => undefined)
  }

  private replay(text: string): number {
    const lines = text.split('\n')
    const complete = lines.slice(0, -1) // the part after the last LF is '' or a torn line
    let applied = 0
    for (let i = 0; i < complete.length; i++) {
      const line = parseJournalLine(complete[i]!)
      if (line === undefined) {
        // A garbled line that is not the last one: something else wrote here.
        throw new DamagedError(`upload journal '${this.journalPath}' has an unreadable line ${i + 1}`, {
          hint: 'move the file aside and rerun: messages already on the destination are then found by comparing them (`mailkeep help upload-maps`)',
        })
      }
      applyLine(this.target(line.u, line.f), line)
      applied++
    }
    if (applied > 0) this.dirty = true
    return applied
  }

  private parse(text: string): void {
    let data: unknown
    try {
      data = JSON.parse(text)
    } catch (error) {
      throw this.damaged('is not valid JSON', error)
    }
    if (!isObject(data)) throw this.damaged('is not a JSON object')
    if (this.kind === 'mirror') {
      for (const [user, value] of Object.entries(data)) {
        if (!isObject(value)) {
          this.extraTop[user] = value
          continue
        }
        const entry = this.parseEntry(value, `entry '${user}'`)
        const mk = value['mailkeep']
        if (mk !== undefined) {
          if (!isObject(mk)) throw this.damaged(`entry '${user}' has a "mailkeep" key that is not an object`)
          const {folder, pending, ...rest} = mk
          if (folder !== undefined && typeof folder !== 'string') throw this.damaged(`entry '${user}' has an invalid "mailkeep.folder"`)
          entry.folder = folder
          entry.pending = parsePending(pending, () => this.damaged(`entry '${user}' has an invalid "mailkeep.pending"`))
          entry.extraMailkeep = rest
        }
        this.users.set(user, new Map([['', entry]]))
      }
      return
    }
    const version = data['version']
    if (version !== RESTORE_FORMAT) throw this.damaged(`has unsupported version ${JSON.stringify(version)} (expected ${RESTORE_FORMAT})`)
    const destinations = data['destinations']
    if (!isObject(destinations)) throw this.damaged('has no "destinations" object')
    for (const [user, folders] of Object.entries(destinations)) {
      if (!isObject(folders)) throw this.damaged(`destination '${user}' is not an object`)
      const entries = new Map<string, MutableEntry>()
      for (const [folder, value] of Object.entries(folders)) {
        if (!isObject(value)) throw this.damaged(`destination '${user}' folder '${folder}' is not an object`)
        const entry = this.parseEntry(value, `destination '${user}' folder '${folder}'`)
        entry.folder = folder
        entry.pending = parsePending(value['pending'], () => this.damaged(`destination '${user}' folder '${folder}' has an invalid "pending"`))
        const clash = value['clash']
        if (clash !== undefined && typeof clash !== 'boolean') throw this.damaged(`destination '${user}' folder '${folder}' has an invalid "clash"`)
        entry.clash = clash === true
        entries.set(folder, entry)
      }
      this.users.set(user, entries)
    }
  }

  private parseEntry(value: Record<string, unknown>, what: string): MutableEntry {
    const {source_uid_validity: s, destination_uid_validity: d, map: rawMap, mailkeep: _mailkeep, pending: _pending, ...extra} = value
    const map = new Map<number, number>()
    if (rawMap !== undefined && rawMap !== null) {
      if (!isObject(rawMap)) throw this.damaged(`${what} has a "map" that is not an object`)
      for (const [key, dst] of Object.entries(rawMap)) {
        const src = /^\d+$/.test(key) ? Number(key) : NaN
        if (!isPositiveInt(src) || !isPositiveInt(dst)) throw this.damaged(`${what} maps ${JSON.stringify(key)} to ${JSON.stringify(dst)}: not UIDs`)
        map.set(src, dst)
      }
    }
    return {
      folder: undefined,
      sourceUidValidity: optionalUid(s, () => this.damaged(`${what} has an invalid "source_uid_validity"`)),
      destinationUidValidity: optionalUid(d, () => this.damaged(`${what} has an invalid "destination_uid_validity"`)),
      map,
      pending: undefined,
      clash: false,
      // A restore entry's "clash" is read by parse(); a mirror entry's (imap-backup's file) is not
      // ours and is kept like any other unknown key.
      extra: this.kind === 'mirror' ? extra : {},
      extraMailkeep: {},
    }
  }

  private serialize(): string {
    if (this.kind === 'mirror') {
      const out: Record<string, unknown> = {...this.extraTop}
      for (const [user, entries] of this.users) {
        const entry = entries.get('')
        if (entry === undefined) continue
        const mk: Record<string, unknown> = {...entry.extraMailkeep}
        if (entry.folder !== undefined) mk['folder'] = entry.folder
        if (entry.pending !== undefined) mk['pending'] = {from: entry.pending.from, uids: entry.pending.uids}
        out[user] = {
          ...entry.extra,
          source_uid_validity: entry.sourceUidValidity ?? null,
          destination_uid_validity: entry.destinationUidValidity ?? null,
          map: mapObject(entry.map),
          mailkeep: mk,
        }
      }
      return JSON.stringify(out)
    }
    const destinations: Record<string, Record<string, unknown>> = {}
    for (const [user, entries] of this.users) {
      const folders: Record<string, unknown> = {}
      for (const [folder, entry] of entries) {
        const value: Record<string, unknown> = {
          source_uid_validity: entry.sourceUidValidity ?? null,
          destination_uid_validity: entry.destinationUidValidity ?? null,
          map: mapObject(entry.map),
        }
        if (entry.pending !== undefined) value['pending'] = {from: entry.pending.from, uids: entry.pending.uids}
        if (entry.clash) value['clash'] = true
        folders[folder] = value
      }
      destinations[user] = folders
    }
    return JSON.stringify({version: RESTORE_FORMAT, destinations})
  }

  private damaged(what: string, cause?: unknown): DamagedError {
    return new DamagedError(`upload map '${this.path}' ${what}`, {
      cause,
      hint: 'move the file aside and rerun: messages already on the destination are then found by comparing them (`mailkeep help upload-maps`)',
    })
  }
}
