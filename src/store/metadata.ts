/**
 * The `.imap` metadata file: parsing, validation and serialisation (docs/design.md, "The .imap
 * file"). Pure: no I/O here. The file is imap-backup's version 3 plus top-level extension keys
 * that imap-backup ignores.
 *
 * imap-backup builds each `messages` entry with a keyword constructor, so an entry carrying any
 * key besides uid/offset/length/flags would make it crash: everything of ours is top level.
 * imap-backup drops those keys whenever it rewrites the file, so nothing that cannot be asked
 * again of a server lives only here: the exactness records are in the exactness file
 * (exact-file.ts). Format 1 (mailkeep 0.1.0) still carried them as `mailkeep_messages`; they are
 * read (as entries quoted with the strict rule) and moved at the next write.
 */
import {DamagedError, UnsupportedFormatError} from '../shared/errors.js'
import {isNonNegativeInt, isObject, isPositiveInt, parseJsonObject} from './json-guards.js'
import {MessageTable, type ExactTuple} from './message-table.js'

export type {ExactTuple, MessageEntry, ReadonlyMessageTable} from './message-table.js'

/**
 * The newest `mailkeep.format` this version reads and writes. 2: the exactness records are in the
 * exactness file and entries are quoted with the compat rule (mboxrd/quoting.ts); 1 (mailkeep
 * 0.1.0): records in `mailkeep_messages`, strict quoting.
 */
export const METADATA_FORMAT = 2

export interface FolderServerState {
  /** RFC 3501 §2.3.1.1 UIDNEXT the folder was last complete up to. */
  uidNext?: number
  /** RFC 7162 §3.1.2.1 HIGHESTMODSEQ, a decimal string (63-bit). */
  highestModseq?: string
  /**
   * The HIGHESTMODSEQ up to which the stored flags follow the server's: every flag change with
   * a higher mod-sequence is still to be fetched (RFC 7162 §3.1.4 CHANGEDSINCE). Absent: the
   * flags were never compared (kept as downloaded, `freeze_flags`, or an older mailkeep).
   */
  flagsModseq?: string
  /**
   * The HIGHESTMODSEQ up to which mirror mode removed what the server expunged. Only when it
   * equals `highestModseq` may mirror mode trust QRESYNC's VANISHED since `highestModseq`
   * (RFC 7162 §3.2.5.1), or skip the folder from STATUS alone; otherwise a keep-all run moved the
   * state on after expunges it kept, and mirror mode compares with the server's full UID set.
   */
  mirrorModseq?: string
  /**
   * The hierarchy delimiter the server gave this folder's name in LIST (RFC 3501 §6.3.8), ''
   * for a flat name: what the stored name is split on when it goes to another server, also
   * once the server is gone (docs/delimiters-and-prefixes.md).
   */
  delimiter?: string
  /** The server's personal namespace prefix (RFC 2342) when the folder was backed up, e.g. `INBOX.`. */
  prefix?: string
}

export interface FolderMetadata extends FolderServerState {
  uidValidity: number
  /**
   * The entries in file order, with their exactness records (`mailkeep_messages`, matched by
   * UID); a message without one was written by another tool.
   */
  messages: MessageTable
  /** Id of the last journal folded into this file (docs/design.md I4). */
  journalId?: string
  /**
   * `mailkeep_restored`: `[copy, original]` UID pairs of this folder. The server message `copy`
   * is a copy that mailkeep itself uploaded (restore) of the backed-up message `original`, and a
   * later backup downloaded it: the two entries are one message (docs/upload-maps.md, U7), which
   * every upload from this backup counts once. Absent: no such pairs.
   */
  restoredCopies?: Array<[number, number]>
  /**
   * Read only: `mailkeep.exact`, how many records the exactness file held when this file was
   * written (undefined when the key is absent: an older or foreign writer).
   */
  exactCount?: number
  /** Read only: how many exactness records this file itself carried (`mailkeep_messages`, format 1). */
  recordsInFile?: number
  /** Top-level keys we do not know, kept as they are on rewrite. */
  extraKeys: Record<string, unknown>
}

/**
 * Where the message list of a `.imap` file read in mailkeep's own layout lies in its bytes
 * (imap-scan.ts). While the first `rows` entries of the table read from it are unchanged (no flag
 * replaced: MessageTable.firstChanged), a new file writes those bytes back as they are and
 * formats only the entries after them: a commit that appended one message to a
 * 100,000-message folder does not format 100,000 entries again. The bytes are the same as the
 * formatting would give for a file mailkeep wrote; for one whose strings were escaped otherwise,
 * the same JSON values.
 */
export interface Pristine {
  bytes: Buffer
  /** [start, end) of the message entries, between the brackets of the list. */
  messages: [number, number]
  /** How many entries that span holds. */
  rows: number
}

/** A version 2 file: UIDs only; offsets come from scanning the mbox (compat §4.3). */
export interface LegacyV2Metadata {
  version: 2
  uidValidity: number
  uids: number[]
}

/** The mod-sequences of the `mailkeep` object: file key → field, in the order they are written. */
const MODSEQ_KEYS = [
  ['highestmodseq', 'highestModseq'],
  ['flagsmodseq', 'flagsModseq'],
  ['mirrormodseq', 'mirrorModseq'],
] as const

/** A mod-sequence as stored: a decimal string (RFC 7162 §7, 63-bit, so not a JSON number). */
export function isModseq(value: unknown): value is string {
  return typeof value === 'string' && /^\d{1,20}$/.test(value)
}

const KNOWN_KEYS = new Set(['version', 'uid_validity', 'mailkeep', 'messages', 'mailkeep_messages', 'mailkeep_restored', 'uids'])

/**
 * Parses the text of a `.imap` file. Anything malformed is a DamagedError naming the file and
 * what is wrong; a format from a newer mailkeep is an UnsupportedFormatError. Never "repairs".
 */
export function parseMetadata(text: string, path: string): FolderMetadata | LegacyV2Metadata {
  const data = parseJsonObject(text, (what, cause) => damaged(path, what, cause))
  const version = data['version']
  if (version === 2) return parseV2(data, path)
  if (version !== 3) {
    if (typeof version === 'number' && version > 3) {
      throw new UnsupportedFormatError(`'${path}' has metadata version ${version}, newer than this mailkeep understands; it was left untouched`, {
        hint: 'upgrade mailkeep',
      })
    }
    throw damaged(path, `has unsupported metadata version ${JSON.stringify(version)} (expected 3)`)
  }
  const uidValidity = parseUidValidity(data['uid_validity'], path)
  const rawMessages = data['messages']
  if (!Array.isArray(rawMessages)) throw damaged(path, 'has no "messages" array')
  // Straight into the columns: no object per message is kept (message-table.ts).
  const messages = new MessageTable(rawMessages.length)
  for (let i = 0; i < rawMessages.length; i++) addEntry(messages, rawMessages[i], i, path)

  const result: FolderMetadata = {uidValidity, messages, extraKeys: {}}
  const ext = data['mailkeep']
  if (ext !== undefined) {
    if (!isObject(ext)) throw damaged(path, 'has a "mailkeep" key that is not an object')
    const format = ext['format']
    if (typeof format !== 'number' || !Number.isInteger(format) || format < 1) throw damaged(path, 'has an invalid "mailkeep.format"')
    if (format > METADATA_FORMAT) {
      throw new UnsupportedFormatError(`'${path}' was written by a newer mailkeep (metadata format ${format}); it was left untouched`, {
        hint: 'upgrade mailkeep',
      })
    }
    // Format 1 named its (only) rule; format 2 records it per entry in the exactness file.
    if (ext['quoting'] !== undefined && ext['quoting'] !== 'mboxrd') throw damaged(path, `has unknown quoting rule ${JSON.stringify(ext['quoting'])}`)
    const exact = ext['exact']
    if (exact !== undefined && exact !== null) {
      if (!isNonNegativeInt(exact)) throw damaged(path, 'has an invalid "mailkeep.exact"')
      result.exactCount = exact
    }
    const uidNext = ext['uidnext']
    if (uidNext !== undefined && uidNext !== null) {
      if (!isPositiveInt(uidNext)) throw damaged(path, 'has an invalid "mailkeep.uidnext"')
      result.uidNext = uidNext
    }
    for (const [key, field] of MODSEQ_KEYS) {
      const modseq = ext[key]
      if (modseq === undefined || modseq === null) continue
      if (!isModseq(modseq)) throw damaged(path, `has an invalid "mailkeep.${key}"`)
      result[field] = modseq
    }
    const delimiter = ext['delimiter']
    if (delimiter !== undefined && delimiter !== null) {
      if (!isDelimiter(delimiter)) throw damaged(path, 'has an invalid "mailkeep.delimiter"')
      result.delimiter = delimiter
    }
    const prefix = ext['prefix']
    if (prefix !== undefined && prefix !== null) {
      if (!isPrefix(prefix)) throw damaged(path, 'has an invalid "mailkeep.prefix"')
      result.prefix = prefix
    }
    const journal = ext['journal']
    if (journal !== undefined && journal !== null) {
      if (typeof journal !== 'string') throw damaged(path, 'has an invalid "mailkeep.journal"')
      result.journalId = journal
    }
  }
  const records = data['mailkeep_messages']
  if (records !== undefined) {
    if (!Array.isArray(records)) throw damaged(path, 'has a "mailkeep_messages" key that is not an array')
    addRecords(messages, records, path)
    result.recordsInFile = messages.recordCount
  }
  const restored = data['mailkeep_restored']
  if (restored !== undefined && restored !== null) {
    if (!Array.isArray(restored) || !restored.every(isUidPair)) throw damaged(path, 'has a "mailkeep_restored" key that is not a list of [copy, original] UID pairs')
    if (restored.length > 0) result.restoredCopies = restored.map(([copy, original]) => [copy, original])
  }
  for (const [key, value] of Object.entries(data)) {
    if (!KNOWN_KEYS.has(key)) result.extraKeys[key] = value
  }
  return result
}

/**
 * Serialises metadata in the fixed key order of docs/design.md: the small header first, so that
 * a reader can get at uid_validity and the server state without parsing the message list.
 * The exactness records go to the exactness file (exact-file.ts); `mailkeep.exact` says how many.
 * Produced in pieces of a few thousand entries, so that writing a large folder never holds the
 * whole text (atomicWriteChunks).
 */
export function* serializeMetadataChunks(meta: FolderMetadata, pristine?: Pristine): Generator<string | Buffer> {
  const {messages} = meta
  const count = messages.length
  // The entries read from the file and unchanged are its bytes (Pristine).
  const kept = pristine !== undefined && messages.firstChanged >= pristine.rows && count >= pristine.rows ? pristine : undefined
  const from = kept?.rows ?? 0
  const ext: Record<string, unknown> = {format: METADATA_FORMAT, exact: meta.messages.recordCount}
  if (meta.uidNext !== undefined) ext['uidnext'] = meta.uidNext
  for (const [key, field] of MODSEQ_KEYS) if (meta[field] !== undefined) ext[key] = meta[field]
  if (meta.delimiter !== undefined) ext['delimiter'] = meta.delimiter
  if (meta.prefix !== undefined) ext['prefix'] = meta.prefix
  if (meta.journalId !== undefined) ext['journal'] = meta.journalId
  yield `{"version":3,"uid_validity":${JSON.stringify(meta.uidValidity)},"mailkeep":${JSON.stringify(ext)},"messages":[`
  if (kept !== undefined && kept.rows > 0) yield kept.bytes.subarray(kept.messages[0], kept.messages[1])
  for (let start = from; start < count; start += CHUNK_ENTRIES) {
    const end = Math.min(count, start + CHUNK_ENTRIES)
    const part = new Array<string>(end - start)
    for (let i = start; i < end; i++) {
      part[i - start] = `{"uid":${messages.uidAt(i)},"offset":${messages.offsetAt(i)},"length":${messages.lengthAt(i)},"flags":${messages.flagsJsonAt(i)}}`
    }
    yield (start === 0 ? '' : ',') + part.join(',')
  }
  yield ']'
  if (meta.restoredCopies !== undefined && meta.restoredCopies.length > 0) yield `,"mailkeep_restored":${JSON.stringify(meta.restoredCopies)}`
  for (const [key, value] of Object.entries(meta.extraKeys)) yield `,${JSON.stringify(key)}:${JSON.stringify(value)}`
  yield '}'
}

/**
 * Entries per piece of a serialized file: about 70 KiB of text, under V8's large-object size
 * (128 KiB), so that each piece dies young instead of waiting for a full collection.
 */
export const CHUNK_ENTRIES = 1024

export function serializeMetadata(meta: FolderMetadata): string {
  return [...serializeMetadataChunks(meta)].map((chunk) => chunk.toString()).join('')
}

export function emptyMetadata(uidValidity: number): FolderMetadata {
  return {uidValidity, messages: new MessageTable(), extraKeys: {}}
}

/** A LIST delimiter is one character (RFC 3501 §9 `QUOTED-CHAR`), or '' for NIL (a flat name). */
export function isDelimiter(value: unknown): value is string {
  return typeof value === 'string' && [...value].length <= 1 && value !== '\r' && value !== '\n'
}

/** A namespace prefix: any mailbox-name text (RFC 2342), within reason. */
export function isPrefix(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 1000
}

function parseV2(data: Record<string, unknown>, path: string): LegacyV2Metadata {
  const uidValidity = parseUidValidity(data['uid_validity'], path)
  const uids = data['uids']
  if (!Array.isArray(uids) || !uids.every(isPositiveInt)) throw damaged(path, 'is a version 2 file without a valid "uids" array')
  return {version: 2, uidValidity, uids: uids as number[]}
}

function parseUidValidity(value: unknown, path: string): number {
  // imap-backup's test helpers write the string "42"; accept numeric strings (compat §4.3).
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value
  if (!isPositiveInt(n)) throw damaged(path, `has an invalid uid_validity ${JSON.stringify(value)}`)
  return n
}

function addEntry(into: MessageTable, value: unknown, index: number, path: string): void {
  if (!isObject(value)) throw damaged(path, `has a messages[${index}] that is not an object`)
  const {uid, offset, length, flags} = value
  if (!isPositiveInt(uid)) throw damaged(path, `has an invalid uid in messages[${index}]`)
  if (!isNonNegativeInt(offset)) throw damaged(path, `has an invalid offset in messages[${index}] (UID ${uid})`)
  if (!isPositiveInt(length)) throw damaged(path, `has an invalid length in messages[${index}] (UID ${uid})`)
  if (flags !== undefined && !isStringArray(flags)) throw damaged(path, `has invalid flags in messages[${index}] (UID ${uid})`)
  into.pushRow(uid, offset, length, flags ?? [])
}

/**
 * `mailkeep_messages` (format 1, mailkeep 0.1.0, whose entries are quoted with the strict rule):
 * each record goes to the entry with its UID (normally the entry at the same position), the last
 * record of a UID wins, a record without an entry is dropped (it is not written back), and with
 * a UID listed twice both entries get its record.
 */
function addRecords(messages: MessageTable, records: unknown[], path: string): void {
  if (messages.duplicateUids().length > 0) {
    const byUid = new Map<number, ExactTuple>()
    for (let i = 0; i < records.length; i++) {
      const record = records[i]
      if (!isExactTuple(record)) throw damaged(path, `has an invalid mailkeep_messages[${i}]`)
      byUid.set(record[0], record)
    }
    for (let row = 0; row < messages.length; row++) {
      const record = byUid.get(messages.uidAt(row))
      if (record !== undefined) messages.setRecordAt(row, record[1], record[2], record[3], record[4], 'strict')
    }
    return
  }
  for (let i = 0; i < records.length; i++) {
    const record = records[i]
    if (!isExactTuple(record)) throw damaged(path, `has an invalid mailkeep_messages[${i}]`)
    const uid = record[0]
    const row = i < messages.length && messages.uidAt(i) === uid ? i : messages.indexOf(uid)
    if (row >= 0) messages.setRecordAt(row, record[1], record[2], record[3], record[4], 'strict')
  }
}

/** A well-formed `[uid, size, internaldate, appended, eol]` (eol is checked by the codec). */
export function isExactTuple(value: unknown): value is ExactTuple {
  if (!Array.isArray(value) || value.length !== 5) return false
  const [uid, size, internalDate, appended] = value as unknown[]
  return isPositiveInt(uid) && isNonNegativeInt(size) && (internalDate === null || Number.isInteger(internalDate)) && (appended === 0 || appended === 1 || appended === 2)
}

/** A `[copy, original]` pair of `mailkeep_restored`: two different UIDs. */
export function isUidPair(value: unknown): value is [number, number] {
  return Array.isArray(value) && value.length === 2 && isPositiveInt(value[0]) && isPositiveInt(value[1]) && value[0] !== value[1]
}

/**
 * Adds `[copy, original]` pairs to the metadata's `mailkeep_restored`, each once; malformed
 * pairs (a journal is read back after a crash) are ignored.
 */
export function addRestoredCopies(meta: FolderMetadata, pairs: readonly unknown[]): void {
  const list = meta.restoredCopies ?? []
  const known = new Set(list.map(([c, o]) => `${c}:${o}`))
  for (const pair of pairs) {
    if (!isUidPair(pair) || known.has(`${pair[0]}:${pair[1]}`)) continue
    known.add(`${pair[0]}:${pair[1]}`)
    list.push([pair[0], pair[1]])
  }
  if (list.length > 0) meta.restoredCopies = list
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((f) => typeof f === 'string')
}

function damaged(path: string, what: string, cause?: unknown): DamagedError {
  return new DamagedError(`metadata file '${path}' ${what}`, {cause, hint: 'run `mailkeep local check` to see what is damaged, and `mailkeep local repair` to rebuild it from the mbox'})
}

