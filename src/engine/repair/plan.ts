/**
 * The plan of a rebuilt folder (docs/repair.md): its new entries in mbox order, with the UIDs the
 * server matched (or placeholders without it), their flags and exactness records.
 */
import {WRITER_QUOTING, type ExactnessRecord, type QuotingRule} from '../../store/mboxrd/index.js'
import type {ExactTuple, MessageEntry} from '../../store/metadata.js'
import {toStoredFlags} from '../../store/flags.js'
import {exactnessCandidates, verifyExactness, type ScannedEntry} from '../../store/rebuild.js'
import {decodeHeaderText} from '../inspect/local-headers.js'
import type {Assignment, LocalCandidate, ServerCandidate} from './match.js'
import type {KeptMessage} from './types.js'
import type {ServerView} from './server-link.js'

export interface LocalEntry {
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
export const QUOTING_RULES: readonly QuotingRule[] = [WRITER_QUOTING, 'strict']

/** The new entries of the folder, in mbox order, with their UIDs, flags and records. */
export class Plan {
  messages: MessageEntry[] = []
  exact = new Map<number, ExactTuple>()
  quoting = new Map<number, QuotingRule>()
  matched = 0
  /** ignore-history's placeholders given the UID of the server message they stand for. */
  placeholders = 0
  kept: KeptMessage[] = []
  notExact = 0

  constructor(private readonly mboxPath: string) {}

  async applyMatches(assignments: Assignment[], view: ServerView, local: LocalEntry[], job: {recordsFromBodies(wanted: Map<number, LocalEntry>): Promise<void>}): Promise<void> {
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

