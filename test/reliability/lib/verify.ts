/**
 * The checks every scenario ends with, written as counters rather than assertions so that a soak
 * run can go on after a failure and total what was lost:
 *
 *  - `compareBackup`: the backup of a folder equals the server: the same UID set, each message
 *    byte for byte what BODY.PEEK[] returns, the same flags; no UID twice. `lost` counts server
 *    messages missing locally.
 *  - `checkAtSavepoint`: the files as a run left them, before anything recovers them: no journal
 *    (after a full disk: at most one that only needs folding), entries back to back from 0, the
 *    mbox ends where the last committed entry ends (design.md I3).
 *  - `CommittedTracker`: what a crash may never take away: after each kill, every UID that was
 *    committed before is still there (I1, I6).
 *  - `localCheck`: `mailkeep local check`'s engine (read-only) finds nothing.
 *  - `compareDestination`: after restore/copy, every backed-up message is on the destination
 *    exactly once (by content), with its flags and INTERNALDATE.
 */
import {createHash} from 'node:crypto'
import {existsSync} from 'node:fs'
import {readdir, readFile, stat} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'
import {loadConfig} from '../../../src/config/index.js'
import {checkAccounts} from '../../../src/engine/inspect/local-check.js'
import {parseDateHeader, readUploadHeaders} from '../../../src/engine/upload/date.js'
import {silentContext} from '../../../src/shared/context.js'
import {silentLogger} from '../../../src/shared/logger.js'
import {AccountStore} from '../../../src/store/account-store.js'
import {toImapFlags, toStoredFlags} from '../../../src/store/flags.js'
import {encodeFolderPath} from '../../../src/store/folder-path.js'
import {parseJournal} from '../../../src/store/journal.js'
import {legacyToUpload} from '../../../src/store/mboxrd/index.js'
import type {TestUser} from '../../support/dovecot.js'
import {fetchMessages, type ImapServer} from '../../support/mail-seed.js'
import type {RunCheck} from './ledger.js'

export interface LocalEntry {
  uid: number
  offset: number
  length: number
  flags: string[]
}

export interface LocalView {
  exists: boolean
  entries: LocalEntry[]
}

/**
 * The folders as a reader sees them (shared lock; a pending journal is applied in memory, nothing
 * is written). A folder that cannot be opened is a problem.
 */
export async function readLocal(check: RunCheck, root: string, folders: readonly string[]): Promise<Map<string, LocalView>> {
  const out = new Map<string, LocalView>()
  if (!existsSync(root)) {
    for (const f of folders) out.set(f, {exists: false, entries: []})
    return out
  }
  const store = await AccountStore.open(root, {mode: 'read', logger: silentLogger})
  try {
    for (const name of folders) {
      try {
        const folder = await store.folder(name)
        try {
          out.set(name, {exists: folder.exists, entries: [...folder.messages].map((m) => ({uid: m.uid, offset: m.offset, length: m.length, flags: [...m.flags]}))})
        } finally {
          await folder.close()
        }
      } catch (error) {
        check.problem(`cannot read local folder '${name}': ${String(error)}`)
        out.set(name, {exists: false, entries: []})
      }
    }
  } finally {
    await store.close()
  }
  return out
}

function duplicates(uids: readonly number[]): number {
  return uids.length - new Set(uids).size
}

const sorted = (flags: readonly string[]): string[] => [...flags].sort()

/**
 * The backup of each folder equals the server (see the file comment); with `partial`, only what
 * is stored is checked (an incomplete run). Returns the number of messages compared.
 */
export async function compareBackup(
  check: RunCheck,
  server: ImapServer,
  user: TestUser,
  root: string,
  folders: readonly string[],
  options: {flags?: boolean; partial?: boolean} = {},
): Promise<number> {
  let compared = 0
  if (!existsSync(root)) {
    if (options.partial !== true) check.problem(`the backup directory ${root} does not exist`)
    return 0
  }
  const store = await AccountStore.open(root, {mode: 'read', logger: silentLogger})
  try {
    for (const name of folders) {
      const remote = await fetchMessages(server, user, name)
      const folder = await store.folder(name)
      try {
        if (!folder.exists) {
          if (options.partial !== true) check.addLost(remote.length, `folder '${name}' is not in the backup`)
          continue
        }
        const uids = [...folder.messages].map((m) => m.uid)
        check.addDuplicated(duplicates(uids), `UIDs stored twice in '${name}'`)
        const local = new Set(uids)
        // partial: an incomplete run; what it stored must be right, what is missing is not lost.
        const missing = remote.filter((r) => !local.has(r.uid))
        if (options.partial !== true) check.addLost(missing.length, `'${name}' lacks UIDs ${missing.slice(0, 10).map((m) => m.uid).join(',')}`)
        const remoteUids = new Set(remote.map((r) => r.uid))
        const extra = uids.filter((u) => !remoteUids.has(u))
        check.expect(extra.length === 0, `'${name}' holds UIDs the server does not have: ${extra.slice(0, 10).join(',')}`)
        for (const r of remote) {
          if (!local.has(r.uid)) continue
          const stored = await folder.readMessage(r.uid)
          if (!stored.bytes.equals(r.raw)) check.problem(`'${name}' UID ${r.uid} differs from the server (${stored.bytes.length} vs ${r.raw.length} bytes)`)
          if (!stored.exact) check.problem(`'${name}' UID ${r.uid} has no exactness record`)
          const entry = folder.entry(r.uid)!
          if (options.flags !== false && sorted(entry.flags).join(' ') !== sorted(toStoredFlags(r.flags)).join(' ')) {
            check.problem(`'${name}' UID ${r.uid} flags ${JSON.stringify(entry.flags)} vs server ${JSON.stringify(r.flags)}`)
          }
          compared++
        }
      } finally {
        await folder.close()
      }
    }
  } finally {
    await store.close()
  }
  return compared
}

interface RawMetadata {
  version: number
  uid_validity: number
  mailkeep?: {journal?: string; exact?: number}
  messages: Array<{uid: number; offset: number; length: number}>
}

interface RawExactness {
  uid_validity: number
  journal?: string
  messages: Array<[number, number, number, ...unknown[]]>
}

export function folderBase(root: string, folder: string): string {
  return join(root, encodeFolderPath(folder))
}

/**
 * The folder's files are at a savepoint as the last run left them (no recovery has run): no
 * journal, `.imap` parses, entries back to back, the mbox ends at the last entry. A folder the
 * run never created is fine. Returns the stored UIDs.
 *
 * With `journal: 'committed'` (a full disk) a journal may remain: the rollback truncated the mbox
 * but had no room to rewrite `.imap`, which the next open does (docs/design.md, "Recovery on
 * open"; `Transaction.rollback`). It must then extend this `.imap` (I4) and the mbox must end
 * exactly at its last savepoint. `onJournal` hears of each such journal.
 */
export async function checkAtSavepoint(
  check: RunCheck,
  root: string,
  folder: string,
  options: {journal?: 'forbidden' | 'committed'; onJournal?: () => void} = {},
): Promise<number[]> {
  const base = folderBase(root, folder)
  const journalPath = `${base}.imap.journal`
  if (!existsSync(`${base}.imap`)) {
    check.expect(!existsSync(journalPath), `'${folder}': a journal without .imap`)
    return []
  }
  const journalText = await readFile(journalPath, 'utf8').catch(() => undefined)
  const allowJournal = options.journal === 'committed'
  check.expect(journalText === undefined || allowJournal, `'${folder}': journal left behind (${journalPath})`)
  let meta: RawMetadata
  try {
    meta = JSON.parse(await readFile(`${base}.imap`, 'utf8')) as RawMetadata
  } catch (error) {
    check.problem(`'${folder}': .imap does not parse: ${String(error)}`)
    return []
  }
  let end = 0
  for (const m of meta.messages) {
    if (m.offset !== end) {
      check.problem(`'${folder}': UID ${m.uid} at offset ${m.offset}, expected ${end}`)
      break
    }
    end += m.length
  }
  const uids = [...meta.messages].map((m) => m.uid)
  let committedEnd = end
  if (journalText !== undefined && allowJournal) {
    options.onJournal?.()
    const journal = parseJournal(journalText, journalPath)
    if (journal !== undefined && journal.header.id !== meta.mailkeep?.journal) {
      const h = journal.header
      check.expect(
        h.uid_validity === meta.uid_validity && h.base_count === meta.messages.length && h.base_end === end,
        `'${folder}': the journal left behind does not extend .imap (it starts at ${h.base_count} messages / ${h.base_end} bytes, .imap has ${meta.messages.length} / ${end})`,
      )
      for (const r of journal.committed) {
        if (r.t === 'a') uids.push(r.m.uid)
        if (r.t === 'c') committedEnd = r.end
      }
    }
  }
  const size = existsSync(`${base}.mbox`) ? (await stat(`${base}.mbox`)).size : 0
  check.expect(size === committedEnd, `'${folder}': mbox is ${size} bytes, committed entries end at ${committedEnd}`)
  check.addDuplicated(duplicates(uids), `UIDs twice in '${folder}'.imap`)
  if (journalText === undefined) await checkExactness(check, base, folder, meta)
  return uids
}

/**
 * The exactness file is the one `.imap` was written with (docs/design.md, "The exactness file"):
 * as many rows as `.imap` says, the same UIDVALIDITY and journal, every row bound to an entry
 * (UID, offset, length); and no copy of it was ever kept aside (only another tool's rewrite
 * makes rows stale, never a crash of ours).
 */
async function checkExactness(check: RunCheck, base: string, folder: string, meta: RawMetadata): Promise<void> {
  const aside = (await readdir(dirname(base))).filter((n) => n.startsWith(`${basename(base)}.mailkeep.`))
  check.expect(aside.length === 0, `'${folder}': exactness file kept aside after a crash: ${aside.join(', ')}`)
  const expected = meta.mailkeep?.exact
  if (!check.expect(expected !== undefined, `'${folder}': .imap has no mailkeep.exact`) || expected === 0) return
  let file: RawExactness
  try {
    file = JSON.parse(await readFile(`${base}.mailkeep`, 'utf8')) as RawExactness
  } catch (error) {
    check.problem(`'${folder}': exactness file unreadable: ${String(error)}`)
    return
  }
  check.expect(file.uid_validity === meta.uid_validity && file.journal === meta.mailkeep?.journal, `'${folder}': exactness file of another UIDVALIDITY or journal`)
  check.expect(file.messages.length === expected, `'${folder}': exactness file has ${file.messages.length} rows, .imap says ${expected}`)
  const entries = new Map(meta.messages.map((m) => [m.uid, m]))
  const unbound = file.messages.filter(([uid, offset, length]) => entries.get(uid)?.offset !== offset || entries.get(uid)?.length !== length)
  check.expect(unbound.length === 0, `'${folder}': exactness rows not bound to their entries: UIDs ${unbound.slice(0, 10).map((r) => r[0]).join(',')}`)
}

/**
 * What has been committed may never disappear: call `observe` after every crash with the
 * folders as a reader sees them (`readLocal`).
 */
export class CommittedTracker {
  private readonly committed = new Map<string, Set<number>>()

  observe(check: RunCheck, view: Map<string, LocalView>, when: string): void {
    for (const [folder, local] of view) {
      const uids = local.entries.map((e) => e.uid)
      check.addDuplicated(duplicates(uids), `UIDs twice in '${folder}' ${when}`)
      const now = new Set(uids)
      const before = this.committed.get(folder) ?? new Set<number>()
      const gone = [...before].filter((u) => !now.has(u))
      check.addLost(gone.length, `committed UIDs of '${folder}' gone ${when}: ${gone.slice(0, 10).join(',')}`)
      this.committed.set(folder, new Set([...before, ...now]))
    }
  }

  count(): number {
    return [...this.committed.values()].reduce((n, s) => n + s.size, 0)
  }
}

/** `mailkeep local check`'s engine over every account of the config: no finding at all. */
export async function localCheck(check: RunCheck, configPath: string, accounts?: readonly string[]): Promise<void> {
  const config = await loadConfig(configPath)
  const result = await checkAccounts({config, ...(accounts === undefined ? {} : {accounts})}, silentContext())
  for (const account of result) {
    for (const folder of account.folders) {
      for (const f of folder.findings) check.problem(`local check: ${account.account} '${folder.name}': ${f.severity} ${f.code}: ${f.message}`)
    }
  }
}

// --- restore / copy ---------------------------------------------------------------------------

export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex')

export interface MailItem {
  sha: string
  flags: string[]
  /** INTERNALDATE in seconds, or null when unknown. */
  date: number | null
  uid: number
}

const settable = (flags: readonly string[]): string[] => [...new Set(flags.filter((f) => !['\\RECENT', '\\DELETED'].includes(f.toUpperCase())))].sort()

export async function destinationItems(server: ImapServer, user: TestUser, folder: string): Promise<MailItem[]> {
  const messages = await fetchMessages(server, user, folder)
  return messages.map((m) => ({sha: sha256(m.raw), flags: settable(m.flags), date: Math.floor(m.internalDate.getTime() / 1000), uid: m.uid}))
}

/** The backed-up messages of a folder as they should arrive on a destination. */
export async function backupItems(root: string, folder: string): Promise<MailItem[]> {
  const store = await AccountStore.open(root, {mode: 'read', logger: silentLogger})
  try {
    const f = await store.folder(folder)
    try {
      const out: MailItem[] = []
      for (const m of f.messages) {
        const {bytes, exact} = await f.readMessage(m.uid)
        const upload = exact ? bytes : legacyToUpload(bytes)
        const seconds = exact ? f.exactness(m.uid)?.[2] : null
        const date = typeof seconds === 'number' ? seconds : (parseDateHeader(readUploadHeaders(upload).date)?.getTime() ?? NaN) / 1000
        out.push({sha: sha256(upload), flags: settable(toImapFlags(m.flags)), date: Number.isNaN(date) ? null : Math.floor(date), uid: m.uid})
      }
      return out
    } finally {
      await f.close()
    }
  } finally {
    await store.close()
  }
}

/**
 * Every source message is on the destination exactly once; `extra` destination messages that
 * are not from the source are allowed (mail that was there before). Flags and dates must match.
 */
export function compareDestination(check: RunCheck, label: string, destination: readonly MailItem[], source: readonly MailItem[], options: {extra?: number} = {}): void {
  const bySha = new Map<string, MailItem[]>()
  for (const d of destination) bySha.set(d.sha, [...(bySha.get(d.sha) ?? []), d])
  const wanted = new Map<string, number>()
  for (const s of source) wanted.set(s.sha, (wanted.get(s.sha) ?? 0) + 1)
  let lost = 0
  let dup = 0
  for (const [sha, count] of wanted) {
    const got = bySha.get(sha)?.length ?? 0
    if (got < count) lost += count - got
    if (got > count) dup += got - count
  }
  check.addLost(lost, `${label}: backed-up messages missing on the destination`)
  check.addDuplicated(dup, `${label}: messages on the destination more than once`)
  const extra = destination.filter((d) => !wanted.has(d.sha)).length
  check.expect(extra === (options.extra ?? 0), `${label}: ${extra} destination messages that are not from the backup (expected ${options.extra ?? 0})`)
  for (const s of source) {
    const d = bySha.get(s.sha)?.[0]
    if (d === undefined) continue
    if (d.flags.join(' ') !== s.flags.join(' ')) check.problem(`${label}: flags of source UID ${s.uid}: ${JSON.stringify(d.flags)} vs ${JSON.stringify(s.flags)}`)
    if (s.date !== null && d.date !== s.date) check.problem(`${label}: INTERNALDATE of source UID ${s.uid}: ${d.date} vs ${s.date}`)
  }
}
