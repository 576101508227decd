/**
 * The one set of rules that says whether a folder's files are one committed state (docs/design.md,
 * "Recovery on open" and invariants I1, I4, I7), as typed findings. Pure: the callers read the
 * files, each as deep as it needs, and pass what they read; the rules never do IO.
 *
 * - Opening a folder (folder-store.ts) fails on the first error.
 * - `local check` (folder-checker.ts) lists them all, with the checks only it makes (every
 *   entry's bytes, the exactness records).
 * - A backup's no-op skip (folder-peek.ts) requires none, from facts read byte by byte with no
 *   object per message.
 * - `local repair` chooses what to do from the check's list.
 *
 * Before, each of the three had its own copy of these rules, and two bugs came from them drifting
 * apart (a damaged folder reported "unchanged"): a rule added here applies to all of them.
 */
import type {FolderPaths} from './folder-paths.js'
import type {Finding, FindingCode, Severity} from './findings.js'

/** What the caller read of one folder's files. */
export interface FolderFacts {
  paths: FolderPaths
  /** The files of an unfinished rename or rewrite still there (step 1 of recovery). */
  interrupted: readonly string[]
  /** `.imap` is there. When it is, `list` says what it holds, if it could be read. */
  imapPresent: boolean
  /** The mbox's size; undefined when there is none. */
  mboxSize: number | undefined
  /** The journal, when there is one: how it stands to `.imap` (`journalFacts`). */
  journal?: JournalFacts
  /** The message list, a pending journal's entries applied. */
  list?: ListFacts
  /** Entries whose first bytes were read: whether they are a `From ` line (compat check 7). */
  heads?: ReadonlyArray<{uid: number; offset: number; from: boolean}>
}

export type JournalFacts =
  /** A transaction of a newer mailkeep, or one `.imap` does not match: what it holds is unknown. */
  | {state: 'mismatch'; baseCount: number; baseEnd: number}
  /** The journal of a transaction on this `.imap`: it explains bytes after its end (I7). */
  | {state: 'pending'; appended: number | undefined}

export interface ListFacts {
  count: number
  /** Where the last entry ends (0 with none). */
  end: number
  /** The first entry that starts before the one before it ends (`firstOverlap`). */
  overlap?: Overlap
}

export interface Overlap {
  index: number
  uid: number
  offset: number
  previousEnd: number
}

export interface InspectOptions {
  /** The command that repairs this folder. */
  repair: string | undefined
  /** A backup writing the account now: its journal is no interrupted run. */
  writerPid?: number
}

/** Every finding the facts show, in the order opening a folder meets them. */
export function inspectFolder(facts: FolderFacts, options: InspectOptions): Finding[] {
  const p = facts.paths
  const out: Finding[] = []
  // `repair` is explicit (no default): a finding no command repairs says so with undefined.
  const add = (code: FindingCode, severity: Severity, message: string, file: string, repair: string | undefined): void => {
    out.push({code, severity, message, file, repair})
  }
  const {repair} = options
  for (const path of facts.interrupted) {
    add('interrupted-operation', 'warning', `interrupted run: an unfinished rename or rewrite of the folder ('${path}'); the next backup finishes it`, path, repair)
  }
  const size = facts.mboxSize
  if (!facts.imapPresent) {
    if (facts.journal !== undefined) add('journal-mismatch', 'error', `journal '${p.journal}' exists but metadata file '${p.imap}' is missing`, p.journal, repair)
    // A folder not backed up yet: an empty mbox alone holds nothing.
    if (size !== undefined && size > 0) add('mbox-without-imap', 'error', `.mbox file '${p.mbox}' has no metadata file '${p.imap}'`, p.mbox, repair)
    return out
  }
  const journal = facts.journal
  if (journal?.state === 'pending') {
    const writer = options.writerPid
    const what =
      writer === undefined
        ? `interrupted run: journal '${p.journal}' is still there; the next backup finishes it`
        : `a backup (pid ${writer}) is writing this folder: journal '${p.journal}' holds what it has saved so far`
    const folded = journal.appended === undefined ? '' : ` (${journal.appended} committed message(s) not yet folded into '${p.imap}')`
    add('pending-journal', 'warning', `${what}${folded}`, p.journal, writer === undefined ? repair : undefined)
  }
  const list = facts.list
  if (list === undefined) return out // the message list was not read: the caller says why
  if (journal?.state === 'mismatch') {
    // I4 is broken: something else rewrote `.imap` after the journal began.
    add(
      'journal-mismatch',
      'error',
      `journal '${p.journal}' does not match metadata file '${p.imap}' (it starts at ${journal.baseCount} messages / ${journal.baseEnd} bytes, the metadata has ${list.count} / ${list.end})`,
      p.journal,
      repair,
    )
  }
  if (size === undefined) {
    if (list.count > 0) add('mbox-missing', 'error', `.mbox file '${p.mbox}' is missing`, p.mbox, repair)
    else add('mbox-missing', 'warning', `.mbox file '${p.mbox}' is missing (no messages are listed; the next backup creates it)`, p.mbox, undefined)
    return out
  }
  // I7: bytes no transaction of ours explains are not ours to remove.
  const explained = journal?.state === 'pending'
  if (list.count === 0 && size > 0 && !explained) {
    add('no-messages-mbox-not-empty', 'error', `.imap file '${p.imap}' lists no messages, but .mbox file '${p.mbox}' is not empty`, p.imap, repair)
  }
  if (size < list.end) {
    add('mbox-shorter', 'error', `.mbox file '${p.mbox}' is shorter than indicated by .imap file '${p.imap}' (${size} < ${list.end} bytes)`, p.mbox, repair)
  } else if (size > list.end && !explained && list.count > 0) {
    add('mbox-longer', 'error', `.mbox file '${p.mbox}' is longer than indicated by .imap file '${p.imap}' (${size} > ${list.end} bytes)`, p.mbox, repair)
  }
  const o = list.overlap
  if (o !== undefined) {
    add('offsets-out-of-order', 'error', `.imap file '${p.imap}' has offset data which is out of order (UID ${o.uid} starts at ${o.offset}, before the end of the entry before it at ${o.previousEnd})`, p.imap, repair)
  }
  for (const h of facts.heads ?? []) if (!h.from) out.push(notAtOffset(h.uid, h.offset, p, repair))
  return out
}

/** compat check 7: an entry whose bytes do not start with `From `. */
export function notAtOffset(uid: number, offset: number, paths: FolderPaths, repair: string | undefined): Finding {
  return {code: 'message-not-at-offset', severity: 'error', message: `Message ${uid} not found at expected offset ${offset} in file '${paths.mbox}'`, file: paths.mbox, repair}
}

/** The first error among findings (what opening a folder fails on). */
export function firstError(findings: readonly Finding[]): Finding | undefined {
  return findings.find((f) => f.severity === 'error')
}

/** The first entry that starts before the end of the one before it, from row `from` on. */
export function firstOverlap(rows: {readonly length: number; offsetAt(i: number): number; lengthAt(i: number): number; uidAt(i: number): number}, from = 0): Overlap | undefined {
  let previousEnd = from === 0 ? 0 : rows.offsetAt(from - 1) + rows.lengthAt(from - 1)
  for (let i = from; i < rows.length; i++) {
    const offset = rows.offsetAt(i)
    if (offset < previousEnd) return {index: i, uid: rows.uidAt(i), offset, previousEnd}
    previousEnd = offset + rows.lengthAt(i)
  }
  return undefined
}

/**
 * How a journal stands to the `.imap` it was read with (docs/design.md, "Journal"): one that began
 * on another state of `.imap` (its base differs) explains nothing. `header` undefined: a journal
 * whose header was never written (crash before it), which began on this `.imap`.
 */
export function journalFacts(
  header: {id: string; uid_validity: number; base_count: number; base_end: number} | undefined,
  meta: {journalId?: string | undefined; uidValidity: number; count: number; end: number},
  appended: number,
): JournalFacts {
  if (header === undefined || header.id === meta.journalId) return {state: 'pending', appended: undefined}
  if (header.uid_validity !== meta.uidValidity || header.base_count !== meta.count || header.base_end !== meta.end) return {state: 'mismatch', baseCount: header.base_count, baseEnd: header.base_end}
  return {state: 'pending', appended}
}
