/**
 * One attempt at uploading one folder, on one session: what the steps of folder-upload.ts share.
 * Opening it is step 1 (SELECT the destination, keep or restart the map entry, list the
 * destination's UIDs); the steps then read and update this one view of the destination and the
 * map, so that each step sees what the ones before it recorded.
 */
import type {ImapSession, OpenedFolder} from '../../imap/types.js'
import type {Logger} from '../../shared/logger.js'
import type {FolderStore} from '../../store/folder-store.js'
import type {UploadMap} from '../../store/upload-map.js'
import {MessageIdentity, restoredCopiesIn} from '../../store/message-identity.js'
import type {TransferFolderReport} from './types.js'
import type {FolderUploadInput} from './folder-upload-input.js'
import {FlagPolicy} from './flags.js'
import type {MatchSubject} from './match.js'
import {ascending} from '../access/uid-lists.js'

/** UIDs per STORE, FETCH FLAGS or UID EXPUNGE command, so that no command line grows without bound. */
export const FLAG_SLICE = 5000

export class UploadAttempt {
  readonly source: FolderStore
  readonly session: ImapSession
  readonly map: UploadMap
  readonly user: string
  readonly dest: string
  readonly report: TransferFolderReport
  readonly logger: Logger
  /** Destination UID → source UID, for the entry. */
  readonly reverse = new Map<number, number>()
  destUids: number[] = []
  destSet = new Set<number>()
  /**
   * Messages of an interrupted run's intent not found at the first look: maybe never appended,
   * maybe appended by the dead connection after the look. They stay in every intent until they
   * are looked for again (after the grace) and, if still missing, appended last.
   */
  uncertain: {from: number; subjects: MatchSubject[]; lookedAt: number} | undefined
  /** Messages this run appended and could not find again (no UIDPLUS): named in every later intent. */
  unfound: {from: number; uids: number[]} | undefined

  private constructor(
    readonly input: FolderUploadInput,
    readonly opened: OpenedFolder,
    readonly flags: FlagPolicy,
  ) {
    this.source = input.source
    this.session = input.session
    this.map = input.map
    this.user = input.user
    this.dest = input.destination
    this.report = input.report
    this.logger = input.logger
  }

  /**
   * Step 1: the map entry counts only for this source UIDVALIDITY and this destination
   * UIDVALIDITY, else it starts afresh (compat §8 step 3, without emptying anything).
   */
  static async open(input: FolderUploadInput): Promise<UploadAttempt> {
    const {source, session, map, user, destination: dest, logger} = input
    const opened = await session.select(dest)
    const attempt = new UploadAttempt(input, opened, new FlagPolicy(opened.permanentFlags))
    const sourceValidity = source.uidValidity!
    const entry = map.entry(user, dest)
    if (entry === undefined || entry.sourceUidValidity !== sourceValidity || entry.destinationUidValidity !== opened.uidValidity) {
      if (entry !== undefined && entry.map.size > 0) {
        logger.info(`the upload map of '${dest}' is for another UIDVALIDITY (source ${entry.sourceUidValidity}, destination ${entry.destinationUidValidity}); starting a new one: copies already there are found by comparing them`)
      }
      map.reset(user, dest, sourceValidity, opened.uidValidity)
    }
    for (const [s, d] of attempt.entryMap) attempt.reverse.set(d, s)
    attempt.destUids = opened.exists > 0 ? (await session.searchUids()).sort(ascending) : []
    attempt.destSet = new Set(attempt.destUids)
    return attempt
  }

  get entryMap(): ReadonlyMap<number, number> {
    return this.map.entry(this.user, this.dest)?.map ?? new Map()
  }

  /** Whether the entry `uid` has its copy: in this folder (the map), or in another (presentElsewhere). */
  mappedIn(entryMap: ReadonlyMap<number, number>): (uid: number) => boolean {
    const elsewhere = this.input.presentElsewhere
    return (uid) => entryMap.has(uid) || elsewhere.has(uid)
  }

  /**
   * Which entries of the source folder are one message (U7): the pairs its metadata records and
   * those its own restore map shows now (this run's records included).
   */
  identity(): MessageIdentity {
    const {source, restoreMap, sourceUser} = this.input
    const own = restoreMap?.entry(sourceUser, source.name)
    const derived = restoredCopiesIn(own, source.uidValidity, (u) => source.has(u))
    return new MessageIdentity([...source.restoredCopies, ...derived])
  }

  /** The source folder's messages, each UID once, without ignore-history's placeholders. */
  uniqueSourceUids(): number[] {
    const placeholders = this.input.placeholders
    return this.source.messages
      .distinctUids()
      .filter((u) => !placeholders.has(u))
      .sort(ascending)
  }

  record(pairs: ReadonlyArray<readonly [number, number]>): void {
    if (pairs.length === 0) return
    this.map.record(this.user, this.dest, pairs)
    for (const [s, d] of pairs) {
      this.reverse.set(d, s)
      this.destSet.add(d)
    }
  }

  skip(uid: number, reason: string): void {
    if (!this.input.state.skipped.has(uid)) this.logger.error(`message UID ${uid} of '${this.report.source}' was not uploaded: ${reason}`, {uid})
    this.input.state.skipped.set(uid, reason)
  }

  dropFlags(uid: number, flags: string[], reason: string): void {
    const known = this.input.state.dropped.get(uid)
    if (known === undefined) this.input.state.dropped.set(uid, {flags: [...flags], reason})
    else for (const f of flags) if (!known.flags.includes(f)) known.flags.push(f)
    this.logger.warn(`message UID ${uid} of '${this.report.source}' was uploaded without ${flags.join(' ')}: ${reason}`, {uid})
  }
}
