/**
 * Every check on one folder (integrity.ts says which, and why it only reads): the folder's
 * files, its `.imap`, the exactness records, the journal and each mbox entry, with ALL findings
 * collected, at most MAX_FINDINGS_PER_CODE of one code.
 */
import {constants, lstat, type FileHandle} from 'node:fs/promises'
import {DamagedError, errnoCode, UnsupportedFormatError, UnusablePathError} from '../shared/errors.js'
import {readRegularFile} from './file-ops.js'
import {folderPaths, type FolderPaths} from './folder-paths.js'
import {readExactness, type ExactnessState} from './exactness-state.js'
import {parseJournal, refuseNewerJournal} from './journal.js'
import {fromExactnessTuple, MboxrdDecoder, scanEntriesAsync, type QuotingRule} from './mboxrd/index.js'
import {parseMetadata, type FolderMetadata, type MessageEntry} from './metadata.js'
import {applyRecords} from './journal-records.js'
import {checkNoSymlinks, openNoFollow} from './safe-path.js'
import {detailOf, MAX_FINDINGS_PER_CODE, repairFor, unreadable, UNVERIFIED_UID_VALIDITY, type CheckOptions, type Finding, type FindingCode, type Severity} from './findings.js'
import {readAt, readChunks} from './read-chunks.js'
import {firstOverlap, inspectFolder, journalFacts, notAtOffset, type InspectOptions, type JournalFacts} from './inspection.js'

const FROM_ = Buffer.from('From ')

export class FolderChecker {
  private readonly findings: Finding[] = []
  private readonly counts = new Map<FindingCode, number>()
  private readonly paths: FolderPaths
  private readonly repair: string
  private readonly inspectOptions: InspectOptions

  constructor(
    private readonly root: string,
    private readonly relativePath: string,
    name: string,
    private readonly options: CheckOptions,
  ) {
    this.paths = folderPaths(root, relativePath)
    this.repair = repairFor(options, name)
    this.inspectOptions = {repair: this.repair, ...(options.writerPid === undefined ? {} : {writerPid: options.writerPid})}
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
    const interrupted = ([
      [p.renameIntent, intent],
      [p.imapCompact, imapCompact],
      [p.mboxCompact, mboxCompact],
      [p.exactCompact, exactCompact],
    ] as const)
      .filter(([, kind]) => kind.kind === 'file')
      .map(([path]) => path)

    const mboxSize = mbox.kind === 'file' ? mbox.size : undefined
    if (imap.kind !== 'file') {
      // A newer mailkeep's journal may explain anything about this folder: nothing more to say.
      if (journal.kind === 'file' && !(await this.journalOfThisMailkeep())) return this.findings
      this.addAll(inspectFolder({paths: p, interrupted, imapPresent: false, mboxSize, ...(journal.kind === 'file' ? {journal: {state: 'pending', appended: undefined}} : {})}, this.inspectOptions))
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
      // The message list could not be read: what the inspection can say without it.
      if (error instanceof UnsupportedFormatError || error instanceof DamagedError) this.addAll(inspectFolder({paths: p, interrupted, imapPresent: true, mboxSize}, this.inspectOptions))
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
      this.addAll(inspectFolder({paths: p, interrupted, imapPresent: true, mboxSize}, this.inspectOptions))
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

    // Looked at again now that `.imap` was read: a writer may have begun a transaction since, and
    // its bytes in the mbox are explained by its journal (written before the first of them, I7).
    const journalNow = journal.kind === 'file' ? journal : await kindOf(p.journal)
    const journalState = journalNow.kind === 'file' ? await this.checkJournal(meta) : undefined
    // The mbox's size is taken again after `.imap` and the journal were read: a writer appends to
    // the mbox before each savepoint's journal record (I1), so a size taken before could be short
    // of what they commit.
    const again = await kindOf(p.mbox)
    const mboxNow = again.kind === 'file' ? again.size : undefined
    // A newer mailkeep's journal may explain anything about the mbox: nothing more to say here.
    if (this.findings.some((f) => f.code === 'newer-format')) return this.findings

    const messages = meta.messages
    const overlap = firstOverlap(messages)
    this.addAll(
      inspectFolder(
        {
          paths: p,
          interrupted,
          imapPresent: true,
          mboxSize: mboxNow,
          list: {count: messages.length, end: messages.end, ...(overlap === undefined ? {} : {overlap})},
          ...(journalState === undefined || journalState === 'unreadable' ? {} : {journal: journalState}),
        },
        this.inspectOptions,
      ),
    )
    if (mboxNow === undefined) return this.findings

    const exactness = exactUsable ? await this.readExactness(meta) : {present: false}
    if (exactness === undefined) return this.findings
    // Every entry's first bytes and exactness record (the inspection saw none of them).
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
   * How the journal stands to `.imap` (inspection.ts journalFacts), its records applied in memory
   * as a read-only open does when it began on this `.imap`. Undefined when it is gone since it
   * was seen (a writer finished its transaction; the new `.imap` came first); 'unreadable' with a
   * finding of its own.
   */
  private async checkJournal(meta: FolderMetadata): Promise<JournalFacts | 'unreadable' | undefined> {
    const p = this.paths
    let contents
    try {
      contents = parseJournal(await readRegularFile(p.journal), p.journal)
    } catch (error) {
      if (error instanceof UnsupportedFormatError) {
        this.add('newer-format', 'error', error.message, p.journal, undefined)
        return 'unreadable'
      }
      if (error instanceof DamagedError) {
        this.add('journal-mismatch', 'error', `journal '${p.journal}' is unreadable: ${error.message}`, p.journal, this.repair)
        return 'unreadable'
      }
      if (errnoCode(error) === 'ENOENT') return undefined
      this.findings.push(unreadable(p.journal, error))
      return 'unreadable'
    }
    const appended = contents?.committed.filter((r) => r.t === 'a').length ?? 0
    const state = journalFacts(contents?.header, {journalId: meta.journalId, uidValidity: meta.uidValidity, count: meta.messages.length, end: meta.messages.end}, appended)
    if (contents !== undefined && state.state === 'pending' && state.appended !== undefined) applyRecords(meta, contents.committed, contents.quoting)
    return state
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
          this.addAll([notAtOffset(m.uid, m.offset, p, this.repair)])
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
    this.addAll([{code, severity, message, file, repair}])
  }

  /** Findings kept, at most MAX_FINDINGS_PER_CODE of one code (the last counts the rest). */
  private addAll(findings: readonly Finding[]): void {
    for (const f of findings) this.addOne(f)
  }

  private addOne(finding: Finding): void {
    const {code} = finding
    const n = (this.counts.get(code) ?? 0) + 1
    this.counts.set(code, n)
    if (n <= MAX_FINDINGS_PER_CODE) {
      this.findings.push(finding)
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

/** At most 20 UIDs, then how many more. */
function listUids(uids: readonly number[]): string {
  return uids.slice(0, 20).join(', ') + (uids.length > 20 ? `, … (${uids.length} in all)` : '')
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
