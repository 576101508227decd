/**
 * Helpers of the restore and copy/mirror/migrate tests (test/restore/, test/transfer/): running
 * the use-cases, comparing a destination folder with a backed-up folder (bytes by SHA-256, flags,
 * INTERNALDATE), counting APPENDs through the proxy, and writing backups in imap-backup's own
 * format (no exactness records) to test what mailkeep does with them.
 */
import {createHash} from 'node:crypto'
import {mkdir, readFile, writeFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import {expect} from 'vitest'
import type {Config} from '../../src/config/index.js'
import {runRestore} from '../../src/engine/upload/restore.js'
import {runTransfer} from '../../src/engine/upload/copy.js'
import type {RestoreOptions, TransferOptions, TransferFolderReport, TransferReport} from '../../src/engine/upload/types.js'
import {toImapFlags} from '../../src/store/flags.js'
import {encodeFolderPath} from '../../src/store/folder-path.js'
import {legacyToUpload} from '../../src/store/mboxrd/index.js'
import {AccountStore} from '../../src/store/account-store.js'
import {parseDateHeader, readUploadHeaders} from '../../src/engine/upload/date.js'
import {silentContext, type RunContext} from '../../src/shared/context.js'
import {silentLogger} from '../../src/shared/logger.js'
import type {TestUser} from '../support/dovecot.js'
import {fetchMessages, type FetchedMessage, type ImapServer} from '../support/mail-seed.js'
import type {TcpProxy} from '../support/tcp-proxy.js'
import {FAST_RETRY} from '../backup/helpers.js'

export {accountFile, backup, makeConfig, FAST_RETRY, readLocalFolder, commandCount, commandSummary} from '../backup/helpers.js'

export async function restore(config: Config, options: Omit<RestoreOptions, 'config'>, ctx: RunContext = silentContext()): Promise<TransferReport> {
  return runRestore({config, retry: FAST_RETRY, ...options}, ctx)
}

export async function transfer(config: Config, options: Omit<TransferOptions, 'config'>, ctx: RunContext = silentContext()): Promise<TransferReport> {
  return runTransfer({config, retry: FAST_RETRY, ...options}, ctx)
}

export function folderOf(report: TransferReport, source: string): TransferFolderReport {
  const found = report.folders.find((f) => f.source === source)
  if (found === undefined) throw new Error(`no report for '${source}': ${JSON.stringify(report.folders.map((f) => f.source))}`)
  return found
}

export function totals(report: TransferReport): {uploaded: number; alreadyPresent: number; adopted: number; skipped: number} {
  return {
    uploaded: report.folders.reduce((n, f) => n + f.uploaded, 0),
    alreadyPresent: report.folders.reduce((n, f) => n + f.alreadyPresent, 0),
    adopted: report.folders.reduce((n, f) => n + f.adopted, 0),
    skipped: report.folders.reduce((n, f) => n + f.skipped.length, 0),
  }
}

/** APPEND commands the proxy saw since its last resetStats(). */
export function appends(proxy: TcpProxy): number {
  return proxy.commands.filter((c) => c.name === 'APPEND').length
}

export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex')

/** What a message is, for comparisons: its bytes, its flags (IMAP form, sorted), its INTERNALDATE in seconds. */
export interface MailItem {
  sha: string
  size: number
  flags: string[]
  date: number | null
  uid: number
}

const settable = (flags: readonly string[]): string[] =>
  [...new Set(flags.filter((f) => !['\\RECENT', '\\DELETED'].includes(f.toUpperCase())))].sort()

/**
 * What a server does to a message it stores (`ServerFacts.stored` of servers.ts): comparisons
 * across servers compare what the destination can hold. A message it refuses stays as it is.
 */
export type StoredBy = {stored(raw: Buffer): Buffer | undefined} | undefined

const as = (storedBy: StoredBy, raw: Buffer): Buffer => storedBy?.stored(raw) ?? raw

/** The folder's messages on a server, by UID; `storedBy`: as another server would store them. */
export async function destinationItems(server: ImapServer, user: TestUser, folder: string, storedBy?: StoredBy): Promise<MailItem[]> {
  const messages: FetchedMessage[] = await fetchMessages(server, user, folder)
  return messages.map((m) => {
    const raw = as(storedBy, m.raw)
    return {sha: sha256(raw), size: raw.length, flags: settable(m.flags), date: Math.floor(m.internalDate.getTime() / 1000), uid: m.uid}
  })
}

/**
 * The backed-up folder's messages as they should arrive: exact entries byte for byte with their
 * INTERNALDATE; imap-backup entries as imap-backup uploads them (CRLF) with the Date header;
 * with `storedBy`, as that destination server stores them.
 */
export async function backupItems(root: string, folder: string, storedBy?: StoredBy): Promise<MailItem[]> {
  const store = await AccountStore.open(root, {mode: 'read', logger: silentLogger})
  try {
    const f = await store.folder(folder)
    const out: MailItem[] = []
    for (const m of f.messages) {
      const {bytes, exact} = await f.readMessage(m.uid)
      const upload = as(storedBy, exact ? bytes : legacyToUpload(bytes))
      const seconds = exact ? f.exactness(m.uid)?.[2] : null
      const date = typeof seconds === 'number' ? seconds : (parseDateHeader(readUploadHeaders(upload).date)?.getTime() ?? NaN) / 1000
      out.push({sha: sha256(upload), size: upload.length, flags: settable(toImapFlags(m.flags)), date: Number.isNaN(date) ? null : Math.floor(date), uid: m.uid})
    }
    return out
  } finally {
    await store.close()
  }
}

/**
 * The destination holds every backed-up message exactly once (no duplicate, nothing missing),
 * byte for byte, with its flags and INTERNALDATE; `extra` destination messages (not from the
 * backup) are allowed only when listed.
 */
export function expectSameMail(destination: readonly MailItem[], source: readonly MailItem[], options: {extra?: number; flags?: boolean; dates?: boolean} = {}): void {
  const bySha = new Map<string, MailItem[]>()
  for (const d of destination) bySha.set(d.sha, [...(bySha.get(d.sha) ?? []), d])
  const wanted = new Map<string, number>()
  for (const s of source) wanted.set(s.sha, (wanted.get(s.sha) ?? 0) + 1)
  for (const [sha, count] of wanted) {
    const got = bySha.get(sha)?.length ?? 0
    expect(got, `copies of a message (sha ${sha.slice(0, 12)}) on the destination`).toBe(count)
  }
  const extra = destination.filter((d) => !wanted.has(d.sha)).length
  expect(extra, 'destination messages that are not from the backup').toBe(options.extra ?? 0)
  for (const s of source) {
    const d = bySha.get(s.sha)![0]!
    if (options.flags !== false) expect(d.flags, `flags of source UID ${s.uid}`).toEqual(s.flags.filter((f) => f !== '$NotAKeyword'))
    if (options.dates !== false && s.date !== null) expect(d.date, `INTERNALDATE of source UID ${s.uid}`).toBe(s.date)
  }
}

/** Reads a folder's files as they are, to prove a command did not change the backup. */
export async function backupFiles(root: string, folder: string): Promise<{mbox: Buffer; imap: Buffer}> {
  const base = join(root, encodeFolderPath(folder))
  return {mbox: await readFile(`${base}.mbox`), imap: await readFile(`${base}.imap`)}
}

export interface LegacyMessage {
  uid: number
  /** The message as imap-backup stored its text (LF line ends). */
  text: string
  flags?: string[]
}

/**
 * Writes a folder the way imap-backup 16 does (compat §4.2, §4.3): `From <sender>` separator,
 * LF line ends, every line matching `>*From` quoted except the first, a newline added, and a
 * version 3 `.imap` without any mailkeep key.
 */
export async function writeImapBackupFolder(root: string, folder: string, uidValidity: number, messages: readonly LegacyMessage[], options: {version?: 2 | 3} = {}): Promise<void> {
  const base = join(root, encodeFolderPath(folder))
  await mkdir(dirname(base), {recursive: true, mode: 0o700})
  const entries: Buffer[] = []
  const meta: Array<{uid: number; offset: number; length: number; flags: string[]}> = []
  let offset = 0
  for (const m of messages) {
    const lines = m.text.split('\n').map((line, i) => (i > 0 && /^>*From/.test(line) ? `>${line}` : line))
    const sender = /^From: (.*)$/m.exec(m.text)?.[1]?.replace(/.*<(.*)>.*/, '$1') ?? ''
    let body = lines.join('\n')
    // Every entry ends with a blank line: one LF if the text does not end with one, then another.
    if (!body.endsWith('\n')) body += '\n'
    if (!body.endsWith('\n\n')) body += '\n'
    const entry = Buffer.from(`From ${sender}\n${body}`, 'latin1')
    entries.push(entry)
    meta.push({uid: m.uid, offset, length: entry.length, flags: m.flags ?? []})
    offset += entry.length
  }
  await writeFile(`${base}.mbox`, Buffer.concat(entries), {mode: 0o600})
  const imap = options.version === 2 ? {version: 2, uid_validity: uidValidity, uids: messages.map((m) => m.uid)} : {version: 3, uid_validity: uidValidity, messages: meta}
  await writeFile(`${base}.imap`, JSON.stringify(imap), {mode: 0o600})
}

/** imap-backup's feature-test message (compat §9.1): `From: <from>\nSubject: <subject>\n\n<body>\n\n`. */
export function featureMessage(subject: string, body: string, from = 'address@example.org'): string {
  return `From: ${from}\nSubject: ${subject}\n\n${body}\n\n`
}

export function crlf(text: string, encoding: BufferEncoding = 'utf8'): Buffer {
  return Buffer.from(text.replace(/\r?\n/g, '\r\n'), encoding)
}
