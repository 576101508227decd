/**
 * `mailkeep local repair EMAIL [FOLDER]` (docs/repair.md): rebuilds a folder's damaged or missing
 * `.imap` from its mbox, with UIDs and flags recovered from the server when it can be reached.
 *
 * Explicit by design (design.md I6): it is the one command that rewrites metadata it did not
 * just write, and it never deletes anything: the old `.imap` (and a stale journal) are set aside
 * as `<P>.imap.damaged-<UTC timestamp>`, a torn last entry is copied to
 * `<P>.mbox.torn-<UTC timestamp>` before the mbox is cut. It holds the account's exclusive lock
 * (I5); `--dry-run` holds only the shared lock, asks the server the same read-only questions and
 * writes nothing.
 *
 * What it does per folder, from `local check`'s findings:
 * - nothing wrong: nothing;
 * - only an interrupted run (journal, rename, rewrite): opens the folder for writing, which
 *   finishes it exactly as the next backup would;
 * - the mbox is longer than the metadata (imap-backup crashed, compat §5.4): the extra complete
 *   entries are indexed (matched to server UIDs); the existing entries are kept as they are;
 * - anything else that leaves the mbox: a full rebuild (scan, salvage, match, exactness);
 * - the mbox is gone but `.imap` lists messages: the `.imap` is set aside (nothing can be
 *   rebuilt; the next backup downloads again what the server still has);
 * - symlinks, non-files, unreadable files, a newer format: refused with the reason.
 */
import {lstat} from 'node:fs/promises'
import {exists, readRegularFile} from '../../store/file-ops.js'
import {encodeFolderPath} from '../../store/folder-path.js'
import {FolderStore, folderPaths, readExactness} from '../../store/folder-store.js'
import {checkAccount, checkFolder, type Finding, type FindingCode} from '../../store/integrity.js'
import {encodeMessage, fromExactnessTuple, WRITER_QUOTING, type ExactnessRecord, type QuotingRule} from '../../store/mboxrd/index.js'
import {parseMetadata, type ExactTuple, type FolderMetadata, type MessageEntry} from '../../store/metadata.js'
import {MessageTable} from '../../store/message-table.js'
import {toStoredFlags} from '../../store/flags.js'
import {
  exactnessCandidates,
  normaliseDate,
  normaliseMessageId,
  parseHeaderFields,
  readEntryBytes,
  repairedMetadata,
  salvageFolder,
  scanMbox,
  sizeRange,
  UNVERIFIED_UID_VALIDITY,
  verifyExactness,
  writeRepair,
  type Salvage,
  type ScannedEntry,
} from '../../store/rebuild.js'
import type {AccountStore} from '../../store/account-store.js'
import {requireLocalPath, selectAccounts, type Account, type Config} from '../../config/index.js'
import {compactUidSet} from '../../imap/index.js'
import type {Connect, ImapSession, OpenedFolder} from '../../imap/types.js'
import {rethrowIfStopped, throwIfAborted, type RunContext} from '../../shared/context.js'
import {DamagedError, InternalError, MailkeepError, MissingFolderError} from '../../shared/errors.js'
import {ExitCode, type ExitCodeValue} from '../../shared/exit-codes.js'
import type {RetryPolicy} from '../access/types.js'
import {openAccountStore} from '../access/account-access.js'
import {openAccountSession} from '../access/account-session.js'
import {checkedFolder, type CheckFinding} from '../inspect/local-check.js'
import {folderNotFound, selectLocalFolders} from '../inspect/local-access.js'
import {decodeHeaderText} from '../inspect/local-headers.js'
import {matchMessages, type Assignment, type KeptReason, type LocalCandidate, type ServerCandidate} from './match.js'
import {repairCommand} from '../inspect/repair-command.js'
import {ascending, slices} from '../access/uid-lists.js'
import {dummyMessage, FAKE_EMAIL} from '../../store/placeholders.js'

export interface RepairOptions {
  config: Config
  /** The account (username). */
  account: string
  /** One folder (server name); default: every folder `local check` finds something wrong with. */
  folder?: string
  dryRun: boolean
  /** `--config` as given, repeated in the commands the report prints. */
  configFlag?: string
  /** For tests: the IMAP connector and retry policy. */
  connect?: Connect
  retry?: Partial<RetryPolicy>
  /** For tests: the time used in the names of the files set aside. */
  now?: () => Date
}

export type FolderAction =
  /** Nothing was wrong. */
  | 'none'
  /** An interrupted run was finished (as the next backup would). */
  | 'recovered'
  /** `.imap` rebuilt from the whole mbox. */
  | 'rebuilt'
  /** The extra complete entries at the end of the mbox were indexed. */
  | 'indexed-tail'
  /** The mbox is gone: the `.imap` was set aside, the next backup starts the folder afresh. */
  | 'set-aside'
  /** Not repaired; `notes` says why. */
  | 'refused'

/** How the UIDs of the rebuilt folder were obtained. */
export type UidSource =
  /** Matched to the server (or kept under UIDs the server cannot use): safe for later backups. */
  | 'verified'
  /** From the damaged metadata, with no server to ask (every message had one). */
  | 'salvaged'
  /** The backup is from an earlier UIDVALIDITY of the folder: its own UIDs, its own UIDVALIDITY. */
  | 'old-uidvalidity'
  /** Placeholders under UIDVALIDITY 4294967296, which no server has (docs/repair.md). */
  | 'unverified'

export interface KeptMessage {
  uid: number
  offset: number
  length: number
  /**
   * `not-on-server`: the server no longer has it (kept under a free UID); `no-match`,
   * `ambiguous`, `duplicate`, `incomplete`: not matched, kept under a free UID; `salvaged-uid`:
   * its UID from the damaged metadata (no server to verify it); `placeholder`: a new UID.
   */
  reason: KeptReason | 'placeholder' | 'salvaged-uid'
  subject: string
  messageId: string | null
  /**
   * Where the stored flags come from, since the server could not give them (no message of the
   * server is this one): `damaged-metadata`, the flags the damaged `.imap` had for this entry
   * (not verified); `none`, nothing recorded them, so the message is stored without flags.
   */
  flagsFrom: 'damaged-metadata' | 'none'
  /** The flags stored for it (stored form: `Seen`, `$Label1`). */
  flags: string[]
}

export interface FolderRepairReport {
  name: string
  action: FolderAction
  /** What `local check` found before the repair. */
  before: CheckFinding[]
  /** What it finds after (for a dry run: the same as before, since nothing was written). */
  after: CheckFinding[]
  uidValidity: number | null
  uids: UidSource | null
  /** Messages the new `.imap` lists. */
  messages: number
  /** Of these, matched to the server's messages (UID and flags are the server's). */
  matched: number
  /**
   * Of these, ignore-history's placeholders given the UID they stand for, which the server still
   * has (never matched to a message: docs/repair.md). Placeholders of UIDs the server no longer
   * has are in `kept` (`not-on-server`), under the UID they name.
   */
  placeholders: number
  /** Messages kept under a UID the server does not have, or under a placeholder. */
  kept: KeptMessage[]
  /** Messages not known to be imap-backup's that got no exactness record (read as imap-backup text). */
  notExact: number
  /** Message bodies fetched to compute an exactness record (mixed line endings; rare). */
  bodiesFetched: number
  /** Bytes of a torn last entry, copied aside and cut off. */
  tornBytes: number
  /** Bytes before the first entry that are not a message (left in place, not indexed). */
  unindexedBytes: number
  /** Files set aside (never deleted). */
  savedAside: string[]
  notes: string[]
}

export interface RepairReport {
  account: string
  dryRun: boolean
  /** Whether the server was needed and could be reached. */
  server: 'reachable' | 'unreachable' | 'not-needed'
  serverError: string | null
  folders: FolderRepairReport[]
  /** 0 done (or a dry run); 4 a folder got placeholder UIDs (no server); 6 a folder is still damaged; 7 newer format. */
  exitCode: ExitCodeValue
}

/** Repair asks the server once per account; a down server should not stall it for minutes. */
const REPAIR_RETRY: RetryPolicy = {attempts: 2, baseDelayMs: 1000, maxDelayMs: 5000}
const HEADER_BATCH = 1000
const BODY_BATCH = 20
const HEADER_FIELDS = ['MESSAGE-ID', 'DATE']

/** Codes a repair cannot fix: the user has to. */
const REFUSED: ReadonlySet<FindingCode> = new Set(['symlink', 'not-a-file', 'newer-format', 'unreadable'])
/** Codes that only mean an interrupted run, which opening the folder for writing finishes. */
const INTERRUPTED: ReadonlySet<FindingCode> = new Set(['pending-journal', 'interrupted-operation'])

export async function repairAccount(options: RepairOptions, ctx: RunContext): Promise<RepairReport> {
  const [account] = selectAccounts(options.config, [options.account]) as [Account]
  const report: RepairReport = {account: account.username, dryRun: options.dryRun, server: 'not-needed', serverError: null, folders: [], exitCode: ExitCode.OK}
  const root = requireLocalPath(options.config, account)
  if (!(await exists(root))) {
    if (options.folder !== undefined) throw folderNotFound(options.folder, account)
    return report
  }
  const store = await openAccountStore(options.config, account, options.dryRun ? 'read' : 'write', ctx)
  const server = new ServerLink(options, account, ctx)
  try {
    const repair = (folder: string): string => repairCommand(account.username, folder, {configFlag: options.configFlag})
    const folders = selectLocalFolders(await checkAccount(store.root, {repairCommand: repair, signal: ctx.signal}), options.folder, account)
    for (const folder of folders) {
      throwIfAborted(ctx.signal)
      const job = new FolderRepair(options, store, server, folder.name, folder.relativePath, folder.findings, repair, ctx)
      report.folders.push(await job.run())
    }
  } finally {
    await server.close()
    await store.close()
  }
  report.server = server.state
  report.serverError = server.error ?? null
  report.exitCode = exitCodeOf(report)
  return report
}

function exitCodeOf(report: RepairReport): ExitCodeValue {
  if (report.dryRun) return ExitCode.OK
  const stillDamaged = report.folders.some((f) => f.after.some((x) => x.severity === 'error'))
  if (stillDamaged) return report.folders.some((f) => f.after.some((x) => x.severity === 'error' && x.code !== 'newer-format')) ? ExitCode.DAMAGED : ExitCode.UNSUPPORTED_FORMAT
  return report.folders.some((f) => f.uids === 'unverified') ? ExitCode.INCOMPLETE : ExitCode.OK
}

/** The account's one session, opened when the first folder needs it; unreachable is remembered. */
class ServerLink {
  state: RepairReport['server'] = 'not-needed'
  error: string | undefined
  private session: ImapSession | undefined

  constructor(
    private readonly options: RepairOptions,
    private readonly account: Account,
    private readonly ctx: RunContext,
  ) {}

  /** The session, or undefined when the server cannot be reached (the reason is kept). */
  async get(): Promise<ImapSession | undefined> {
    if (this.state === 'unreachable') return undefined
    if (this.session !== undefined && !this.session.closed) return this.session
    try {
      const sessionOptions = {retry: {...REPAIR_RETRY, ...this.options.retry}, ...(this.options.connect === undefined ? {} : {connect: this.options.connect})}
      this.session = await openAccountSession(this.options.config, this.account, this.ctx, sessionOptions)
      this.state = 'reachable'
      return this.session
    } catch (error) {
      rethrowIfStopped(error, this.ctx.signal)
      if (!(error instanceof MailkeepError)) throw error
      this.state = 'unreachable'
      this.error = error.message
      this.ctx.logger.warn(`the server cannot be reached (${error.message}); repairing without it`)
      return undefined
    }
  }

  async close(): Promise<void> {
    const session = this.session
    this.session = undefined
    if (session === undefined) return
    if (this.ctx.signal.aborted) session.close()
    else await session.logout()
  }
}

interface ServerView {
  opened: OpenedFolder
  messages: Map<number, ServerCandidate & {flags: string[]}>
}

/** What the server says about one folder, or why it cannot say it. */
type ServerAnswer = {kind: 'folder'; view: ServerView} | {kind: 'missing'} | {kind: 'unreachable'}

class FolderRepair {
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

  /** The server's view of the folder: UIDNEXT first, then every message's size, dates and flags. */
  private async ask(): Promise<ServerAnswer> {
    const session = await this.server.get()
    if (session === undefined) return {kind: 'unreachable'}
    let opened: OpenedFolder
    try {
      opened = await session.examine(this.name)
    } catch (error) {
      if (error instanceof MissingFolderError) return {kind: 'missing'}
      throw error
    }
    const messages = new Map<number, ServerCandidate & {flags: string[]}>()
    if (opened.exists > 0) {
      for await (const s of session.fetchSummaries('1:*')) {
        messages.set(s.uid, {uid: s.uid, size: s.size, internalDate: s.internalDate === null ? null : Math.floor(s.internalDate.getTime() / 1000), flags: s.flags})
      }
      const fetchHeaders = session.fetchHeaderFields?.bind(session)
      if (fetchHeaders === undefined) throw new InternalError('this IMAP session cannot fetch header fields, which repair needs to recognise messages')
      for (const slice of slices([...messages.keys()].sort(ascending), HEADER_BATCH)) {
        throwIfAborted(this.ctx.signal)
        for await (const h of fetchHeaders(compactUidSet(slice), HEADER_FIELDS)) {
          const m = messages.get(h.uid)
          if (m === undefined) continue
          const fields = parseHeaderFields(h.headers)
          const messageId = normaliseMessageId(fields.get('message-id'))
          const date = normaliseDate(fields.get('date'))
          if (messageId !== undefined) m.messageId = messageId
          if (date !== undefined) m.date = date
        }
      }
    }
    return {kind: 'folder', view: {opened, messages}}
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

interface LocalEntry {
  entry: ScannedEntry
  candidate: LocalCandidate
  /** Salvaged flags (used when the server cannot give them). */
  flags: string[]
  /** `flags` came from the damaged metadata (else nothing recorded them). */
  flagsSalvaged: boolean
  /** A verified exactness record and its tuple, and the quoting rule of the entry. */
  record?: ExactnessRecord
  tuple?: ExactTuple
  quoting?: QuotingRule
}

/** The rules a mailkeep entry may have been written with, the current one first. */
const QUOTING_RULES: readonly QuotingRule[] = [WRITER_QUOTING, 'strict']

/** The new entries of the folder, in mbox order, with their UIDs, flags and records. */
class Plan {
  messages: MessageEntry[] = []
  exact = new Map<number, ExactTuple>()
  quoting = new Map<number, QuotingRule>()
  matched = 0
  /** ignore-history's placeholders given the UID of the server message they stand for. */
  placeholders = 0
  kept: KeptMessage[] = []
  notExact = 0

  constructor(private readonly mboxPath: string) {}

  async applyMatches(assignments: Assignment[], view: ServerView, local: LocalEntry[], job: FolderRepair): Promise<void> {
    const needBody = new Map<number, LocalEntry>()
    for (let i = 0; i < local.length; i++) {
      const a = assignments[i]!
      const l = local[i]!
      if (a.kind === 'unplaced') continue
      if (a.kind === 'matched' && a.reason === 'placeholder') {
        // Stands for the server's message of that UID, and is not it: no flags of its, its own record.
        this.placeholders++
        continue
      }
      if (a.kind === 'matched') {
        const s = view.messages.get(a.uid)!
        l.flags = toStoredFlags(s.flags)
        this.matched++
        if (l.entry.style !== 'imap-backup') {
          if (l.record !== undefined && l.record.size === s.size) l.tuple = [a.uid, l.record.size, s.internalDate, l.record.appended, l.record.eol]
          else await this.derive(l, a.uid, s, needBody)
        }
      } else {
        this.kept.push(keptOf(l, a.uid, a.reason))
        if (l.tuple !== undefined) l.tuple = [a.uid, l.tuple[1], l.tuple[2], l.tuple[3], l.tuple[4]]
      }
    }
    await job.recordsFromBodies(needBody)
    for (let i = 0; i < local.length; i++) {
      const a = assignments[i]!
      if (a.kind === 'unplaced') continue
      this.add(local[i]!, a.uid)
    }
  }

  /**
   * Exactness from the server's size (uniform line endings), verified by decoding the entry,
   * under the current quoting rule, else mailkeep 0.1.0's (an entry without `>From` lines that
   * lack the space reads the same under both).
   */
  private async derive(l: LocalEntry, uid: number, s: ServerCandidate, needBody: Map<number, LocalEntry>): Promise<void> {
    l.record = undefined
    l.tuple = undefined
    l.quoting = undefined
    let ambiguous = false
    for (const quoting of QUOTING_RULES) {
      const candidates = exactnessCandidates(l.entry, s.size, quoting)
      if (candidates.length > 1) ambiguous = true
      if (candidates.length !== 1) continue
      const record = candidates[0]!
      if (await verifyExactness(this.mboxPath, l.entry, record, quoting)) {
        l.record = record
        l.tuple = [uid, record.size, s.internalDate, record.appended, record.eol]
        l.quoting = quoting
        return
      }
    }
    // imap-backup text that happens to fit neither rule exactly stays without a record.
    if (l.entry.style === 'mailkeep' || ambiguous) needBody.set(uid, l)
  }

  /** Without a server: salvaged UIDs where they are unique, placeholders for the rest, in mbox order. */
  applyPlaceholders(local: LocalEntry[], reserved: readonly number[]): void {
    const used = new Set(reserved)
    const wanted = new Map<number, number>()
    for (const l of local) {
      const u = l.candidate.salvagedUid
      if (u !== undefined && !used.has(u) && ![...wanted.values()].includes(u)) wanted.set(l.candidate.index, u)
    }
    for (const u of wanted.values()) used.add(u)
    let next = Math.max(0, ...used) + 1
    for (const l of local) {
      let uid = wanted.get(l.candidate.index)
      if (uid === undefined) {
        while (used.has(next)) next++
        uid = next++
        used.add(uid)
      }
      this.kept.push(keptOf(l, uid, wanted.has(l.candidate.index) ? 'salvaged-uid' : 'placeholder'))
      if (l.tuple !== undefined) l.tuple = [uid, l.tuple[1], l.tuple[2], l.tuple[3], l.tuple[4]]
      this.add(l, uid)
    }
  }

  private add(l: LocalEntry, uid: number): void {
    this.messages.push({uid, offset: l.entry.offset, length: l.entry.length, flags: l.flags})
    // A copy sharing its twin's UID (see match.ts) never replaces the twin's record.
    if (l.tuple !== undefined && !this.exact.has(uid)) {
      this.exact.set(uid, [uid, l.tuple[1], l.tuple[2], l.tuple[3], l.tuple[4]])
      this.quoting.set(uid, l.quoting ?? WRITER_QUOTING)
    } else if (l.tuple === undefined && l.entry.style !== 'imap-backup') this.notExact++
  }
}

/** A message kept without a server match: its flags could not come from the server, and it says so. */
function keptOf(l: LocalEntry, uid: number, reason: KeptMessage['reason']): KeptMessage {
  const e = l.entry
  return {
    uid,
    offset: e.offset,
    length: e.length,
    reason,
    subject: decodeHeaderText(e.subject ?? ''),
    messageId: e.messageId ?? null,
    flagsFrom: l.flagsSalvaged ? 'damaged-metadata' : 'none',
    flags: [...l.flags],
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
