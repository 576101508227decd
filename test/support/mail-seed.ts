/**
 * Puts mail into a test server (Dovecot, Cyrus or Courier) and reads back what a client sees,
 * independently of the code under test: everything goes through a raw IMAP session
 * (`raw-imap.ts`) as that user, except the UIDVALIDITY change, which only the server's
 * administrator can make (`changeUidValidity` of the server: doveadm, Cyrus's reconstruct, or
 * Courier's UID file; see servers.ts).
 *
 * Folder names are UTF-8 and complete, as the server shows them (`INBOX.Sent` on the '.'
 * flavour); `folderName()` builds one for either flavour. Flags are IMAP flags (`\Seen`,
 * `$Label1`).
 */
import type {TestUser} from './dovecot.js'
import {
  ImapCommandError,
  RawImapClient,
  decodeMailboxName,
  encodeMailboxName,
  expandSequenceSet,
  fetchItems,
  formatInternalDate,
  mailboxArg,
  parseInternalDate,
  sequenceSet,
  valueText,
  type ImapResponse,
} from './raw-imap.js'

export interface SeedMessage {
  raw: Buffer
  flags?: string[]
  internalDate?: Date
}

export interface FolderStatus {
  uidValidity: number
  uidNext: number
  messages: number
  /** Undefined when the server does not report it (no CONDSTORE). */
  highestModseq: bigint | undefined
}

export interface FetchedMessage {
  uid: number
  /** Permanent flags in the server's order; the session flag `\Recent` is left out. */
  flags: string[]
  internalDate: Date
  /** Exactly the bytes of `BODY.PEEK[]`. */
  raw: Buffer
}

export interface FolderInfo {
  /** UTF-8 name (decoded from modified UTF-7). */
  name: string
  /** The name as sent on the wire. */
  rawName: string
  /** Hierarchy delimiter, or null for a flat name. */
  delimiter: string | null
  /** LIST attributes such as `\HasChildren`, `\Noselect`. */
  flags: string[]
}

type UserRef = string | TestUser

/**
 * What the helpers need of a server: any test server (`servers.ts`, or a `DovecotInstance`), or
 * the same seen through a proxy (`serverAt(server, proxy.port)`). Only `forceUidValidityChange`
 * needs `changeUidValidity`.
 */
export interface ImapServer {
  readonly host: string
  readonly port: number
  readonly users: readonly TestUser[]
  readonly prefix: string
  readonly separator: '/' | '.'
  /** Gives `folder` of `user` a new UIDVALIDITY as the server's administrator would. */
  changeUidValidity?(user: string, folder: string, newValue?: number): Promise<void>
}

/** The same server reached on another port of 127.0.0.1 (e.g. a `tcp-proxy.ts` in front of it). */
export function serverAt<T extends ImapServer>(instance: T, port: number, host = instance.host): ImapServer {
  return {
    host,
    port,
    users: instance.users,
    prefix: instance.prefix,
    separator: instance.separator,
    changeUidValidity: (user, folder, newValue) => changeUidValidity(instance, user, folder, newValue),
  }
}

/** Joins path components into a full folder name of this server (prefix and separator). */
export function folderName(instance: ImapServer, ...parts: string[]): string {
  return instance.prefix + parts.join(instance.separator)
}

/** A logged-in raw session; the caller must `logout()` it. */
export async function openSession(instance: ImapServer, user: UserRef): Promise<RawImapClient> {
  const {user: name, password} = credentials(instance, user)
  const client = await RawImapClient.connect({host: instance.host, port: instance.port})
  try {
    await client.login(name, password)
    return client
  } catch (error) {
    client.close()
    throw error
  }
}

export async function withSession<T>(instance: ImapServer, user: UserRef, fn: (client: RawImapClient) => Promise<T>): Promise<T> {
  const client = await openSession(instance, user)
  try {
    return await fn(client)
  } finally {
    await client.logout()
  }
}

export async function createFolder(instance: ImapServer, user: UserRef, folder: string): Promise<void> {
  await withSession(instance, user, (c) => c.command(`CREATE ${mailboxArg(folder)}`))
}

/** Creates the folder unless it exists (INBOX always does). */
export async function ensureFolder(instance: ImapServer, user: UserRef, folder: string): Promise<void> {
  await withSession(instance, user, (c) => ensure(c, folder))
}

export async function deleteFolder(instance: ImapServer, user: UserRef, folder: string): Promise<void> {
  await withSession(instance, user, (c) => c.command(`DELETE ${mailboxArg(folder)}`))
}

export async function renameFolder(instance: ImapServer, user: UserRef, from: string, to: string): Promise<void> {
  await withSession(instance, user, (c) => c.command(`RENAME ${mailboxArg(from)} ${mailboxArg(to)}`))
}

/** `LIST "" "*"`: every folder of the user, in the server's order. */
export async function listFolders(instance: ImapServer, user: UserRef): Promise<FolderInfo[]> {
  return withSession(instance, user, async (c) => {
    const result = await c.command('LIST "" "*"')
    return result.untagged.filter((r) => r.kind === 'LIST').map(listEntry)
  })
}

/**
 * Appends messages with MULTIAPPEND (RFC 3502) and LITERAL+, many per command: one Dovecot
 * transaction per batch is what makes seeding fast. Resolves with the UIDs in message order,
 * from APPENDUID (RFC 4315) or, on a server that hides UIDPLUS, from a UID SEARCH.
 */
export async function appendMessages(
  instance: ImapServer,
  user: UserRef,
  folder: string,
  messages: readonly SeedMessage[],
  options: {maxBatchMessages?: number; maxBatchBytes?: number} = {},
): Promise<number[]> {
  return withSession(instance, user, (c) => appendInSession(c, folder, messages, options))
}

/**
 * Fills `folder` (created when missing) with `count` generated messages, appended in batches of
 * 5,000 (one MULTIAPPEND each). Measured on a 2-core VM with the default mdbox storage: 10,000
 * small messages in 0.7–1 s, 162,755 in 9–10 s; Maildir and sdbox take about 3 s per 10,000
 * (docs/testing.md).
 */
export async function seedFolder(
  instance: ImapServer,
  user: UserRef,
  folder: string,
  count: number,
  makeMessage: (index: number) => Buffer | SeedMessage = seedMessage,
): Promise<number[]> {
  return withSession(instance, user, async (c) => {
    await ensure(c, folder)
    const uids: number[] = []
    const batch = 5000
    for (let start = 0; start < count; start += batch) {
      const messages: SeedMessage[] = []
      for (let i = start; i < Math.min(count, start + batch); i++) {
        const made = makeMessage(i)
        messages.push(Buffer.isBuffer(made) ? {raw: made} : made)
      }
      uids.push(...(await appendInSession(c, folder, messages, {})))
    }
    return uids
  })
}

const SEED_EPOCH = Date.UTC(2024, 0, 1)

/**
 * The default generated message: small, deterministic, CRLF, distinct Message-ID and Subject,
 * one minute apart; three in four are `\Seen`, one in seventeen also `\Flagged`.
 */
export function seedMessage(index: number): SeedMessage {
  const date = new Date(SEED_EPOCH + index * 60_000)
  const raw = [
    `From: Seed Sender ${index % 50} <sender${index % 50}@example.test>`,
    `To: Test User <user@example.test>`,
    `Subject: Seed message ${index}`,
    `Date: ${date.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <seed-${index}@mailkeep.test>`,
    `MIME-Version: 1.0`,
    `Content-Type: text/plain; charset=us-ascii`,
    ``,
    `This is generated message number ${index}.`,
    `It exists to fill a folder quickly.`,
    ``,
  ].join('\r\n')
  const flags = index % 4 === 0 ? [] : ['\\Seen']
  if (index % 17 === 0) flags.push('\\Flagged')
  return {raw: Buffer.from(raw), flags, internalDate: date}
}

/** Replaces the flags of the given messages (`UID STORE FLAGS.SILENT`). */
export async function setFlags(instance: ImapServer, user: UserRef, folder: string, uids: readonly number[], flags: readonly string[]): Promise<void> {
  await store(instance, user, folder, uids, 'FLAGS.SILENT', flags)
}

export async function addFlags(instance: ImapServer, user: UserRef, folder: string, uids: readonly number[], flags: readonly string[]): Promise<void> {
  await store(instance, user, folder, uids, '+FLAGS.SILENT', flags)
}

export async function removeFlags(instance: ImapServer, user: UserRef, folder: string, uids: readonly number[], flags: readonly string[]): Promise<void> {
  await store(instance, user, folder, uids, '-FLAGS.SILENT', flags)
}

/** Removes exactly these messages: `\Deleted`, then `UID EXPUNGE` (RFC 4315) so no others go. */
export async function expunge(instance: ImapServer, user: UserRef, folder: string, uids: readonly number[]): Promise<void> {
  if (uids.length === 0) return
  await withSession(instance, user, async (c) => {
    await c.command(`SELECT ${mailboxArg(folder)}`)
    for (const set of uidSets(uids)) {
      await c.command(`UID STORE ${set} +FLAGS.SILENT (\\Deleted)`)
      await c.command(`UID EXPUNGE ${set}`)
    }
  })
}

/**
 * Gives the folder a new UIDVALIDITY, as if the server had rebuilt it: a client must treat every
 * stored UID as invalid (RFC 3501 §2.3.1.1). The messages, their flags and internal dates stay;
 * whether their UIDs stay depends on the server (Dovecot and Cyrus keep them, Courier numbers
 * them anew; `serverFacts()` in servers.ts). `newValue` (default: the current one + 1) only on
 * Dovecot. Checks with a new IMAP session that a client really sees a new, different value.
 */
export async function forceUidValidityChange(
  instance: ImapServer,
  user: UserRef,
  folder: string,
  newValue?: number,
): Promise<{before: number; after: number}> {
  const before = (await folderStatus(instance, user, folder)).uidValidity
  await changeUidValidity(instance, credentials(instance, user).user, folder, newValue)
  const after = (await folderStatus(instance, user, folder)).uidValidity
  if (after === before || (newValue !== undefined && after !== newValue)) throw new Error(`UIDVALIDITY of '${folder}' is ${after} after the change (before: ${before}, wanted: ${newValue ?? 'a new value'})`)
  return {before, after}
}

function changeUidValidity(instance: ImapServer, user: string, folder: string, newValue: number | undefined): Promise<void> {
  if (!instance.changeUidValidity) throw new Error('forceUidValidityChange needs a server with changeUidValidity (servers.ts)')
  return instance.changeUidValidity(user, folder, newValue)
}

/** STATUS (RFC 3501 §6.3.10) with HIGHESTMODSEQ (RFC 7162 §3.1.2) when the server has it. */
export async function folderStatus(instance: ImapServer, user: UserRef, folder: string): Promise<FolderStatus> {
  return withSession(instance, user, async (c) => {
    const withModseq = c.capabilities.has('CONDSTORE')
    const items = `MESSAGES UIDNEXT UIDVALIDITY${withModseq ? ' HIGHESTMODSEQ' : ''}`
    const result = await c.command(`STATUS ${mailboxArg(folder)} (${items})`)
    const response = result.untagged.find((r) => r.kind === 'STATUS')
    const list = response?.values[1]
    if (!Array.isArray(list)) throw new Error(`no STATUS data for '${folder}'`)
    const map = new Map<string, string>()
    for (let i = 0; i + 1 < list.length; i += 2) map.set(valueText(list[i]).toUpperCase(), valueText(list[i + 1]))
    const modseq = map.get('HIGHESTMODSEQ')
    return {
      uidValidity: Number(map.get('UIDVALIDITY')),
      uidNext: Number(map.get('UIDNEXT')),
      messages: Number(map.get('MESSAGES')),
      highestModseq: modseq === undefined ? undefined : BigInt(modseq),
    }
  })
}

/** The flags of every message (`UID FETCH 1:* (FLAGS)`, read-only), by UID; `\Recent` left out. */
export async function fetchFlags(instance: ImapServer, user: UserRef, folder: string): Promise<Map<number, string[]>> {
  return withSession(instance, user, async (c) => {
    const selected = await c.command(`EXAMINE ${mailboxArg(folder)}`)
    const flags = new Map<number, string[]>()
    if ((selected.untagged.find((r) => r.kind === 'EXISTS')?.number ?? 0) === 0) return flags
    const result = await c.command('UID FETCH 1:* (UID FLAGS)')
    for (const r of result.untagged) {
      if (r.kind !== 'FETCH') continue
      const items = fetchItems(r)
      const list = items.get('FLAGS')
      flags.set(Number(items.get('UID')), Array.isArray(list) ? list.map((f) => valueText(f)).filter((f) => f.toUpperCase() !== '\\RECENT') : [])
    }
    return flags
  })
}

/** Gives each message the flags in `flags` (by UID), one `UID STORE FLAGS.SILENT` per distinct set. */
export async function restoreFlags(instance: ImapServer, user: UserRef, folder: string, flags: ReadonlyMap<number, readonly string[]>): Promise<void> {
  const groups = new Map<string, {flags: readonly string[]; uids: number[]}>()
  for (const [uid, list] of flags) {
    const key = [...list].sort().join(' ')
    const group = groups.get(key) ?? {flags: list, uids: []}
    group.uids.push(uid)
    groups.set(key, group)
  }
  for (const group of groups.values()) await setFlags(instance, user, folder, group.uids, group.flags)
}

/** Every UID of the folder, ascending (`UID SEARCH ALL`). */
export async function listUids(instance: ImapServer, user: UserRef, folder: string): Promise<number[]> {
  return withSession(instance, user, async (c) => {
    await c.command(`EXAMINE ${mailboxArg(folder)}`)
    const result = await c.command('UID SEARCH ALL')
    const uids: number[] = []
    for (const r of result.untagged) if (r.kind === 'SEARCH') for (const v of r.values) uids.push(Number(v))
    return uids.sort((a, b) => a - b)
  })
}

/**
 * The messages as a client sees them (read-only: EXAMINE and BODY.PEEK[], so nothing changes,
 * not even `\Seen`), ascending by UID; all of them or the given UIDs.
 */
export async function fetchMessages(instance: ImapServer, user: UserRef, folder: string, uids?: readonly number[]): Promise<FetchedMessage[]> {
  return withSession(instance, user, async (c) => {
    const selected = await c.command(`EXAMINE ${mailboxArg(folder)}`)
    const exists = selected.untagged.find((r) => r.kind === 'EXISTS')?.number ?? 0
    if (exists === 0 || uids?.length === 0) return []
    const out: FetchedMessage[] = []
    for (const set of uids ? uidSets(uids) : ['1:*']) {
      const result = await c.command(`UID FETCH ${set} (UID FLAGS INTERNALDATE BODY.PEEK[])`)
      for (const r of result.untagged) if (r.kind === 'FETCH') out.push(fetched(r))
    }
    return out.sort((a, b) => a.uid - b.uid)
  })
}

// ---------------------------------------------------------------------------------------------

function credentials(instance: ImapServer, user: UserRef): TestUser {
  if (typeof user !== 'string') return user
  const found = instance.users.find((u) => u.user === user)
  if (!found) throw new Error(`no test user '${user}' on this server (users: ${instance.users.map((u) => u.user).join(', ')})`)
  return found
}

async function ensure(c: RawImapClient, folder: string): Promise<void> {
  if (folder.toUpperCase() === 'INBOX') return
  try {
    await c.command(`CREATE ${mailboxArg(folder)}`)
  } catch (error) {
    // RFC 5530 ALREADYEXISTS: someone (an earlier seed) made it; that is what we want. Cyrus
    // says so without the code ("NO Mailbox already exists"), Courier says neither ("NO Cannot
    // create this folder."): a selectable folder of that name in LIST is the answer then.
    if (!(error instanceof ImapCommandError)) throw error
    if (/^ALREADYEXISTS/i.test(error.response.code ?? '') || /already exists/i.test(error.response.text)) return
    const listed = (await c.command(`LIST "" ${mailboxArg(folder)}`)).untagged.filter((r) => r.kind === 'LIST').map(listEntry)
    if (!listed.some((f) => f.name === folder && !f.flags.some((flag) => /^\\(Noselect|NonExistent)$/i.test(flag)))) throw error
  }
}

async function appendInSession(
  c: RawImapClient,
  folder: string,
  messages: readonly SeedMessage[],
  options: {maxBatchMessages?: number; maxBatchBytes?: number},
): Promise<number[]> {
  // Without MULTIAPPEND (RFC 3502; Courier) every APPEND carries one message.
  const maxMessages = c.capabilities.has('MULTIAPPEND') ? (options.maxBatchMessages ?? 5000) : 1
  const maxBytes = options.maxBatchBytes ?? 32 * 1024 * 1024
  const uids: number[] = []
  for (let start = 0; start < messages.length; ) {
    let end = start
    let bytes = 0
    while (end < messages.length && end - start < maxMessages && (end === start || bytes + messages[end]!.raw.length <= maxBytes)) {
      bytes += messages[end]!.raw.length
      end++
    }
    uids.push(...(await appendBatch(c, folder, messages.slice(start, end))))
    start = end
  }
  return uids
}

async function appendBatch(c: RawImapClient, folder: string, batch: readonly SeedMessage[]): Promise<number[]> {
  const parts: Array<string | Buffer> = [`APPEND ${mailboxArg(folder)}`]
  for (const message of batch) {
    let head = ' '
    if (message.flags !== undefined) head += `(${message.flags.join(' ')}) `
    if (message.internalDate !== undefined) head += `${formatInternalDate(message.internalDate)} `
    parts.push(head, message.raw)
  }
  const uidNextBefore = c.capabilities.has('UIDPLUS') ? 0 : await uidNext(c, folder)
  const result = await c.command(parts)
  const appendUid = /^APPENDUID \d+ (\S+)$/i.exec(result.tagged.code ?? '')
  const uids = appendUid ? expandSequenceSet(appendUid[1]!) : await uidsFrom(c, folder, uidNextBefore)
  if (uids.length !== batch.length) throw new Error(`APPEND of ${batch.length} messages to '${folder}' reported ${uids.length} UIDs`)
  return uids
}

async function uidNext(c: RawImapClient, folder: string): Promise<number> {
  const result = await c.command(`STATUS ${mailboxArg(folder)} (UIDNEXT)`)
  const list = result.untagged.find((r) => r.kind === 'STATUS')?.values[1]
  return Array.isArray(list) ? Number(list[1]) : 1
}

/** Without UIDPLUS: the messages at or above the UIDNEXT seen before the APPEND are ours. */
async function uidsFrom(c: RawImapClient, folder: string, first: number): Promise<number[]> {
  await c.command(`EXAMINE ${mailboxArg(folder)}`)
  const result = await c.command(`UID SEARCH UID ${first}:*`)
  await c.command('CLOSE')
  const uids: number[] = []
  for (const r of result.untagged) if (r.kind === 'SEARCH') for (const v of r.values) uids.push(Number(v))
  // `n:*` always matches the highest UID, even below n (RFC 3501 §6.4.8).
  return uids.filter((uid) => uid >= first).sort((a, b) => a - b)
}

async function store(instance: ImapServer, user: UserRef, folder: string, uids: readonly number[], item: string, flags: readonly string[]): Promise<void> {
  if (uids.length === 0) return
  await withSession(instance, user, async (c) => {
    await c.command(`SELECT ${mailboxArg(folder)}`)
    for (const set of uidSets(uids)) await c.command(`UID STORE ${set} ${item} (${flags.join(' ')})`)
  })
}

/** Sequence sets of at most 1,000 UIDs, so a command line stays far below server limits. */
function uidSets(uids: readonly number[]): string[] {
  const sorted = [...uids].sort((a, b) => a - b)
  const sets: string[] = []
  for (let i = 0; i < sorted.length; i += 1000) sets.push(sequenceSet(sorted.slice(i, i + 1000)))
  return sets
}

function fetched(response: ImapResponse): FetchedMessage {
  const items = fetchItems(response)
  const flags = items.get('FLAGS')
  const raw = items.get('BODY[]')
  return {
    uid: Number(items.get('UID')),
    flags: Array.isArray(flags) ? flags.map((f) => valueText(f)).filter((f) => f.toUpperCase() !== '\\RECENT') : [],
    internalDate: parseInternalDate(valueText(items.get('INTERNALDATE'))),
    // A NIL body (message vanished) would be null: report it instead of guessing.
    raw: Buffer.isBuffer(raw) ? raw : typeof raw === 'string' ? Buffer.from(raw, 'utf8') : missingBody(response),
  }
}

function missingBody(response: ImapResponse): never {
  throw new Error(`FETCH without BODY[]: ${response.raw.subarray(0, 200).toString('utf8')}`)
}

function listEntry(response: ImapResponse): FolderInfo {
  const [flags, delimiter, name] = response.values
  const rawName = Buffer.isBuffer(name) ? name.toString('utf8') : String(name)
  return {
    name: decodeMailboxName(rawName),
    rawName,
    delimiter: typeof delimiter === 'string' ? delimiter : null,
    flags: Array.isArray(flags) ? flags.map((f) => valueText(f)) : [],
  }
}

export {encodeMailboxName, decodeMailboxName}
