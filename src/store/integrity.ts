/**
 * The integrity checker behind `mailkeep local check` (docs/commands/local.md; compat §4.5).
 *
 * It runs every check on a folder and returns ALL findings, not the first one: imap-backup's
 * seven checks with their exact texts (compat §4.5, in its order), then mailkeep's own (design.md
 * invariants I1–I9): duplicate UIDs, exactness records that do not decode the entry they describe,
 * messages that are not byte-exact (no exactness record, or one that no longer matches because
 * another tool rewrote the folder) and which ones, a damaged or orphaned exactness file, a
 * pending journal or an interrupted multi-file operation, symlinks, an mbox without metadata,
 * a newer format, a version-2 file that cannot be migrated, and UIDs a repair could not verify.
 *
 * It only reads (it works under the shared lock and never recovers anything): it lstat()s every
 * path, never follows a symlink inside the account root (I8), and reads the mbox sequentially in
 * bounded chunks, so a 100,000-message folder or a 50 MB message costs no more memory than one
 * chunk. Every finding carries the exact command that repairs it, when there is one.
 */
import {constants, lstat, readdir, type FileHandle} from 'node:fs/promises'
import {join} from 'node:path'
import {DamagedError, errnoCode, UnsupportedFormatError, UnusablePathError} from '../shared/errors.js'
import {readRegularFile} from './file-ops.js'
import {decodeFolderPath} from './folder-path.js'
import {folderPaths, readExactness, type ExactnessState, type FolderPaths} from './folder-store.js'
import {parseJournal, refuseNewerJournal} from './journal.js'
import {LOCK_FILE_NAME} from './lock.js'
import {findStaleTempFiles} from './temp-files.js'
import {fromExactnessTuple, MboxrdDecoder, scanEntriesAsync, type QuotingRule} from './mboxrd/index.js'
import {parseMetadata, type FolderMetadata, type MessageEntry, type ReadonlyMessageTable} from './metadata.js'
import {applyRecords} from './transaction.js'
import {pause, READ_ATTEMPTS} from './read-snapshot.js'
import {checkNoSymlinks, openNoFollow} from './safe-path.js'

/** A uid_validity no IMAP server can send (RFC 3501: a 32-bit nz-number): UIDs not verified. */
export const UNVERIFIED_UID_VALIDITY = 2 ** 32

export type FindingCode =
  // imap-backup's checks (compat §4.5)
  | 'imap-corrupt'
  | 'mbox-missing'
  | 'no-messages-mbox-not-empty'
  | 'offsets-out-of-order'
  | 'mbox-shorter'
  | 'mbox-longer'
  | 'message-not-at-offset'
  // mailkeep's own
  | 'duplicate-uid'
  | 'exactness-invalid'
  | 'exactness-mismatch'
  | 'not-byte-exact'
  | 'exact-file-damaged'
  | 'exact-file-orphan'
  | 'pending-journal'
  | 'journal-mismatch'
  | 'interrupted-operation'
  | 'symlink'
  | 'not-a-file'
  | 'mbox-without-imap'
  | 'newer-format'
  | 'v2-mismatch'
  | 'unverified-uids'
  | 'unreadable'
  | 'busy'
  | 'stale-temp'
  | 'not-stored'

export type Severity = 'error' | 'warning'

export interface Finding {
  code: FindingCode
  /** `error`: the folder is damaged (exit 6); `warning`: it works, but something is worth knowing. */
  severity: Severity
  message: string
  /** The file the finding is about (absolute path). */
  file: string
  /** The exact command that repairs it; undefined when no mailkeep command can. */
  repair: string | undefined
  /** `not-byte-exact`: the UIDs of those messages, ascending. */
  uids?: number[]
}

export interface FolderCheck {
  /** The server's folder name, decoded from the file name. */
  name: string
  /** Path of the folder's files relative to the account root, without extension. */
  relativePath: string
  findings: Finding[]
}

export interface CheckOptions {
  /** Builds the repair command for a folder (by server name); default `mailkeep local repair <folder>`. */
  repairCommand?: (folder: string) => string
  /** Stops between messages when aborted (throws the signal's reason). */
  signal?: AbortSignal
  /**
   * The pid of a backup writing the account now (writer-pid.ts): its journal is no interrupted
   * run, and a folder is checked again when it changed while being checked.
   */
  writerPid?: number
}

/** At most this many findings of one code per folder; the last one says how many more there were. */
export const MAX_FINDINGS_PER_CODE = 10

const READ_CHUNK = 1024 * 1024
const FROM_ = Buffer.from('From ')

/** Suffixes that make a file part of a folder (design.md, "Files of one account"). */
const FOLDER_SUFFIXES = ['.imap.journal', '.imap.compact', '.mbox.compact', '.mailkeep.compact', '.rename', '.imap', '.mbox', '.mailkeep'] as const

/**
 * Every folder of an account: the union of the bases of `.imap`, `.mbox`, journal and
 * interrupted-operation files under the root (so an mbox without metadata is found too), each
 * checked. Symlinks met on the way are findings, never followed. Sorted by relative path.
 */
export async function checkAccount(root: string, options: CheckOptions = {}): Promise<FolderCheck[]> {
  /** Folder bases found (true: it has folder files to check) and findings of the walk itself. */
  const bases = new Map<string, {files: boolean; findings: Finding[]}>()
  const note = (relativeBase: string, files: boolean, finding?: Finding): void => {
    const entry = bases.get(relativeBase) ?? {files: false, findings: []}
    entry.files ||= files
    if (finding !== undefined) entry.findings.push(finding)
    bases.set(relativeBase, entry)
  }
  const walk = async (dir: string, prefix: string): Promise<void> => {
    let entries
    try {
      entries = await readdir(dir, {withFileTypes: true})
    } catch (error) {
      note(prefix === '' ? '.' : prefix.slice(0, -1), false, unreadable(dir, error))
      return
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    for (const entry of entries) {
      const relative = `${prefix}${entry.name}`
      if (prefix === '' && entry.name === LOCK_FILE_NAME) continue
      const base = folderBase(relative)
      if (entry.isDirectory()) await walk(join(dir, entry.name), `${relative}/`)
      // A symlinked folder file is reported by checkFolder; a symlinked directory here.
      else if (entry.isSymbolicLink() && base === undefined) note(relative, false, symlinkFinding(join(dir, entry.name)))
      else if (base !== undefined) note(base, true)
    }
  }
  await walk(root, '')
  for (const temp of await findStaleTempFiles(root)) {
    note(temp.folderBase, false, {
      code: 'stale-temp',
      severity: 'warning',
      message: `temporary file '${temp.path}' (${temp.bytes} bytes) was left by an interrupted run; it holds nothing the folder needs, and the next backup of this account removes it`,
      file: temp.path,
      repair: undefined,
    })
  }
  const results: FolderCheck[] = []
  for (const relativePath of [...bases.keys()].sort()) {
    const name = decodeFolderPath(relativePath)
    const found = bases.get(relativePath)!
    const findings = found.files ? [...found.findings, ...(await checkFolder(root, relativePath, {...options, folderName: name}))] : found.findings
    results.push({name, relativePath, findings})
  }
  return results
}

/**
 * All findings for one folder (its relative path, as encodeFolderPath gives it). An empty list
 * means the folder is OK. Never writes; throws only when aborted.
 */
export async function checkFolder(root: string, relativePath: string, options: CheckOptions & {folderName?: string} = {}): Promise<Finding[]> {
  const name = options.folderName ?? decodeFolderPath(relativePath)
  const paths = folderPaths(root, relativePath)
  // No lock is held: a backup may commit this folder while it is checked. The findings count
  // only when `.imap` was the same file before and after (read-snapshot.ts says why that is one
  // committed state), else the folder is checked again.
  for (let attempt = 1; ; attempt++) {
    const before = await folderState(paths)
    const findings = await new FolderChecker(root, relativePath, name, options).run()
    const after = await folderState(paths)
    const inFlux = options.writerPid !== undefined && (before.inFlux || after.inFlux)
    if (before.imap === after.imap && !inFlux) return findings
    if (attempt >= READ_ATTEMPTS) {
      // What was read is no one state: say so instead of reporting damage that is not there.
      const message = `the folder changed ${READ_ATTEMPTS} times while it was checked (a backup is committing it); check it again later`
      return [{code: 'busy', severity: 'warning', message, file: paths.imap, repair: undefined}]
    }
    await pause(attempt)
  }
}

/** What changes when a writer commits or rewrites a folder: its `.imap` file, and the markers of a rename or rewrite. */
async function folderState(paths: FolderPaths): Promise<{imap: string; inFlux: boolean}> {
  const stamp = async (path: string): Promise<string> => {
    try {
      const info = await lstat(path, {bigint: true})
      return `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return 'absent'
      return `unreadable:${errnoCode(error) ?? ''}`
    }
  }
  const [imap, intent, compact] = await Promise.all([stamp(paths.imap), stamp(paths.renameIntent), stamp(paths.imapCompact)])
  return {imap, inFlux: intent !== 'absent' || compact !== 'absent'}
}

class FolderChecker {
  private readonly findings: Finding[] = []
  private readonly counts = new Map<FindingCode, number>()
  private readonly paths: FolderPaths
  private readonly repair: string

  constructor(
    private readonly root: string,
    private readonly relativePath: string,
    name: string,
    private readonly options: CheckOptions,
  ) {
    this.paths = folderPaths(root, relativePath)
    this.repair = repairFor(options, name)
  }

  async run(): Promise<Finding[]> {
    const p = this.paths
    try {
      await checkNoSymlinks(this.root, `${this.relativePath}.mbox`)
    } catch (error) {
      if (error instanceof DamagedError) {
        this.add('symlink', 'error', error.message, p.base, undefined)
        return this.findings
      }
      if (error instanceof UnusablePathError) {
        this.add('not-a-file', 'error', error.message, p.base, undefined)
        return this.findings
      }
      throw error
    }
    const [imap, mbox, journal, intent, imapCompact, mboxCompact, exact, exactCompact] = await Promise.all([
      kindOf(p.imap),
      kindOf(p.mbox),
      kindOf(p.journal),
      kindOf(p.renameIntent),
      kindOf(p.imapCompact),
      kindOf(p.mboxCompact),
      kindOf(p.exact),
      kindOf(p.exactCompact),
    ])
    for (const [path, kind] of [
      [p.imap, imap],
      [p.mbox, mbox],
      [p.journal, journal],
      [p.renameIntent, intent],
      [p.imapCompact, imapCompact],
      [p.mboxCompact, mboxCompact],
      [p.exact, exact],
      [p.exactCompact, exactCompact],
    ] as const) {
      if (kind.kind === 'symlink') this.add('symlink', 'error', `'${path}' is a symlink; mailkeep does not follow links inside the backup directory`, path, undefined)
      else if (kind.kind === 'other') this.add('not-a-file', 'error', `'${path}' is not a regular file`, path, undefined)
      else if (kind.kind === 'error') this.findings.push(unreadable(path, kind.error))
    }
    if (imap.kind === 'symlink' || mbox.kind === 'symlink' || imap.kind === 'other' || mbox.kind === 'other') return this.findings
    const exactUsable = exact.kind === 'file'

    // An interrupted rename or rewrite (design.md, Recovery step 1): finished by the next writer.
    for (const [path, kind] of [
      [p.renameIntent, intent],
      [p.imapCompact, imapCompact],
      [p.mboxCompact, mboxCompact],
      [p.exactCompact, exactCompact],
    ] as const) {
      if (kind.kind === 'file') {
        this.add('interrupted-operation', 'warning', `interrupted run: an unfinished rename or rewrite of the folder ('${path}'); the next backup finishes it`, path, this.repair)
      }
    }

    const mboxSize = mbox.kind === 'file' ? mbox.size : undefined
    if (imap.kind !== 'file') {
      if (journal.kind === 'file') {
        // A newer mailkeep's journal may explain anything about this folder: nothing more to say.
        if (!(await this.journalOfThisMailkeep())) return this.findings
        this.add('journal-mismatch', 'error', `journal '${p.journal}' exists but metadata file '${p.imap}' is missing`, p.journal, this.repair)
      }
      if (mboxSize !== undefined && mboxSize > 0) {
        this.add('mbox-without-imap', 'error', `.mbox file '${p.mbox}' has no metadata file '${p.imap}'`, p.mbox, this.repair)
      }
      if (exactUsable && mboxSize === undefined) {
        this.add(
          'exact-file-orphan',
          'warning',
          `exactness file '${p.exact}' belongs to no folder (its .imap and .mbox are gone, removed by another tool); it is kept, and a new backup of this folder keeps it aside rather than overwrite it`,
          p.exact,
          undefined,
        )
      }
      return this.findings
    }

    let text: string
    try {
      text = await readRegularFile(p.imap)
    } catch (error) {
      this.findings.push(unreadable(p.imap, error))
      return this.findings
    }
    let parsed
    try {
      parsed = parseMetadata(text, p.imap)
    } catch (error) {
      if (error instanceof UnsupportedFormatError) {
        this.add('newer-format', 'error', error.message, p.imap, undefined)
      } else if (error instanceof DamagedError) {
        this.add('imap-corrupt', 'error', `.imap file '${p.imap}' is corrupt (${detailOf(error.message, p.imap)})`, p.imap, this.repair)
        if (mboxSize === undefined) this.add('mbox-missing', 'error', `.mbox file '${p.mbox}' is missing`, p.mbox, this.repair)
      } else {
        throw error
      }
      return this.findings
    }

    if ('uids' in parsed) {
      await this.checkV2(parsed.uids.length, mboxSize)
      return this.findings
    }
    const meta = parsed
    if (meta.uidValidity === UNVERIFIED_UID_VALIDITY) {
      this.add(
        'unverified-uids',
        'warning',
        `the UIDs in '${p.imap}' were given by \`local repair\` without the server and are not verified; repair again while the server can be reached, or the next backup moves this copy aside as '<folder>-${UNVERIFIED_UID_VALIDITY}' and downloads the folder afresh`,
        p.imap,
        this.repair,
      )
    }

    let journalExplains = false
    // Looked at again now that `.imap` was read: a writer may have begun a transaction since, and
    // its bytes in the mbox are explained by its journal (written before the first of them, I7).
    const journalNow = journal.kind === 'file' ? journal : await kindOf(p.journal)
    if (journalNow.kind === 'file') journalExplains = await this.checkJournal(meta)
    // The mbox's size is taken again after `.imap` and the journal were read: a writer appends to
    // the mbox before each savepoint's journal record (I1), so a size taken before could be short
    // of what they commit.
    const again = await kindOf(p.mbox)
    const mboxNow = again.kind === 'file' ? again.size : undefined
    // A newer mailkeep's journal may explain anything about the mbox: nothing more to say here.
    if (this.findings.some((f) => f.code === 'newer-format')) return this.findings

    if (mboxNow === undefined) {
      if (meta.messages.length > 0) this.add('mbox-missing', 'error', `.mbox file '${p.mbox}' is missing`, p.mbox, this.repair)
      else this.add('mbox-missing', 'warning', `.mbox file '${p.mbox}' is missing (no messages are listed; the next backup creates it)`, p.mbox, undefined)
      return this.findings
    }

    const exactness = exactUsable ? await this.readExactness(meta) : {present: false}
    if (exactness === undefined) return this.findings

    const messages = meta.messages
    if (messages.length === 0 && mboxNow > 0 && !journalExplains) {
      this.add('no-messages-mbox-not-empty', 'error', `.imap file '${p.imap}' lists no messages, but .mbox file '${p.mbox}' is not empty`, p.imap, this.repair)
    }
    const order = outOfOrder(messages)
    if (order !== undefined) {
      this.add('offsets-out-of-order', 'error', `.imap file '${p.imap}' has offset data which is out of order (${order})`, p.imap, this.repair)
    }
    const end = messages.end
    if (mboxNow < end) {
      this.add('mbox-shorter', 'error', `.mbox file '${p.mbox}' is shorter than indicated by .imap file '${p.imap}' (${mboxNow} < ${end} bytes)`, p.mbox, this.repair)
    } else if (mboxNow > end && !journalExplains && messages.length > 0) {
      this.add('mbox-longer', 'error', `.mbox file '${p.mbox}' is longer than indicated by .imap file '${p.imap}' (${mboxNow} > ${end} bytes)`, p.mbox, this.repair)
    }
    await this.checkEntries(meta, mboxNow)

    this.checkByteExact(meta, exactness)

    const duplicates = messages.duplicateUids()
    if (duplicates.length > 0) {
      const shown = duplicates.slice(0, 20).join(', ') + (duplicates.length > 20 ? `, … (${duplicates.length} in all)` : '')
      this.add('duplicate-uid', 'warning', `.imap file '${p.imap}' lists UID(s) ${shown} more than once (imap-backup's retry bug); the first copy is used, the others cannot be read by UID`, p.imap, this.repair)
    }
    return this.findings
  }

  /**
   * The exactness file bound to the entries as opening the folder does it (after a pending
   * journal was applied). Undefined (with a `newer-format` finding) when a newer mailkeep wrote it.
   */
  private async readExactness(meta: FolderMetadata): Promise<ExactnessState | undefined> {
    const p = this.paths
    try {
      const state = await readExactness(p.exact, meta)
      if (state.damaged !== undefined) {
        this.add('exact-file-damaged', 'warning', `${state.damaged}; the messages it described are read as imap-backup reads them (not byte-exact), and the next backup keeps the file aside and writes a new one`, p.exact, undefined)
      }
      return state
    } catch (error) {
      if (error instanceof UnsupportedFormatError) {
        this.add('newer-format', 'error', error.message, p.exact, undefined)
        return undefined
      }
      this.findings.push(unreadable(p.exact, error))
      return {present: false}
    }
  }

  /**
   * Which messages are not byte-exact: they have no exactness record, because another tool wrote
   * them, or because the record no longer matches (the folder was rewritten by another tool) or
   * the exactness file is gone. They are read as imap-backup reads them; a warning, since
   * nothing is lost that the backup ever had.
   */
  private checkByteExact(meta: FolderMetadata, exactness: ExactnessState): void {
    const messages = meta.messages
    const without = new Set<number>()
    for (let i = 0; i < messages.length; i++) if (messages.quotingAt(i) === undefined) without.add(messages.uidAt(i))
    if (without.size === 0) return
    const uids = [...without].sort((a, b) => a - b)
    const changed = new Set((exactness.binding?.unmatchedUids ?? []).filter((u) => without.has(u)))
    const missingFile = !exactness.present && meta.exactCount !== undefined && meta.exactCount > messages.recordCount
    const parts: string[] = []
    if (changed.size > 0) {
      const why = exactness.binding?.problem === undefined ? '' : ` (${exactness.binding.problem})`
      parts.push(`${changed.size} changed by another tool since mailkeep stored them, so their exactness records no longer match${why}: UIDs ${listUids([...changed].sort((a, b) => a - b))}`)
    }
    const rest = uids.filter((u) => !changed.has(u))
    if (rest.length > 0) {
      const why = exactness.damaged !== undefined ? 'their exactness file is damaged' : missingFile ? 'their exactness file is missing' : 'written by imap-backup or another tool, with no exactness record'
      parts.push(`${rest.length} ${why}: UIDs ${listUids(rest)}`)
    }
    const p = this.paths
    const finding: Finding = {
      code: 'not-byte-exact',
      severity: 'warning',
      message: `${uids.length} of ${messages.distinctUids().length} message(s) are not byte-exact and are read as imap-backup reads them (LF line endings, its padding kept): ${parts.join('; ')}`,
      file: p.mbox,
      repair: undefined,
      uids,
    }
    this.findings.push(finding)
  }

  /** Version 2 (UIDs only): migrated at the next backup if the mbox holds one entry per UID. */
  private async checkV2(uids: number, mboxSize: number | undefined): Promise<void> {
    const p = this.paths
    if (mboxSize === undefined) {
      this.add('mbox-missing', 'error', `.mbox file '${p.mbox}' is missing`, p.mbox, this.repair)
      return
    }
    const handle = await this.openMbox()
    if (handle === undefined) return
    try {
      const entries = await scanEntriesAsync(readChunks(handle, 0, mboxSize, this.options.signal), 'legacy')
      if (entries.length !== uids) {
        this.add('v2-mismatch', 'error', `version 2 metadata file '${p.imap}' lists ${uids} UIDs but .mbox file '${p.mbox}' holds ${entries.length} messages`, p.imap, this.repair)
      }
    } finally {
      await handle.close()
    }
  }

  /** False (with a `newer-format` finding, which no repair touches) for a newer mailkeep's journal. */
  private async journalOfThisMailkeep(): Promise<boolean> {
    try {
      refuseNewerJournal(await readRegularFile(this.paths.journal), this.paths.journal)
      return true
    } catch (error) {
      if (error instanceof UnsupportedFormatError) this.add('newer-format', 'error', error.message, this.paths.journal, undefined)
      else this.findings.push(unreadable(this.paths.journal, error))
      return !(error instanceof UnsupportedFormatError)
    }
  }

  /**
   * Applies a pending journal in memory as a read-only open does. Returns true when the journal
   * explains an mbox longer than `.imap` (an interrupted transaction the next writer finishes).
   */
  private async checkJournal(meta: FolderMetadata): Promise<boolean> {
    const p = this.paths
    let contents
    try {
      contents = parseJournal(await readRegularFile(p.journal), p.journal)
    } catch (error) {
      if (error instanceof UnsupportedFormatError) {
        this.add('newer-format', 'error', error.message, p.journal, undefined)
        return false
      }
      if (error instanceof DamagedError) {
        this.add('journal-mismatch', 'error', `journal '${p.journal}' is unreadable: ${error.message}`, p.journal, this.repair)
        return false
      }
      // Gone since it was seen: a writer finished its transaction (the new `.imap` came first).
      if (errnoCode(error) === 'ENOENT') return false
      this.findings.push(unreadable(p.journal, error))
      return false
    }
    const writer = this.options.writerPid
    const pending =
      writer === undefined
        ? `interrupted run: journal '${p.journal}' is still there; the next backup finishes it`
        : `a backup (pid ${writer}) is writing this folder: journal '${p.journal}' holds what it has saved so far`
    const repairPending = writer === undefined ? this.repair : undefined
    if (contents === undefined || contents.header.id === meta.journalId) {
      this.add('pending-journal', 'warning', pending, p.journal, repairPending)
      return true
    }
    const h = contents.header
    const end = meta.messages.end
    if (h.uid_validity !== meta.uidValidity || h.base_count !== meta.messages.length || h.base_end !== end) {
      this.add(
        'journal-mismatch',
        'error',
        `journal '${p.journal}' does not match metadata file '${p.imap}' (it starts at ${h.base_count} messages / ${h.base_end} bytes, the metadata has ${meta.messages.length} / ${end})`,
        p.journal,
        this.repair,
      )
      return false
    }
    const appended = contents.committed.filter((r) => r.t === 'a').length
    this.add('pending-journal', 'warning', `${pending} (${appended} committed message(s) not yet folded into '${p.imap}')`, p.journal, repairPending)
    applyRecords(meta, contents.committed, contents.quoting)
    return true
  }

  /**
   * compat §4.5 check 7 for every message (its bytes start with `From `), and for every message
   * with an exactness record, a full streaming decode (I1 and the record agree with the entry).
   */
  private async checkEntries(meta: FolderMetadata, mboxSize: number): Promise<void> {
    const p = this.paths
    const messages = meta.messages
    if (messages.length === 0) return
    const handle = await this.openMbox()
    if (handle === undefined) return
    // A UID listed twice (imap-backup's bug) has one record, decoded once.
    const twice = new Set(messages.duplicateUids())
    const decoded = new Set<number>()
    try {
      const head = Buffer.alloc(FROM_.length)
      for (let i = 0; i < messages.length; i++) {
        if (this.options.signal?.aborted) throw this.options.signal.reason
        const m = messages.entryAt(i)
        const present = await readAt(handle, head, m.offset, mboxSize)
        if (!present.equals(FROM_)) {
          this.add('message-not-at-offset', 'error', `Message ${m.uid} not found at expected offset ${m.offset} in file '${p.mbox}'`, p.mbox, this.repair)
          continue
        }
        const tuple = messages.exactnessAt(i)
        if (tuple === undefined) continue
        if (twice.has(m.uid)) {
          if (decoded.has(m.uid)) continue
          decoded.add(m.uid)
        }
        let record
        const source = meta.recordsInFile !== undefined && meta.recordsInFile > 0 ? `.imap file '${p.imap}'` : `exactness file '${p.exact}'`
        try {
          record = fromExactnessTuple(tuple, `UID ${m.uid}`).record
        } catch (error) {
          this.add('exactness-invalid', 'error', `${source} has an invalid exactness record for UID ${m.uid}: ${(error as Error).message}`, p.exact, this.repair)
          continue
        }
        if (m.offset + m.length > mboxSize) continue // reported as "shorter" already
        const problem = await decodes(handle, m, record, messages.quotingAt(i)!)
        if (problem !== undefined) {
          this.add('exactness-mismatch', 'error', `message UID ${m.uid} at offset ${m.offset} in '${p.mbox}' does not match its exactness record: ${problem}`, p.mbox, this.repair)
        }
      }
    } finally {
      await handle.close()
    }
  }

  private async openMbox(): Promise<FileHandle | undefined> {
    try {
      return await openNoFollow(this.paths.mbox, constants.O_RDONLY)
    } catch (error) {
      if (error instanceof DamagedError) this.add('symlink', 'error', error.message, this.paths.mbox, undefined)
      else this.findings.push(unreadable(this.paths.mbox, error))
      return undefined
    }
  }

  private add(code: FindingCode, severity: Severity, message: string, file: string, repair: string | undefined): void {
    const n = (this.counts.get(code) ?? 0) + 1
    this.counts.set(code, n)
    if (n <= MAX_FINDINGS_PER_CODE) {
      this.findings.push({code, severity, message, file, repair})
      return
    }
    // Keep the list readable: the last finding of the code counts the rest.
    const last = [...this.findings].reverse().find((f) => f.code === code)!
    const base = last.message.replace(/ \(and \d+ more like this\)$/, '')
    last.message = `${base} (and ${n - MAX_FINDINGS_PER_CODE} more like this)`
  }
}

/** Reads the entry through the exact decoder in bounded chunks; returns the problem, if any. */
async function decodes(handle: FileHandle, m: MessageEntry, record: ConstructorParameters<typeof MboxrdDecoder>[0], rule: QuotingRule): Promise<string | undefined> {
  const decoder = new MboxrdDecoder(record, rule)
  try {
    for await (const chunk of readChunks(handle, m.offset, m.offset + m.length)) decoder.push(chunk)
    decoder.end()
    return undefined
  } catch (error) {
    if (error instanceof DamagedError) return error.message
    throw error
  }
}

/** The bytes [start, end) of the file, in chunks of at most 1 MiB (a fresh buffer each). */
export async function* readChunks(handle: FileHandle, start: number, end: number, signal?: AbortSignal): AsyncGenerator<Buffer, void, undefined> {
  let position = start
  while (position < end) {
    if (signal?.aborted) throw signal.reason
    const length = Math.min(READ_CHUNK, end - position)
    const buffer = Buffer.allocUnsafe(length)
    const {bytesRead} = await handle.read(buffer, 0, length, position)
    if (bytesRead === 0) return
    position += bytesRead
    yield bytesRead === length ? buffer : buffer.subarray(0, bytesRead)
  }
}

/** The bytes at `offset` (as many as fit in `into`, fewer at the end of the file). */
async function readAt(handle: FileHandle, into: Buffer, offset: number, size: number): Promise<Buffer> {
  if (offset >= size) return Buffer.alloc(0)
  const {bytesRead} = await handle.read(into, 0, Math.min(into.length, size - offset), offset)
  return into.subarray(0, bytesRead)
}

/** At most 20 UIDs, then how many more. */
function listUids(uids: readonly number[]): string {
  return uids.slice(0, 20).join(', ') + (uids.length > 20 ? `, … (${uids.length} in all)` : '')
}

/** compat §4.5 check 4: the first place where an entry starts before the previous one ends. */
function outOfOrder(messages: ReadonlyMessageTable): string | undefined {
  let previousEnd = 0
  for (let i = 0; i < messages.length; i++) {
    const offset = messages.offsetAt(i)
    if (offset < previousEnd) return `UID ${messages.uidAt(i)} starts at ${offset}, before the end of the entry before it at ${previousEnd}`
    previousEnd = offset + messages.lengthAt(i)
  }
  return undefined
}

type PathKind = {kind: 'missing'} | {kind: 'file'; size: number} | {kind: 'symlink'} | {kind: 'other'} | {kind: 'error'; error: unknown}

async function kindOf(path: string): Promise<PathKind> {
  try {
    const info = await lstat(path)
    if (info.isSymbolicLink()) return {kind: 'symlink'}
    if (!info.isFile()) return {kind: 'other'}
    return {kind: 'file', size: info.size}
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return {kind: 'missing'}
    return {kind: 'error', error}
  }
}

function folderBase(relative: string): string | undefined {
  for (const suffix of FOLDER_SUFFIXES) if (relative.endsWith(suffix) && relative.length > suffix.length) return relative.slice(0, -suffix.length)
  return undefined
}

function symlinkFinding(path: string): Finding {
  return {
    code: 'symlink',
    severity: 'error',
    message: `'${path}' is a symlink; mailkeep does not follow links inside the backup directory (replace the link with the file or directory it points to)`,
    file: path,
    repair: undefined,
  }
}

function unreadable(path: string, error: unknown): Finding {
  const code = errnoCode(error)
  return {code: 'unreadable', severity: 'error', message: `cannot read '${path}': ${code ?? (error as Error).message}`, file: path, repair: undefined}
}

function repairFor(options: CheckOptions, folder: string): string {
  return options.repairCommand?.(folder) ?? `mailkeep local repair ${folder}`
}

/** parseMetadata's message starts with "metadata file '<path>'": keep only what is wrong. */
function detailOf(message: string, path: string): string {
  const prefix = `metadata file '${path}' `
  return message.startsWith(prefix) ? message.slice(prefix.length) : message
}
