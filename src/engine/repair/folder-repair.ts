/**
 * One folder of `local repair` (module comment of repair.ts): from its findings, nothing, the
 * interrupted run finished, the extra entries indexed, a full rebuild, or the `.imap` set aside.
 */
import {lstat} from 'node:fs/promises'
import {exists, readRegularFile} from '../../store/file-ops.js'
import {encodeFolderPath} from '../../store/folder-path.js'
import {FolderStore} from '../../store/folder-store.js'
import {folderPaths} from '../../store/folder-paths.js'
import {readExactness} from '../../store/exactness-state.js'
import {checkFolder, type Finding, type FindingCode} from '../../store/integrity.js'
import {encodeMessage, fromExactnessTuple, WRITER_QUOTING, type ExactnessRecord} from '../../store/mboxrd/index.js'
import {parseMetadata, type FolderMetadata} from '../../store/metadata.js'
import {MessageTable} from '../../store/message-table.js'
import {readEntryBytes, repairedMetadata, salvageFolder, scanMbox, sizeRange, UNVERIFIED_UID_VALIDITY, verifyExactness, writeRepair, type Salvage, type ScannedEntry} from '../../store/rebuild.js'
import type {AccountStore} from '../../store/account-store.js'
import {compactUidSet} from '../../imap/index.js'
import {throwIfAborted, type RunContext} from '../../shared/context.js'
import {DamagedError} from '../../shared/errors.js'
import {checkedFolder} from '../inspect/local-check.js'
import {matchMessages, type LocalCandidate} from './match.js'
import {ascending, slices} from '../access/uid-lists.js'
import {dummyMessage, FAKE_EMAIL} from '../../store/placeholders.js'
import type {FolderRepairReport, RepairOptions, UidSource} from './types.js'
import {askFolder, type ServerAnswer, type ServerLink} from './server-link.js'
import {Plan, QUOTING_RULES, type LocalEntry} from './plan.js'

const BODY_BATCH = 20

/** Codes a repair cannot fix: the user has to. */
const REFUSED: ReadonlySet<FindingCode> = new Set(['symlink', 'not-a-file', 'newer-format', 'unreadable'])
/** Codes that only mean an interrupted run, which opening the folder for writing finishes. */
const INTERRUPTED: ReadonlySet<FindingCode> = new Set(['pending-journal', 'interrupted-operation'])

export class FolderRepair {
  private readonly report: FolderRepairReport
  private readonly paths

  constructor(
    private readonly options: RepairOptions,
    private readonly store: AccountStore,
    private readonly server: ServerLink,
    private readonly name: string,
    private readonly relativePath: string,
    private readonly findings: Finding[],
    private readonly repairFor: (folder: string) => string,
    private readonly ctx: RunContext,
  ) {
    const before = checkedFolder(name, findings).findings
    this.report = {
      name,
      action: 'none',
      before,
      after: before,
      uidValidity: null,
      uids: null,
      messages: 0,
      matched: 0,
      placeholders: 0,
      kept: [],
      notExact: 0,
      bodiesFetched: 0,
      tornBytes: 0,
      unindexedBytes: 0,
      savedAside: [],
      notes: [],
    }
    this.paths = folderPaths(store.root, relativePath)
  }

  async run(): Promise<FolderRepairReport> {
    let findings = this.findings
    if (findings.length === 0) return this.report
    const refused = findings.filter((f) => REFUSED.has(f.code))
    if (refused.length > 0) {
      this.report.action = 'refused'
      this.report.notes.push(...refused.map((f) => `not repaired: ${f.message}`))
      return this.report
    }
    if (findings.some((f) => INTERRUPTED.has(f.code))) {
      if (findings.every((f) => INTERRUPTED.has(f.code))) return this.finishInterrupted()
      // Finish the interrupted run first (it may complete the very files to rebuild), then look again.
      if (!this.options.dryRun) {
        await this.openForWriting().catch(() => undefined)
        findings = await checkFolder(this.store.root, this.relativePath, {repairCommand: this.repairFor, folderName: this.name, signal: this.ctx.signal})
        this.report.notes.push('finished an interrupted run first, as the next backup would have')
        if (findings.length === 0) {
          this.report.action = 'recovered'
          return this.after()
        }
      }
    }
    const codes = new Set(findings.map((f) => f.code))
    const errors = findings.filter((f) => f.severity === 'error')
    if (errors.length === 0 && !codes.has('duplicate-uid') && !codes.has('unverified-uids')) {
      this.report.notes.push('nothing to repair: only warnings that the next backup takes care of')
      return this.report
    }
    if (errors.some((f) => f.code === 'mbox-missing') || !(await exists(this.paths.mbox))) return this.setAside()
    const tailOnly = errors.length > 0 && errors.every((f) => f.code === 'mbox-longer') && !codes.has('duplicate-uid') && !codes.has('unverified-uids')
    return this.rebuild(tailOnly)
  }

  private async finishInterrupted(): Promise<FolderRepairReport> {
    this.report.action = 'recovered'
    if (this.options.dryRun) {
      this.report.notes.push('the interrupted run would be finished, as the next backup would do it')
      return this.report
    }
    await this.openForWriting()
    this.report.notes.push('finished the interrupted run, as the next backup would have')
    return this.after()
  }

  /** FolderStore's recovery on open (design.md): finishes renames, rewrites and journals. */
  private async openForWriting(): Promise<void> {
    if (encodeFolderPath(this.name) !== this.relativePath) throw new DamagedError(`the file name of '${this.name}' was not written by mailkeep; open it with \`mailkeep backup\``)
    const folder = await FolderStore.open(this.store.root, this.name, {mode: 'write', logger: this.ctx.logger, account: this.store.account ?? ''})
    await folder.close()
  }

  /**
   * Nothing to index: the mbox is gone (the messages the .imap lists are not in the backup any
   * more), or holds no complete message. The metadata (and a stale journal) are set aside, a torn
   * remainder copied aside and cut; the next backup starts the folder afresh.
   */
  private async setAside(truncateAt?: number): Promise<FolderRepairReport> {
    this.report.action = 'set-aside'
    this.report.notes.push(
      truncateAt === undefined
        ? 'the .mbox file is missing, so the messages the .imap file lists are not in the backup any more; the metadata is set aside and the next backup downloads again what the server still has'
        : 'the .mbox file holds no complete message; the metadata is set aside and the next backup starts the folder afresh',
    )
    if (this.options.dryRun) return this.report
    const written = await writeRepair({root: this.store.root, relativePath: this.relativePath, metadata: undefined, ...(truncateAt === undefined ? {} : {truncateAt}), at: this.now()})
    this.noteWritten(written)
    return this.after()
  }

  private async rebuild(tailOnly: boolean): Promise<FolderRepairReport> {
    const p = this.paths
    let existing: FolderMetadata | undefined
    if (tailOnly) {
      const parsed = parseMetadata(await readText(p.imap), p.imap)
      if ('uids' in parsed) return this.rebuild(false)
      existing = parsed
      // The existing entries keep their exactness records, which live in the exactness file.
      await readExactness(p.exact, existing)
    }
    const from = existing === undefined ? 0 : existing.messages.end
    const salvage = existing === undefined ? await salvageFolder(p) : undefined
    const scanned = await scanMbox(p.mbox, {from, signal: this.ctx.signal})
    resolveStyles(scanned, existing === undefined ? salvage!.entries.size > 0 && !salvage!.writtenByMailkeep : existing.messages.recordCount === 0)

    // Bytes that are not entries: a leading non-entry is left in place; a torn end is cut.
    let truncateAt: number | undefined
    const entries = [...scanned]
    if (entries[0] !== undefined && !entries[0].isEntry) {
      const head = entries.shift()!
      if (entries.length === 0) truncateAt = head.offset
      else this.report.unindexedBytes = head.length
    }
    const last = entries[entries.length - 1]
    if (last !== undefined && !last.complete) {
      truncateAt = last.offset
      entries.pop()
    }
    if (truncateAt !== undefined) this.report.tornBytes = (await mboxSize(p.mbox)) - truncateAt
    if (this.report.unindexedBytes > 0) this.report.notes.push(`${this.report.unindexedBytes} bytes at the start of the mbox are not a message; they are left in place, not indexed`)

    const reserved = existing?.messages.distinctUids() ?? []
    const validity = existing?.uidValidity ?? salvage?.uidValidity
    const local = await this.localCandidates(entries, salvage)
    const answer = entries.length === 0 ? undefined : await this.ask()

    const plan = new Plan(p.mbox)
    let uids: UidSource
    let uidValidity: number
    if (answer?.kind === 'folder' && (validity === undefined || validity === UNVERIFIED_UID_VALIDITY || validity === answer.view.opened.uidValidity)) {
      // Salvaged UIDs count only when they are from the server's UIDVALIDITY (not placeholders).
      if (existing === undefined && validity !== answer.view.opened.uidValidity) for (const l of local) delete l.candidate.salvagedUid
      const assignments = matchMessages({
        local: local.map((l) => l.candidate),
        server: [...answer.view.messages.values()],
        uidNext: answer.view.opened.uidNext,
        ...(reserved.length > 0 ? {reserved} : {}),
      })
      if (assignments.every((a) => a.kind !== 'unplaced')) {
        uids = 'verified'
        uidValidity = answer.view.opened.uidValidity
        await plan.applyMatches(assignments, answer.view, local, this)
      } else {
        if (existing !== undefined) return this.refuseTail('not every extra message can be given a UID the server can never use')
        this.report.notes.push('not every message can be given a UID that the server can never use (the backup holds more messages than the folder has unused UIDs): the folder gets placeholder UIDs instead')
        uids = 'unverified'
        uidValidity = UNVERIFIED_UID_VALIDITY
        plan.applyPlaceholders(local, reserved)
      }
    } else if (entries.length === 0) {
      if (existing === undefined) return this.setAside(truncateAt)
      uids = 'verified'
      uidValidity = existing.uidValidity
    } else {
      if (existing !== undefined) {
        return this.refuseTail(answer?.kind === 'missing' ? 'the folder no longer exists on the server' : 'the server cannot be reached')
      }
      const realValidity = validity !== undefined && validity !== UNVERIFIED_UID_VALIDITY ? validity : undefined
      const allSalvaged = distinctSalvaged(local)
      if (answer?.kind === 'folder' && realValidity !== undefined) {
        uids = 'old-uidvalidity'
        uidValidity = realValidity
        this.report.notes.push(`the backup is from UIDVALIDITY ${realValidity}, the server's folder now has ${answer.view.opened.uidValidity}: its own UIDs are kept, and the next backup moves it aside as '${this.name}-${realValidity}' and downloads the folder afresh`)
      } else if (answer?.kind === 'missing' && realValidity !== undefined) {
        uids = 'old-uidvalidity'
        uidValidity = realValidity
        this.report.notes.push('the folder no longer exists on the server: the UIDs found in the damaged metadata are kept, with placeholders for the others')
      } else if (answer?.kind === 'unreachable' && realValidity !== undefined && allSalvaged) {
        uids = 'salvaged'
        uidValidity = realValidity
        this.report.notes.push('the server cannot be reached; every message had its UID in the damaged metadata, so those are used')
      } else {
        uids = 'unverified'
        uidValidity = UNVERIFIED_UID_VALIDITY
        this.report.notes.push(
          answer?.kind === 'missing'
            ? 'the folder no longer exists on the server and the damaged metadata does not name its UIDVALIDITY: the messages get placeholder UIDs'
            : `the server cannot be reached: the messages are kept under placeholder UIDs; run \`${this.repairFor(this.name)}\` again when it can be, before the next backup, or that backup moves this copy aside as '${this.name}-${UNVERIFIED_UID_VALIDITY}' and downloads the folder afresh`,
        )
      }
      plan.applyPlaceholders(local, reserved)
    }

    this.report.uids = uids
    this.report.uidValidity = uidValidity
    this.report.action = existing === undefined ? 'rebuilt' : 'indexed-tail'
    this.report.matched = plan.matched
    this.report.placeholders = plan.placeholders
    this.report.kept = plan.kept
    this.report.notExact = plan.notExact

    // The existing entries as they are, then the new ones, each with its UID's record.
    const messages = existing?.messages ?? new MessageTable()
    for (const m of plan.messages) messages.push(m, plan.exact.get(m.uid), plan.quoting.get(m.uid))
    const state = existing === undefined || uids !== 'verified' ? {} : {uidNext: existing.uidNext, highestModseq: existing.highestModseq}
    this.report.messages = messages.length
    if (this.options.dryRun) return this.report
    const metadata = repairedMetadata(uidValidity, messages, state)
    const written = await writeRepair({root: this.store.root, relativePath: this.relativePath, metadata, ...(truncateAt === undefined ? {} : {truncateAt}), at: this.now()})
    this.noteWritten(written)
    return this.after()
  }

  /** Reads what each entry needs for matching, validating salvaged records by decoding. */
  private async localCandidates(entries: ScannedEntry[], salvage: Salvage | undefined): Promise<LocalEntry[]> {
    const out: LocalEntry[] = []
    for (let index = 0; index < entries.length; index++) {
      throwIfAborted(this.ctx.signal)
      const e = entries[index]!
      const range = rangeOf(e)
      const candidate: LocalCandidate = {index, sizeMin: range?.min ?? 0, sizeMax: range?.max ?? -1}
      if (e.messageId !== undefined) candidate.messageId = e.messageId
      if (e.date !== undefined) candidate.date = e.date
      if (!e.complete) candidate.incomplete = true
      const entry: LocalEntry = {entry: e, candidate, flags: [], flagsSalvaged: false}
      const placeholder = e.complete ? await this.placeholderOf(e) : undefined
      if (placeholder !== undefined) {
        // Never a message: it takes only the UID it names (match.ts, rule 0), with the
        // record ignore-history wrote for it (no INTERNALDATE) and no flags.
        candidate.placeholderUid = placeholder.uid
        entry.record = placeholder.record
        entry.tuple = [placeholder.uid, placeholder.record.size, null, placeholder.record.appended, placeholder.record.eol]
        entry.quoting = WRITER_QUOTING
        out.push(entry)
        continue
      }
      const salvaged = salvage?.entries.get(e.offset)
      if (salvaged !== undefined && salvaged.length === e.length) {
        candidate.salvagedUid = salvaged.uid
        entry.flags = salvaged.flags
        entry.flagsSalvaged = salvaged.flagsKnown
        const tuple = salvage!.exact.get(salvaged.uid)
        const quoting = salvage!.quoting.get(salvaged.uid) ?? WRITER_QUOTING
        if (tuple !== undefined) {
          const {record} = fromExactnessTuple(tuple)
          if (await verifyExactness(this.paths.mbox, e, record, quoting)) {
            entry.record = record
            entry.tuple = tuple
            entry.quoting = quoting
            candidate.exactSize = record.size
            candidate.internalDate = tuple[2]
          }
        }
      }
      out.push(entry)
    }
    return out
  }

  /**
   * The UID an entry is ignore-history's placeholder for (docs/commands/utils.md): its text is
   * exactly `dummyMessage(uid)` as mailkeep stores it, under a separator line from the
   * placeholder's sender (its date part is not the message). Anything else, however alike, is a
   * message.
   */
  private async placeholderOf(e: ScannedEntry): Promise<{uid: number; record: ExactnessRecord} | undefined> {
    const named = /^Message ([1-9]\d{0,9}) not backed up$/.exec(e.subject ?? '')
    if (named === null) return undefined
    const uid = Number(named[1])
    if (uid > 0xffffffff) return undefined
    const encoded = encodeMessage(dummyMessage(uid))
    const body = encoded.entry.subarray(encoded.entry.indexOf(0x0a) + 1)
    if (e.length > encoded.entry.length + 100) return undefined
    const stored = await readEntryBytes(this.paths.mbox, e)
    const lineEnd = stored.indexOf(0x0a)
    const separator = stored.subarray(0, lineEnd).toString('latin1')
    if (separator !== `From ${FAKE_EMAIL}` && !separator.startsWith(`From ${FAKE_EMAIL} `)) return undefined
    return stored.subarray(lineEnd + 1).equals(body) ? {uid, record: encoded.record} : undefined
  }

  /** The server's view of the folder (server-link.ts). */
  private ask(): Promise<ServerAnswer> {
    return askFolder(this.server, this.name, this.ctx.signal)
  }

  /** Computes an exactness record from the server's body when the size alone cannot tell. */
  async recordsFromBodies(wanted: Map<number, LocalEntry>): Promise<void> {
    if (wanted.size === 0) return
    if (this.options.dryRun) {
      this.report.notes.push(`${wanted.size} message bodies would be fetched to make those messages byte-exact`)
      for (const l of wanted.values()) l.record = undefined
      return
    }
    const session = await this.server.get()
    if (session === undefined) return
    for (const slice of slices([...wanted.keys()].sort(ascending), BODY_BATCH)) {
      for await (const message of session.fetchMessages(compactUidSet(slice))) {
        const l = wanted.get(message.uid)
        if (l === undefined) continue
        this.report.bodiesFetched++
        const stored = await readEntryBytes(this.paths.mbox, l.entry)
        // Written now (compat quoting) or by mailkeep 0.1.0 (strict): the same bytes under one of them.
        for (const quoting of QUOTING_RULES) {
          const encoded = encodeMessage(message.source, {quoting})
          if (!encoded.entry.equals(stored)) continue
          l.record = encoded.record
          l.tuple = [message.uid, encoded.record.size, message.internalDate === null ? null : Math.floor(message.internalDate.getTime() / 1000), encoded.record.appended, encoded.record.eol]
          l.quoting = quoting
          break
        }
      }
    }
  }

  private refuseTail(why: string): FolderRepairReport {
    this.report.action = 'refused'
    this.report.notes.push(`the extra messages at the end of the mbox were not indexed: ${why}; nothing was changed (the existing messages are fine); run \`${this.repairFor(this.name)}\` again when the server has the folder and can be reached`)
    return this.report
  }

  private noteWritten(written: Awaited<ReturnType<typeof writeRepair>>): void {
    if (written.tornSavedAs !== undefined) this.report.savedAside.push(written.tornSavedAs)
    if (written.imapSavedAs !== undefined) this.report.savedAside.push(written.imapSavedAs)
    if (written.journalSavedAs !== undefined) this.report.savedAside.push(written.journalSavedAs)
    if (written.exactSavedAs !== undefined) this.report.savedAside.push(written.exactSavedAs)
  }

  private async after(): Promise<FolderRepairReport> {
    const findings = await checkFolder(this.store.root, this.relativePath, {repairCommand: this.repairFor, folderName: this.name, signal: this.ctx.signal})
    this.report.after = checkedFolder(this.name, findings).findings
    return this.report
  }

  private now(): Date {
    return this.options.now?.() ?? new Date()
  }
}


function rangeOf(e: ScannedEntry): {min: number; max: number} | undefined {
  const strict = sizeRange(e, 'strict')
  const legacy = sizeRange(e, 'legacy')
  // mailkeep wrote either rule (the current one reads as imap-backup's does): both can fit.
  if (e.style === 'imap-backup') return legacy
  if (strict === undefined) return legacy
  if (legacy === undefined) return strict
  return {min: Math.min(strict.min, legacy.min), max: Math.max(strict.max, legacy.max)}
}

/**
 * Entries without evidence of their writer take the file's: mailkeep's if only mailkeep evidence
 * was seen, imap-backup's if only imap-backup's was, or if the metadata was imap-backup's.
 */
function resolveStyles(entries: ScannedEntry[], imapBackupMetadata: boolean): void {
  const seen = new Set(entries.map((e) => e.style))
  const style = seen.has('mailkeep') && !seen.has('imap-backup') ? 'mailkeep' : seen.has('imap-backup') && !seen.has('mailkeep') ? 'imap-backup' : imapBackupMetadata && !seen.has('mailkeep') ? 'imap-backup' : undefined
  if (style === undefined) return
  for (const e of entries) if (e.style === 'unknown') e.style = style
}

function distinctSalvaged(local: LocalEntry[]): boolean {
  const seen = new Set<number>()
  for (const l of local) {
    const u = l.candidate.salvagedUid
    if (u === undefined || seen.has(u)) return false
    seen.add(u)
  }
  return true
}


/** Never opened blocking, never through a link: a FIFO put there is refused, not waited on. */
async function readText(path: string): Promise<string> {
  return readRegularFile(path)
}

async function mboxSize(path: string): Promise<number> {
  return (await lstat(path)).size
}

