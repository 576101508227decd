/**
 * Salvage for `local repair` (docs/repair.md): what a damaged `.imap`, a journal left next to it
 * and the exactness file still say, as hints for matching the mbox's entries again. Nothing here
 * trusts its input: a field that does not parse is skipped.
 */
import {readdir} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'
import {DamagedError, errnoCode, localIoError, UnusablePathError} from '../shared/errors.js'
import {readRegularFile} from './file-ops.js'
import type {FolderPaths} from './folder-paths.js'
import {parseJournal} from './journal.js'
import {fromExactnessTuple, type QuotingRule} from './mboxrd/index.js'
import {isExactRow, quotingOf} from './exact-file.js'
import type {ExactTuple} from './metadata.js'

export interface SalvagedEntry {
  uid: number
  offset: number
  length: number
  flags: string[]
  /**
   * `flags` were recorded (a `.imap` entry, a journal record); false for an entry only the
   * exactness file names, which holds no flags.
   */
  flagsKnown: boolean
}

export interface Salvage {
  /** A uid_validity the file names (UNVERIFIED_UID_VALIDITY included), if any. */
  uidValidity?: number
  /** The file carries mailkeep's extension key: mailkeep wrote (at least its last version). */
  writtenByMailkeep: boolean
  /** Entries that parse, by offset (the last one wins). */
  entries: Map<number, SalvagedEntry>
  /** Exactness tuples that parse, by UID, and the quoting rule of each one's entry. */
  exact: Map<number, ExactTuple>
  quoting: Map<number, QuotingRule>
  uidNext?: number
  highestModseq?: string
}

export function emptySalvage(): Salvage {
  return {writtenByMailkeep: false, entries: new Map(), exact: new Map(), quoting: new Map()}
}

/**
 * Everything usable in the text of a `.imap` file, however damaged: a JSON parse when it is
 * valid JSON, else a scan for the pieces (truncated and garbled files). Nothing found here is
 * trusted on its own: the caller keeps an entry only where its offset and length equal a scanned
 * entry, a record only where it decodes that entry, a UID only where the server agrees.
 */
export function salvageMetadata(text: string, into: Salvage = emptySalvage()): Salvage {
  into.writtenByMailkeep ||= /"mailkeep"\s*:\s*\{/.test(text)
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch {
    data = undefined
  }
  if (data !== null && typeof data === 'object' && !Array.isArray(data)) {
    const obj = data as Record<string, unknown>
    const uidValidity = positive(typeof obj['uid_validity'] === 'string' ? Number(obj['uid_validity']) : obj['uid_validity'])
    if (uidValidity !== undefined) into.uidValidity = uidValidity
    if (Array.isArray(obj['messages'])) for (const m of obj['messages']) addEntry(into, m)
    // Records in `.imap` are mailkeep 0.1.0's, whose entries are strictly quoted.
    if (Array.isArray(obj['mailkeep_messages'])) for (const t of obj['mailkeep_messages']) addTuple(into, t, 'strict')
    const ext = obj['mailkeep']
    if (ext !== null && typeof ext === 'object' && !Array.isArray(ext)) {
      const uidNext = positive((ext as Record<string, unknown>)['uidnext'])
      if (uidNext !== undefined) into.uidNext = uidNext
      const modseq = (ext as Record<string, unknown>)['highestmodseq']
      if (typeof modseq === 'string' && /^\d{1,20}$/.test(modseq)) into.highestModseq = modseq
    }
    return into
  }
  const validity = /"uid_validity"\s*:\s*"?(\d{1,16})"?/.exec(text)
  if (validity !== null) {
    const value = positive(Number(validity[1]))
    if (value !== undefined) into.uidValidity = value
  }
  for (const match of text.matchAll(/\{[^{}]*"uid"[^{}]*\}/g)) {
    try {
      addEntry(into, JSON.parse(match[0]))
    } catch {
      // a garbled object: skip it
    }
  }
  const records = text.indexOf('"mailkeep_messages"')
  if (records >= 0) {
    for (const match of text.slice(records).matchAll(/\[\s*\d+\s*,\s*\d+\s*,\s*(?:null|-?\d+)\s*,\s*[012]\s*,\s*(?:[01]|\[[\d\s,]*\])\s*\]/g)) {
      try {
        addTuple(into, JSON.parse(match[0]), 'strict')
      } catch {
        // skip
      }
    }
  }
  return into
}

/** The committed records of a journal left next to a damaged `.imap`, as salvage hints. */
export function salvageJournal(text: string, path: string, into: Salvage): Salvage {
  let contents
  try {
    contents = parseJournal(text, path)
  } catch {
    return into
  }
  if (contents === undefined) return into
  into.writtenByMailkeep = true
  into.uidValidity ??= contents.header.uid_validity
  for (const record of contents.committed) {
    if (record.t === 'a') {
      addEntry(into, record.m)
      if (record.x !== undefined) addTuple(into, record.x, contents.quoting)
    } else if (record.t === 'f') {
      for (const entry of into.entries.values()) {
        if (entry.uid !== record.uid) continue
        entry.flags = record.flags.filter((f) => typeof f === 'string')
        entry.flagsKnown = true
      }
    }
  }
  return into
}

function addEntry(into: Salvage, value: unknown): void {
  if (value === null || typeof value !== 'object') return
  const {uid, offset, length, flags} = value as Record<string, unknown>
  const u = positive(uid)
  const l = positive(length)
  if (u === undefined || l === undefined || typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) return
  const list = Array.isArray(flags) ? flags.filter((f): f is string => typeof f === 'string') : []
  into.entries.set(offset, {uid: u, offset, length: l, flags: list, flagsKnown: Array.isArray(flags)})
}

function addTuple(into: Salvage, value: unknown, quoting: QuotingRule): void {
  try {
    const {uid} = fromExactnessTuple(value)
    into.exact.set(uid, value as ExactTuple)
    into.quoting.set(uid, quoting)
  } catch {
    // an invalid record is no hint
  }
}

/**
 * The rows of an exactness file, however damaged (exact-file.ts): each names its entry (UID,
 * offset, length), which also stands in for a lost `.imap` entry (without flags), and its record.
 */
export function salvageExactFile(text: string, into: Salvage): Salvage {
  let rows: unknown[] = []
  try {
    const data = JSON.parse(text) as Record<string, unknown>
    if (Array.isArray(data['messages'])) rows = data['messages']
    const uidValidity = positive(data['uid_validity'])
    // Rows of another UIDVALIDITY (imap-backup moved the folder away) name other messages.
    if (uidValidity !== undefined && into.uidValidity !== undefined && uidValidity !== into.uidValidity) return into
    if (uidValidity !== undefined) into.uidValidity ??= uidValidity
  } catch {
    for (const match of text.matchAll(/\[\s*\d+\s*,\s*\d+\s*,\s*\d+\s*,\s*\d+\s*,\s*(?:null|-?\d+)\s*,\s*[012]\s*,\s*(?:[01]|\[[\d\s,]*\])\s*,\s*[01]\s*\]/g)) {
      try {
        rows.push(JSON.parse(match[0]))
      } catch {
        // skip
      }
    }
  }
  for (const row of rows) {
    if (!isExactRow(row)) continue
    const [uid, offset, length, size, internalDate, appended, eol, q] = row
    if (!into.entries.has(offset)) addEntry(into, {uid, offset, length}) // no flags: unknown
    addTuple(into, [uid, size, internalDate, appended, eol], quotingOf(q))
    into.writtenByMailkeep = true
  }
  return into
}

function positive(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined
}

/**
 * Salvage hints for a folder: its `.imap` (if any, however damaged), else the newest
 * `.imap.damaged-*` a previous repair set aside, plus a journal left next to it and its
 * exactness file.
 */
export async function salvageFolder(paths: FolderPaths): Promise<Salvage> {
  const salvage = emptySalvage()
  const imap = (await readIfFile(paths.imap)) ?? (await newestSetAside(paths.imap))
  if (imap !== undefined) salvageMetadata(imap, salvage)
  const journal = await readIfFile(paths.journal)
  if (journal !== undefined) salvageJournal(journal, paths.journal, salvage)
  const exact = await readIfFile(paths.exact)
  if (exact !== undefined) salvageExactFile(exact, salvage)
  return salvage
}

/** The newest `<P>.imap.damaged-*` (timestamps sort as text), e.g. from a repair that crashed. */
async function newestSetAside(imapPath: string): Promise<string | undefined> {
  const prefix = `${basename(imapPath)}.damaged-`
  let names: string[]
  try {
    names = (await readdir(dirname(imapPath))).filter((n) => n.startsWith(prefix)).sort()
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined
    throw localIoError(error, 'list', dirname(imapPath))
  }
  const newest = names[names.length - 1]
  return newest === undefined ? undefined : readIfFile(join(dirname(imapPath), newest))
}

/** The text of a regular file, or undefined when there is none (or it is not a regular file). */
export async function readIfFile(path: string): Promise<string | undefined> {
  try {
    return await readRegularFile(path)
  } catch (error) {
    // Not a regular file (a symlink, a FIFO, a directory): nothing to salvage from it.
    if (errnoCode(error) === 'ENOENT' || error instanceof DamagedError || error instanceof UnusablePathError) return undefined
    throw error
  }
}
