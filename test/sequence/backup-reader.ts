/**
 * The sequence test's own reading of a backup, written from the format description alone
 * (docs/design.md: "Folder names", "The .imap file"; docs/mbox-format.md: entries, reading rules,
 * the exactness record) and from nothing in src/store: the invariants compare what the backup
 * files say with what the servers say, so the reader must not share a bug with the writer.
 *
 * It reads a backup *at rest* (no transaction open, no journal pending: the runner lets the
 * store's recovery run after an interrupted command, as the next command would) and returns,
 * per local folder, its UIDVALIDITY and entries with their flags and message bytes. Anything the
 * format forbids (an entry that does not start with `From `, entries that overlap, a record that
 * does not decode its entry) is returned as a problem, never thrown, so the caller can report
 * every finding of a step.
 *
 * Two layouts of the exactness data are read, so the reader keeps working while the format
 * moves (docs/mbox-format.md):
 *  - records in the `.imap` file's `mailkeep_messages` (`[uid, size, internaldate, appended,
 *    eol]`), entries quoted with the strict rule (a reader removes one `>` from `^>+From `);
 *  - records in a sidecar `<P>.mailkeep` (`[uid, offset, length, size, internaldate, appended,
 *    eol, q]`, bound to an entry by UID, offset and length), `q` naming the quoting rule: 0 the
 *    strict one, 1 the rule whose reader removes one `>` from `^>+From` (space or not).
 * An entry without a record is read with imap-backup's rule (`^>+From`, then the legacy
 * normalisation): such an entry cannot be compared byte for byte, only modulo line endings and
 * trailing newlines (`normalised`).
 *
 * Keep it small and swappable: the rest of the sequence test sees only `readBackup` and the
 * `LocalFolder` shape.
 */
import {createHash} from 'node:crypto'
import {lstat, readdir, readFile} from 'node:fs/promises'
import {join, relative, sep} from 'node:path'

export interface LocalEntry {
  uid: number
  /** Flags as stored (imap-backup's form: `Seen`, `$Label1`). */
  flags: string[]
  /** The message as the server sent it, when an exactness record vouches for it. */
  exact: Buffer | undefined
  /** The message modulo line endings and trailing newlines (see `normalise`). */
  normalised: Buffer
  offset: number
  length: number
}

export interface LocalFolder {
  /** The server name the files stand for (the relative path, decoded). */
  name: string
  relativePath: string
  uidValidity: number
  entries: LocalEntry[]
  /** Side files present besides `.imap`/`.mbox` (journal, rename intent, compact files). */
  pending: string[]
}

export interface BackupReading {
  folders: Map<string, LocalFolder>
  /** Files that the format says never stay behind at rest (temporary files of atomic writes). */
  leftovers: string[]
  problems: string[]
}

// ---------------------------------------------------------------------------------------------
// Folder names (docs/design.md, "Folder names"): `/` separates components; `%<hex>;` is one code
// point. Only decoding is needed: the backup is enumerated, never looked up by name.

export function decodePath(relativePath: string): string {
  return relativePath
    .split('/')
    .map((component) => component.replace(/%([0-9a-f]+);/g, (_, hex: string) => String.fromCodePoint(Number.parseInt(hex, 16))))
    .join('/')
}

// ---------------------------------------------------------------------------------------------
// Flags (docs/design.md: "system flags without `\`, keywords as they are")

const SYSTEM = new Map(['Seen', 'Answered', 'Flagged', 'Deleted', 'Draft'].map((f) => [f.toLowerCase(), f]))

/** A server's flag list in the form a backup stores it (`\Recent` is not a message flag). */
export function storedForm(serverFlags: readonly string[]): string[] {
  const out: string[] = []
  for (const flag of serverFlags) {
    if (!flag.startsWith('\\')) out.push(flag)
    else if (flag.toLowerCase() !== '\\recent') out.push(SYSTEM.get(flag.slice(1).toLowerCase()) ?? flag.slice(1))
  }
  return [...new Set(out)].sort()
}

// ---------------------------------------------------------------------------------------------
// Entries (docs/mbox-format.md)

const LF = 0x0a
const CR = 0x0d
const GT = 0x3e

/** Removes one `>` from each line that starts with one or more `>` then `From` (and a space if `space`). */
export function unquote(body: Buffer, space: boolean): Buffer {
  const out: number[] = []
  let lineStart = true
  for (let i = 0; i < body.length; i++) {
    if (lineStart && body[i] === GT) {
      let j = i
      while (j < body.length && body[j] === GT) j++
      const from = body.toString('latin1', j, j + 5)
      if (from.startsWith('From') && (!space || from === 'From ')) {
        i++ // drop one '>'
      }
    }
    const c = body[i]
    if (c === undefined) break
    out.push(c)
    lineStart = c === LF
  }
  return Buffer.from(out)
}

/** CRLF → LF, then every trailing LF removed: what survives any writer's line-ending handling. */
export function normalise(message: Buffer): Buffer {
  const out: number[] = []
  for (let i = 0; i < message.length; i++) {
    if (message[i] === CR && message[i + 1] === LF) continue
    out.push(message[i]!)
  }
  let end = out.length
  while (end > 0 && out[end - 1] === LF) end--
  return Buffer.from(out.slice(0, end))
}

export const sha = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex').slice(0, 24)

interface Record {
  size: number
  appended: number
  eol: unknown
  /** true: strict quoting (`^>+From `); false: `^>+From`. */
  strict: boolean
}

/**
 * Which LFs (by index, from 0, padding excluded) were CRLF on the server, or an error. `eol`:
 * 0 all CRLF, 1 all bare, `[k, d1, d2, …]` the listed ones (delta-coded from −1) of kind k
 * (0 bare, 1 CRLF) and all others the opposite kind.
 */
function crlfAt(eol: unknown, lfCount: number): ((index: number) => boolean) | string {
  if (eol === 0) return () => true
  if (eol === 1) return () => false
  if (!Array.isArray(eol) || (eol[0] !== 0 && eol[0] !== 1)) return `eol ${JSON.stringify(eol)} is not 0, 1 or [k, …]`
  const listed = new Set<number>()
  let index = -1
  for (const d of eol.slice(1)) {
    if (!Number.isInteger(d) || (d as number) < 1) return `eol delta ${JSON.stringify(d)} is not ≥ 1`
    index += d as number
    if (index >= lfCount) return `eol lists LF #${index} of ${lfCount}`
    listed.add(index)
  }
  const kindIsCrlf = eol[0] === 1
  return (i) => (listed.has(i) ? kindIsCrlf : !kindIsCrlf)
}

/** The message of one entry, by the strict reading rule with its record; a string on a mismatch. */
export function decodeExact(entry: Buffer, record: Record): Buffer | string {
  const lf = entry.indexOf(LF)
  if (lf < 0) return 'no separator line'
  let body = unquote(entry.subarray(lf + 1), record.strict)
  for (let i = 0; i < record.appended; i++) {
    if (body[body.length - 1 - i] !== LF) return `padding of ${record.appended} LF missing`
  }
  body = body.subarray(0, body.length - record.appended)
  let lfCount = 0
  for (const c of body) if (c === LF) lfCount++
  const crlf = crlfAt(record.eol, lfCount)
  if (typeof crlf === 'string') return crlf
  const out: number[] = []
  let n = 0
  for (const c of body) {
    if (c === LF && crlf(n++)) out.push(CR)
    out.push(c)
  }
  const message = Buffer.from(out)
  if (message.length !== record.size) return `decodes to ${message.length} bytes, the record says ${record.size}`
  return message
}

/** imap-backup's rule for an entry without a record (docs/mbox-format.md, "Legacy"). */
export function decodeLegacy(entry: Buffer): Buffer {
  let text = unquote(entry, false)
  if (text.subarray(0, 5).toString('latin1') === 'From ') {
    let i = text.indexOf(LF)
    i = i < 0 ? text.length : i
    while (i < text.length && (text[i] === CR || text[i] === LF)) i++
    text = text.subarray(i)
  }
  return text
}

// ---------------------------------------------------------------------------------------------
// Files

interface ImapFile {
  version?: unknown
  uid_validity?: unknown
  messages?: Array<{uid?: unknown; offset?: unknown; length?: unknown; flags?: unknown}>
  mailkeep_messages?: unknown[]
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0

async function readOptional(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

/** Side files that name a folder's unfinished business (docs/design.md, "Files of one account"). */
const PENDING_SUFFIXES = ['.imap.journal', '.rename', '.mbox.compact', '.imap.compact']

async function readFolder(root: string, relativePath: string, problems: string[]): Promise<LocalFolder | undefined> {
  const base = join(root, ...relativePath.split('/'))
  const name = decodePath(relativePath)
  const where = `local folder '${name}'`
  let meta: ImapFile
  try {
    meta = JSON.parse((await readFile(`${base}.imap`)).toString('utf8')) as ImapFile
  } catch (error) {
    problems.push(`${where}: .imap unreadable: ${String(error)}`)
    return undefined
  }
  if (meta.version !== 3 || !isCount(meta.uid_validity) || !Array.isArray(meta.messages)) {
    problems.push(`${where}: .imap is not a version 3 file with uid_validity and messages`)
    return undefined
  }
  const mbox = (await readOptional(`${base}.mbox`)) ?? Buffer.alloc(0)
  const records = new Map<number, Record>()
  for (const r of meta.mailkeep_messages ?? []) {
    if (Array.isArray(r) && isCount(r[0]) && isCount(r[1]) && isCount(r[3])) records.set(r[0], {size: r[1], appended: r[3], eol: r[4], strict: true})
  }
  // The sidecar: a row counts only for the entry with its UID, offset and length, under the
  // folder's UIDVALIDITY.
  const bound = new Map<string, Record>()
  const sidecar = await readOptional(`${base}.mailkeep`)
  if (sidecar !== undefined) {
    try {
      const data = JSON.parse(sidecar.toString('utf8')) as {uid_validity?: unknown; messages?: unknown[]}
      if (data.uid_validity === meta.uid_validity) {
        for (const r of data.messages ?? []) {
          if (Array.isArray(r) && isCount(r[0]) && isCount(r[1]) && isCount(r[2]) && isCount(r[3]) && isCount(r[5])) {
            bound.set(`${r[0]}:${r[1]}:${r[2]}`, {size: r[3], appended: r[5], eol: r[6], strict: r[7] === 0})
          }
        }
      }
    } catch (error) {
      problems.push(`${where}: ${relativePath}.mailkeep unreadable: ${String(error)}`)
    }
  }
  const entries: LocalEntry[] = []
  let end = 0
  for (const m of meta.messages) {
    if (!isCount(m.uid) || !isCount(m.offset) || !isCount(m.length) || !Array.isArray(m.flags)) {
      problems.push(`${where}: a messages[] entry with missing or invalid keys: ${JSON.stringify(m).slice(0, 120)}`)
      continue
    }
    if (m.offset < end) problems.push(`${where}: UID ${m.uid} at offset ${m.offset} overlaps the entry before (ends at ${end})`)
    end = Math.max(end, m.offset + m.length)
    const bytes = mbox.subarray(m.offset, m.offset + m.length)
    if (bytes.length !== m.length || bytes.subarray(0, 5).toString('latin1') !== 'From ') {
      problems.push(`${where}: UID ${m.uid} does not point at an entry starting with 'From ' (offset ${m.offset}, length ${m.length}, mbox ${mbox.length} bytes)`)
      continue
    }
    const record = bound.get(`${m.uid}:${m.offset}:${m.length}`) ?? records.get(m.uid)
    let exact: Buffer | undefined
    let normalised: Buffer
    if (record !== undefined) {
      const decoded = decodeExact(bytes, record)
      if (typeof decoded === 'string') {
        problems.push(`${where}: UID ${m.uid}: its exactness record does not decode its entry: ${decoded}`)
        continue
      }
      exact = decoded
      normalised = normalise(decoded)
    } else {
      normalised = normalise(decodeLegacy(bytes))
    }
    entries.push({uid: m.uid, flags: (m.flags as unknown[]).map(String).sort(), exact, normalised, offset: m.offset, length: m.length})
  }
  if (mbox.length !== end) problems.push(`${where}: the mbox is ${mbox.length} bytes, its last entry ends at ${end}`)
  const pending: string[] = []
  for (const suffix of PENDING_SUFFIXES) if ((await readOptional(`${base}${suffix}`)) !== undefined) pending.push(`${relativePath}${suffix}`)
  return {name, relativePath, uidValidity: meta.uid_validity, entries, pending}
}

/** Every local folder of the account root (a recursive walk for `*.imap`, symlinks not followed). */
export async function readBackup(root: string): Promise<BackupReading> {
  const reading: BackupReading = {folders: new Map(), leftovers: [], problems: []}
  const walk = async (dir: string): Promise<void> => {
    let names: string[]
    try {
      names = (await readdir(dir)).sort()
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && dir === root) return
      reading.problems.push(`cannot list ${dir}: ${String(error)}`)
      return
    }
    for (const entry of names) {
      const path = join(dir, entry)
      const info = await lstat(path)
      if (info.isDirectory()) await walk(path)
      else if (!info.isFile()) continue
      else if (/^\..*\.tmp$/.test(entry)) reading.leftovers.push(relative(root, path))
      else if (entry.endsWith('.imap')) {
        const relativePath = relative(root, path).slice(0, -'.imap'.length).split(sep).join('/')
        const folder = await readFolder(root, relativePath, reading.problems)
        if (folder === undefined) continue
        if (reading.folders.has(folder.name)) reading.problems.push(`two local folders decode to the name '${folder.name}'`)
        reading.folders.set(folder.name, folder)
      }
    }
  }
  await walk(root)
  return reading
}
