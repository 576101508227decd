/**
 * Uploading one backed-up folder into one destination folder, idempotently (docs/upload-maps.md).
 * Shared by restore, copy, mirror and migrate; they differ only in the UploadPolicy.
 *
 * One attempt, on one session (the caller retries on a new connection after a broken link; every
 * step is safe to repeat):
 *
 * 1. SELECT the destination; the map entry counts only for this source UIDVALIDITY and this
 *    destination UIDVALIDITY, else it starts afresh (compat §8 step 3, without emptying anything);
 * 2. a pending intent (an earlier run stopped between APPEND and recording it) is resolved by
 *    looking for those messages on the destination, at or above the intent's lower bound;
 * 3. copies gone from the destination are forgotten, so restore and mirror upload them again;
 * 4. mirror: copies whose source message is gone from the backup are deleted — only those;
 * 5. restore into the folder the backup came from: the same UID under the same UIDVALIDITY is the
 *    same message (compat §7 step 1), checked against the recorded size;
 * 6. destination messages that are byte-identical copies of unmapped source messages are adopted
 *    into the map instead of being uploaded again;
 * 7. copy, mirror: the flags of mapped copies are set to the stored ones;
 * 8. the rest is appended in batches: the batch's intent first (fsynced), then each APPEND with
 *    its flags and INTERNALDATE, then the new UIDs (APPENDUID, or found again without UIDPLUS).
 *
 * Steps 4, 6 and 8 count a message once however many entries of the backup it has
 * (src/store/message-identity.ts, U7): a copy that a restore made on the account's own server and the next
 * backup downloaded is the same message as the entry it was restored from.
 *
 * The backup is only read. The map records progress through its journal: a batch costs one
 * fsync, never a rewrite of the whole map.
 */
import {compactUidSet} from '../../imap/index.js'
import type {ImapSession, OpenedFolder} from '../../imap/types.js'
import {DamagedError, RemoteError} from '../../shared/errors.js'
import {throwIfAborted, type ProgressReporter} from '../../shared/context.js'
import type {Logger} from '../../shared/logger.js'
import type {FolderStore} from '../../store/folder-store.js'
import type {UploadMap} from '../../store/upload-map.js'
import type {TransferFolderReport, UploadTuning} from './types.js'
import {FlagPolicy, keywordsOf, mayConcernKeywords, sameFlagSet} from './flags.js'
import {findCopies, subjectFromBackup} from './adopt.js'
import {locateCopies, messageHashes, rewrittenSizes, type MatchSubject} from './match.js'
import {knownUploadSize, readUploadMessage, type UploadMessage} from './message.js'
import {MessageIdentity, restoredCopiesIn, toAppend} from '../../store/message-identity.js'
import {sleep} from '../access/retry.js'
import {ascending, slices} from '../access/uid-lists.js'

export interface UploadPolicy {
  /** copy, mirror: the flags of copies follow the stored flags. */
  syncFlags: boolean
  /** mirror: copies whose source message is gone from the backup are deleted. */
  deleteGone: boolean
  /** restore, mirror: a copy gone from the destination is uploaded again (copy, migrate: it stays gone). */
  reuploadMissing: boolean
  /** restore into the account's own server: same UIDVALIDITY and UID mean the same message. */
  sameUidsAreCopies: boolean
}

/** What survives the attempts of one folder (counters count real events only once). */
export class FolderUploadState {
  readonly skipped = new Map<number, string>()
  readonly dropped = new Map<number, {flags: string[]; reason: string}>()
  readonly notes = new Set<string>()
  /** Messages appended but not found again (no UIDPLUS): the intent is kept for the next run. */
  unresolved = 0
  /** Source UIDs whose message has its copy on the destination, when the run got to the end. */
  present: number | undefined
}

export interface FolderUploadInput {
  source: FolderStore
  map: UploadMap
  /** Destination user (the map's key). */
  user: string
  destination: string
  /** Source UIDs whose copy another destination folder holds (a restore's clash folder): not uploaded. */
  presentElsewhere: ReadonlySet<number>
  /** Source UIDs of ignore-history's placeholders: not mail, never uploaded (store/placeholders.ts). */
  placeholders: ReadonlySet<number>
  session: ImapSession
  /**
   * The source folder's `.restore` map (for restore, `map` itself) and the backed-up account:
   * its entry for that account and the folder itself tells which entries are restored copies of
   * others (src/store/message-identity.ts). Undefined when there is none.
   */
  restoreMap: UploadMap | undefined
  sourceUser: string
  policy: UploadPolicy
  tuning: UploadTuning
  report: TransferFolderReport
  state: FolderUploadState
  signal: AbortSignal
  progress: ProgressReporter
  logger: Logger
}

const FLAG_SLICE = 5000
const SUMMARY_SLICE = 5000

export async function uploadFolder(input: FolderUploadInput): Promise<void> {
  const run = new FolderUpload(input)
  await run.run()
}

class FolderUpload {
  private readonly source: FolderStore
  private readonly session: ImapSession
  private readonly map: UploadMap
  private readonly user: string
  private readonly dest: string
  private readonly report: TransferFolderReport
  private readonly logger: Logger
  private opened!: OpenedFolder
  private flags!: FlagPolicy
  /** Destination UID → source UID, for the entry. */
  private readonly reverse = new Map<number, number>()
  private destUids: number[] = []
  private destSet = new Set<number>()
  /**
   * Messages of an interrupted run's intent not found at the first look: maybe never appended,
   * maybe appended by the dead connection after the look. They stay in every intent until they
   * are looked for again (after the grace) and, if still missing, appended last.
   */
  private uncertain: {from: number; subjects: MatchSubject[]; lookedAt: number} | undefined
  /** Messages this run appended and could not find again (no UIDPLUS): named in every later intent. */
  private unfound: {from: number; uids: number[]} | undefined

  constructor(private readonly input: FolderUploadInput) {
    this.source = input.source
    this.session = input.session
    this.map = input.map
    this.user = input.user
    this.dest = input.destination
    this.report = input.report
    this.logger = input.logger
  }

  private get entryMap(): ReadonlyMap<number, number> {
    return this.map.entry(this.user, this.dest)?.map ?? new Map()
  }

  /** Whether the entry `uid` has its copy: in this folder (the map), or in another (presentElsewhere). */
  private mappedIn(entryMap: ReadonlyMap<number, number>): (uid: number) => boolean {
    const elsewhere = this.input.presentElsewhere
    return (uid) => entryMap.has(uid) || elsewhere.has(uid)
  }

  async run(): Promise<void> {
    const {source, session, policy, signal} = this.input
    this.opened = await session.select(this.dest)
    this.flags = new FlagPolicy(this.opened.permanentFlags)
    const sourceValidity = source.uidValidity!
    const entry = this.map.entry(this.user, this.dest)
    if (entry === undefined || entry.sourceUidValidity !== sourceValidity || entry.destinationUidValidity !== this.opened.uidValidity) {
      if (entry !== undefined && entry.map.size > 0) {
        this.logger.info(`the upload map of '${this.dest}' is for another UIDVALIDITY (source ${entry.sourceUidValidity}, destination ${entry.destinationUidValidity}); starting a new one: copies already there are found by comparing them`)
      }
      this.map.reset(this.user, this.dest, sourceValidity, this.opened.uidValidity)
    }
    for (const [s, d] of this.entryMap) this.reverse.set(d, s)
    this.destUids = this.opened.exists > 0 ? (await session.searchUids()).sort(ascending) : []
    this.destSet = new Set(this.destUids)

    await this.resolvePending()
    this.forgetMissing(policy.reuploadMissing)
    if (policy.deleteGone) await this.deleteGone()
    if (policy.sameUidsAreCopies && sourceValidity === this.opened.uidValidity) await this.matchSameUids()
    throwIfAborted(signal)
    await this.adopt()
    if (policy.syncFlags) await this.syncFlags()
    // A message in doubt is held back whole: appending another entry of it now would make a
    // second copy if the dead connection's APPEND lands after all.
    const held = new Set(this.uncertain?.subjects.map((s) => s.uid) ?? [])
    const identity = this.identity()
    await this.uploadRest(this.uniqueSourceUids().filter((u) => !identity.members(u).some((m) => held.has(m))))
    if (this.uncertain !== undefined) await this.uploadRest(await this.lookAgain())
    await this.map.sync()
    const final = this.identity()
    const mapped = this.mappedIn(this.entryMap)
    this.input.state.present = this.uniqueSourceUids().filter((u) => final.members(u).some(mapped)).length
  }

  /**
   * Which entries of the source folder are one message (U7): the pairs its metadata records and
   * those its own restore map shows now (this run's records included).
   */
  private identity(): MessageIdentity {
    const {source, restoreMap, sourceUser} = this.input
    const own = restoreMap?.entry(sourceUser, source.name)
    const derived = restoredCopiesIn(own, source.uidValidity, (u) => source.has(u))
    return new MessageIdentity([...source.restoredCopies, ...derived])
  }

  // ---- 2. an intent left by an interrupted run

  private async resolvePending(): Promise<void> {
    const pending = this.map.entry(this.user, this.dest)?.pending
    if (pending === undefined) return
    const entryMap = this.entryMap
    const uids = pending.uids.filter((u) => this.source.has(u) && !entryMap.has(u))
    if (uids.length > 0) {
      const subjects: MatchSubject[] = []
      for (const uid of uids) {
        const subject = await subjectFromBackup(this.source, uid)
        if (subject !== undefined) subjects.push(subject)
      }
      const found = await locateCopies(this.session, subjects, {
        from: pending.from,
        candidates: this.destUids,
        taken: (d) => this.reverse.has(d),
        proof: false,
        signal: this.input.signal,
      })
      this.adoptFound(found)
      const missing = subjects.filter((s) => !found.has(s.uid))
      if (missing.length > 0) {
        // The intent stays until they are looked for again (lookAgain).
        this.uncertain = {from: pending.from, subjects: missing, lookedAt: Date.now()}
        return
      }
    }
    this.map.clearPending(this.user, this.dest)
  }

  /**
   * The second look for the uncertain messages, just before they would be appended: at least
   * `pendingGraceMs` after the first. A connection that died in the middle of an APPEND can still
   * have the whole message in the server's socket buffer (or a proxy's), and the server then
   * stores it a moment after the client is gone, possibly after this run's first look: appending
   * it again at once would make a second copy (found by the kill -9 reliability suite). The
   * server processes a connection's commands in order and that one has no more, so a message not
   * there after the grace was not appended. Returns the source UIDs still to append.
   */
  private async lookAgain(): Promise<number[]> {
    const held = this.uncertain!
    const {tuning, signal} = this.input
    const wait = held.lookedAt + tuning.pendingGraceMs - Date.now()
    if (wait > 0) {
      this.logger.info(`waiting ${wait} ms before looking again for ${held.subjects.length} message(s) an interrupted run may have appended to '${this.dest}'`)
      await sleep(wait, signal)
    }
    // A session sees messages other sessions added once the server tells it (RFC 3501 §6.1.2:
    // NOOP polls for them); Dovecot's UID SEARCH alone runs on the view it had.
    await this.session.noop()
    const found = await locateCopies(this.session, held.subjects, {from: held.from, taken: (d) => this.reverse.has(d), proof: false, signal})
    this.adoptFound(found)
    this.uncertain = undefined
    return held.subjects.filter((s) => !found.has(s.uid)).map((s) => s.uid)
  }

  private adoptFound(found: ReadonlyMap<number, number>): void {
    this.record([...found])
    this.report.adopted += found.size
    if (found.size > 0) this.logger.info(`found ${found.size} message(s) that an interrupted run had uploaded to '${this.dest}'`)
  }

  // ---- 3. copies that are gone from the destination

  private forgetMissing(reupload: boolean): void {
    const gone = [...this.entryMap].filter(([, d]) => !this.destSet.has(d))
    if (gone.length === 0) return
    if (!reupload) {
      this.input.state.notes.add(`${gone.length} message(s) copied earlier are no longer in '${this.dest}'; they are not copied again`)
      return
    }
    for (const [, d] of gone) this.reverse.delete(d)
    this.map.forget(this.user, this.dest, gone.map(([s]) => s))
  }

  // ---- 4. mirror: delete copies whose source is gone

  private async deleteGone(): Promise<void> {
    let orphans = [...this.entryMap].filter(([s, d]) => !this.source.has(s) && this.destSet.has(d))
    if (orphans.length === 0) return
    // An entry gone whose message the backup still holds under another entry (its restored copy,
    // or the original): the copy on the destination stays and now belongs to that entry, unless
    // the message has its copy there already (then this one is a second copy and goes).
    const identity = this.identity()
    const entryMap = this.entryMap
    const heirs: Array<[number, number]> = []
    const taken = new Set<number>()
    orphans = orphans.filter(([s, d]) => {
      const members = identity.members(s)
      if (members.some((m) => m !== s && entryMap.has(m) && this.destSet.has(entryMap.get(m)!))) return true
      const heir = members.filter((m) => m !== s && this.source.has(m) && !entryMap.has(m) && !taken.has(m)).pop()
      if (heir === undefined) return true
      taken.add(heir)
      heirs.push([heir, d])
      return false
    })
    if (heirs.length > 0) {
      this.map.forget(
        this.user,
        this.dest,
        heirs.map(([, d]) => this.reverse.get(d)!),
      )
      this.record(heirs)
    }
    if (orphans.length === 0) return
    const uids = orphans.map(([, d]) => d).sort(ascending)
    for (const slice of slices(uids, FLAG_SLICE)) await this.session.storeFlags(compactUidSet(slice), ['\\Deleted'], 'add')
    if (!this.session.capabilities.uidplus) {
      // Plain EXPUNGE removes EVERY \Deleted message (RFC 3501 §6.4.3): only when ours are the only ones.
      const ours = new Set(uids)
      let others = 0
      for (const slice of slices(this.destUids, FLAG_SLICE)) {
        const {changed} = await this.session.fetchFlags(compactUidSet(slice))
        others += changed.filter((c) => !ours.has(c.uid) && c.flags.some((f) => f.toUpperCase() === '\\DELETED')).length
      }
      if (others > 0) {
        this.input.state.notes.add(
          `${uids.length} message(s) whose source is gone were flagged \\Deleted but not expunged: the server has no UIDPLUS, and EXPUNGE would also remove ${others} other message(s) flagged \\Deleted`,
        )
        return
      }
      await this.session.expunge()
    } else {
      for (const slice of slices(uids, FLAG_SLICE)) await this.session.expunge(compactUidSet(slice))
    }
    this.report.deleted += uids.length
    for (const d of uids) {
      this.reverse.delete(d)
      this.destSet.delete(d)
    }
    this.destUids = this.destUids.filter((d) => this.destSet.has(d))
    this.map.forget(
      this.user,
      this.dest,
      orphans.map(([s]) => s),
    )
    this.logger.info(`deleted ${uids.length} message(s) from '${this.dest}' whose source is gone from the backup`)
  }

  // ---- 5. restore into the folder the backup came from

  private async matchSameUids(): Promise<void> {
    const entryMap = this.entryMap
    const common = this.source.messages.distinctUids().filter((u) => !entryMap.has(u) && this.destSet.has(u) && !this.reverse.has(u))
    if (common.length === 0) return
    const pairs: Array<[number, number]> = []
    for (const slice of slices(common.sort(ascending), SUMMARY_SLICE)) {
      for await (const summary of this.session.fetchSummaries(compactUidSet(slice))) {
        const known = knownUploadSize(this.source, summary.uid)
        // imap-backup's rule (equal UIDs are the same message), checked where the size is known.
        if (known === undefined || known === summary.size) pairs.push([summary.uid, summary.uid])
      }
    }
    this.record(pairs)
  }

  // ---- 6. adopt byte-identical copies nobody recorded

  private async adopt(): Promise<void> {
    const entryMap = this.entryMap
    const unmappedDest = this.destUids.filter((d) => !this.reverse.has(d))
    if (unmappedDest.length === 0) return
    const unmappedSource = toAppend(this.uniqueSourceUids(), this.identity(), this.mappedIn(entryMap))
    if (unmappedSource.length === 0) return
    const found = await findCopies(this.session, this.source, unmappedSource, unmappedDest, (d) => this.reverse.has(d), this.input.signal)
    this.record([...found])
    this.report.adopted += found.size
    if (found.size > 0) this.logger.info(`${found.size} message(s) were already in '${this.dest}' (byte-identical): recorded, not uploaded again`)
  }

  // ---- 7. flags of existing copies

  private async syncFlags(): Promise<void> {
    const pairs = [...this.entryMap].filter(([s, d]) => this.source.has(s) && this.destSet.has(d))
    if (pairs.length === 0) return
    const groups = new Map<string, {flags: string[]; uids: number[]}>()
    const dests = pairs.map(([, d]) => d).sort(ascending)
    // A message of several entries (U7) has the flags of its newest entry: the last one a backup
    // saw on the server (an entry restored from is one the server no longer has).
    const identity = this.identity()
    const newest = (uid: number): number => identity.members(uid).filter((m) => this.source.has(m)).pop() ?? uid
    for (const slice of slices(dests, FLAG_SLICE)) {
      throwIfAborted(this.input.signal)
      const {changed} = await this.session.fetchFlags(compactUidSet(slice))
      for (const {uid, flags: current} of changed) {
        const s = this.reverse.get(uid)
        if (s === undefined) continue
        const wanted = this.flags.choose(this.source.entry(newest(s))?.flags ?? []).flags
        const present = current.filter((f) => f.toUpperCase() !== '\\RECENT')
        // \Deleted on the destination is the user's business there: kept as it is.
        const target = [...wanted, ...present.filter((f) => !FlagPolicy.managed(f))]
        if (sameFlagSet(target, present)) continue
        const key = [...target].sort().join(' ')
        const group = groups.get(key) ?? {flags: target, uids: []}
        group.uids.push(uid)
        groups.set(key, group)
      }
    }
    for (const {flags, uids} of groups.values()) {
      for (const slice of slices(uids.sort(ascending), FLAG_SLICE)) {
        try {
          await this.session.storeFlags(compactUidSet(slice), flags, 'set')
        } catch (error) {
          if (!(error instanceof RemoteError)) throw error
          const keywords = keywordsOf(flags)
          if (keywords.length === 0 || !mayConcernKeywords(error)) throw error
          // Maybe a keyword: set the rest. Only if the server takes that were the keywords the
          // reason, and are dropped from then on; otherwise the first refusal is the answer.
          try {
            await this.session.storeFlags(compactUidSet(slice), flags.filter((f) => f.startsWith('\\')), 'set')
          } catch (second) {
            if (second instanceof RemoteError) throw error
            throw second
          }
          this.flags.refuse(keywords)
          for (const d of slice) this.dropFlags(this.reverse.get(d) ?? d, keywords, `the server refused it (${error.message})`)
        }
        this.report.flagsUpdated += slice.length
      }
    }
  }

  // ---- 8. upload what is left

  private async uploadRest(sourceUids: readonly number[]): Promise<void> {
    const {tuning, signal} = this.input
    const todo = toAppend(sourceUids, this.identity(), this.mappedIn(this.entryMap))
    if (todo.length === 0) return
    const limit = this.session.capabilities.appendLimit
    const batches: number[][] = []
    let current: number[] = []
    let bytes = 0
    let total = 0
    for (const uid of todo) {
      const size = knownUploadSize(this.source, uid) ?? this.source.entry(uid)?.length ?? 0
      if (limit !== undefined && knownUploadSize(this.source, uid) !== undefined && size > limit) {
        this.skip(uid, tooLarge(size, limit))
        continue
      }
      if (current.length > 0 && (current.length >= tuning.batchMessages || bytes + size > tuning.batchBytes)) {
        batches.push(current)
        current = []
        bytes = 0
      }
      current.push(uid)
      bytes += size
      total += size
    }
    if (current.length > 0) batches.push(current)
    if (batches.length === 0) return

    const task = this.input.progress.start(`${this.report.source} → ${this.dest}`, {messages: batches.reduce((n, b) => n + b.length, 0), bytes: total})
    try {
      let lowerBound = Math.max(this.opened.uidNext, (this.destUids[this.destUids.length - 1] ?? 0) + 1)
      let carried: {from: number; subjects: MatchSubject[]} | undefined
      for (const batch of batches) {
        throwIfAborted(signal)
        const from = lowerBound
        const intentFrom = carried === undefined ? from : Math.min(carried.from, from)
        await this.map.intend(this.user, this.dest, this.withHeld({from: intentFrom, uids: [...(carried?.subjects.map((s) => s.uid) ?? []), ...batch]}))
        const unresolved: MatchSubject[] = []
        for (const uid of batch) {
          throwIfAborted(signal)
          const outcome = await this.appendOne(uid, limit)
          if (outcome === undefined) continue
          task.advance(1, outcome.bytes)
          if (outcome.uid !== undefined) {
            this.record([[uid, outcome.uid]])
            lowerBound = Math.max(lowerBound, outcome.uid + 1)
          } else {
            unresolved.push(outcome.subject)
          }
        }
        if (unresolved.length > 0) {
          const found = await locateCopies(this.session, unresolved, {from, taken: (d) => this.reverse.has(d), proof: false, signal})
          this.record([...found])
          for (const d of found.values()) lowerBound = Math.max(lowerBound, d + 1)
          const missing = unresolved.filter((s) => !found.has(s.uid))
          carried = missing.length === 0 && carried === undefined ? undefined : {from: intentFrom, subjects: [...(carried?.subjects ?? []), ...missing]}
        }
        if (carried === undefined) this.clearPending()
      }
      if (carried !== undefined) {
        // One more look for appended messages not found right after their batch.
        const found = await locateCopies(this.session, carried.subjects, {from: carried.from, taken: (d) => this.reverse.has(d), proof: false, signal})
        this.record([...found])
        const missing = carried.subjects.filter((s) => !found.has(s.uid))
        if (missing.length === 0) this.clearPending()
        else {
          this.unfound = {from: Math.min(this.unfound?.from ?? carried.from, carried.from), uids: [...(this.unfound?.uids ?? []), ...missing.map((s) => s.uid)]}
          await this.map.intend(this.user, this.dest, this.withHeld({from: carried.from, uids: []}))
          this.input.state.unresolved = this.unfound.uids.length
          this.input.state.notes.add(
            `${missing.length} message(s) were appended but could not be found again on the destination (the server has no UIDPLUS): the next run looks for them before appending anything (source UIDs ${missing
              .slice(0, 10)
              .map((s) => s.uid)
              .join(', ')}${missing.length > 10 ? ', …' : ''})`,
          )
        }
      }
    } finally {
      task.done()
    }
  }

  /**
   * An intent that also names the messages still in doubt: an interrupted run's not found yet
   * (`uncertain`) and this run's appended but not found again (`unfound`), so that a crash now
   * leaves them for the next run to look for.
   */
  private withHeld(intent: {from: number; uids: number[]}): {from: number; uids: number[]} {
    let {from, uids} = intent
    if (this.uncertain !== undefined) {
      from = Math.min(from, this.uncertain.from)
      uids = [...this.uncertain.subjects.map((s) => s.uid), ...uids]
    }
    if (this.unfound !== undefined) {
      from = Math.min(from, this.unfound.from)
      uids = [...this.unfound.uids, ...uids]
    }
    return {from, uids}
  }

  /** The intent is done with, unless it still names messages in doubt (then it stays as it is). */
  private clearPending(): void {
    if (this.uncertain === undefined && this.unfound === undefined) this.map.clearPending(this.user, this.dest)
  }

  /** Appends one message; undefined when it was skipped (the reason is recorded). */
  private async appendOne(uid: number, limit: number | undefined): Promise<{uid?: number; bytes: number; subject: MatchSubject} | undefined> {
    let message: UploadMessage
    try {
      message = await readUploadMessage(this.source, uid)
    } catch (error) {
      if (!(error instanceof DamagedError)) throw error
      this.skip(uid, `cannot be read from the backup: ${error.message}`)
      return undefined
    }
    if (limit !== undefined && message.bytes.length > limit) {
      this.skip(uid, tooLarge(message.bytes.length, limit))
      return undefined
    }
    const choice = this.flags.choose(message.storedFlags)
    const dropped = [...choice.dropped]
    let result
    try {
      result = await this.session.append(this.dest, message.bytes, {flags: choice.flags, internalDate: message.internalDate})
    } catch (error) {
      if (!(error instanceof RemoteError)) throw error
      const keywords = keywordsOf(choice.flags)
      if (keywords.length === 0 || !mayConcernKeywords(error)) {
        // Too big, over quota, …: the keywords are not the reason and stay for later messages.
        this.skip(uid, `the server refused it: ${error.message}`)
        return undefined
      }
      // Maybe a keyword: try once without them (the message matters more than a label).
      try {
        result = await this.session.append(this.dest, message.bytes, {flags: choice.flags.filter((f) => f.startsWith('\\')), internalDate: message.internalDate})
      } catch (second) {
        if (!(second instanceof RemoteError)) throw second
        // Refused without them too: they were not the reason; later messages keep theirs.
        this.skip(uid, `the server refused it: ${error.message}${second.message === error.message ? '' : ` (and without its keywords: ${second.message})`}`)
        return undefined
      }
      // Taken without them: the server refuses these keywords; later messages go without them.
      this.flags.refuse(keywords)
      dropped.push(...keywords.map((flag) => ({flag, reason: `the server refused it (${error.message})`})))
    }
    if (result.uidValidity !== undefined && result.uidValidity !== this.opened.uidValidity) {
      throw new RemoteError(`the UIDVALIDITY of '${this.dest}' changed during the upload (${this.opened.uidValidity} → ${result.uidValidity})`)
    }
    for (const d of dropped) this.dropFlags(uid, [d.flag], d.reason)
    this.report.uploaded++
    this.report.bytes += message.bytes.length
    // Only a copy without APPENDUID is looked for (by its bytes when need be): hash it now, while
    // the bytes are at hand, so that the batch holds no message bytes.
    const hashes = result.uid === undefined ? messageHashes(message.bytes) : {sent: '', rewritten: []}
    const subject: MatchSubject = {
      uid,
      crlfSize: message.crlfSize,
      rawSize: message.bytes.length,
      internalDate: message.internalDate,
      messageId: message.messageId,
      rewrittenSizes: rewrittenSizes(message.bytes, message.crlfSize),
      hashes: () => Promise.resolve(hashes),
    }
    return {uid: result.uid, bytes: message.bytes.length, subject}
  }

  // ---- helpers

  /** The source folder's messages, each UID once, without ignore-history's placeholders. */
  private uniqueSourceUids(): number[] {
    const placeholders = this.input.placeholders
    return this.source.messages
      .distinctUids()
      .filter((u) => !placeholders.has(u))
      .sort(ascending)
  }

  private record(pairs: ReadonlyArray<readonly [number, number]>): void {
    if (pairs.length === 0) return
    this.map.record(this.user, this.dest, pairs)
    for (const [s, d] of pairs) {
      this.reverse.set(d, s)
      this.destSet.add(d)
    }
  }

  private skip(uid: number, reason: string): void {
    if (!this.input.state.skipped.has(uid)) this.logger.error(`message UID ${uid} of '${this.report.source}' was not uploaded: ${reason}`, {uid})
    this.input.state.skipped.set(uid, reason)
  }

  private dropFlags(uid: number, flags: string[], reason: string): void {
    const known = this.input.state.dropped.get(uid)
    if (known === undefined) this.input.state.dropped.set(uid, {flags: [...flags], reason})
    else for (const f of flags) if (!known.flags.includes(f)) known.flags.push(f)
    this.logger.warn(`message UID ${uid} of '${this.report.source}' was uploaded without ${flags.join(' ')}: ${reason}`, {uid})
  }
}

function tooLarge(size: number, limit: number): string {
  return `${size} bytes is larger than the destination's APPENDLIMIT of ${limit} bytes (RFC 7889)`
}
