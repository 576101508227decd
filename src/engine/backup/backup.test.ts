// runBackup against a small scriptable fake IMAP server, for the faults a real Dovecot will not
// produce on demand: a message the server refuses to send, one it silently leaves out, one
// expunged between SEARCH and FETCH, and a server that marks messages \Seen on BODY.PEEK[]
// (reset_seen_flags_after_fetch). Everything else is tested against Dovecot in test/backup/.
import {chmod, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {loadConfig, type AccountFile} from '../../config/index.js'
import type {Capabilities, Connect, FetchedMessage, FlagChanges, FolderStatus, ImapSession, MessageSink, MessageSummary, Namespaces, OpenedFolder, RemoteFolder} from '../../imap/types.js'
import {OversizedResponseError} from '../../imap/index.js'
import {ConnectionError, InternalError, MissingFolderError, RemoteError} from '../../shared/errors.js'
import {silentContext} from '../../shared/context.js'
import {ExitCode} from '../../shared/exit-codes.js'
import {silentLogger} from '../../shared/logger.js'
import {AccountStore} from '../../store/account-store.js'
import {runBackup} from './backup.js'
import type {BackupReport, FolderReport} from './types.js'
import {accountCredentials} from '../access/credentials.js'

interface FakeMessage {
  raw: Buffer
  flags: string[]
}

interface FakeFolder {
  uidValidity: number
  uidNext: number
  messages: Map<number, FakeMessage>
}

/** A one-user IMAP server in memory, with hooks for misbehaviour. */
class FakeServer {
  readonly folders = new Map<string, FakeFolder>()
  readonly log: string[] = []
  /** A FETCH of a set containing one of these is answered NO. */
  readonly refuse = new Set<number>()
  /** Left out of FETCH answers although they exist. */
  readonly omit = new Set<number>()
  /** Expunged by "another client" the moment a FETCH asks for them. */
  readonly expungeOnFetch = new Set<number>()
  /** iCloud-like: BODY.PEEK[] sets \Seen. */
  setsSeen = false
  /** Their FETCH answer brings a literal over the session's limit (which closes the session). */
  readonly oversized = new Set<number>()
  /** ... and so does every partial FETCH of them (a server that ignores byte ranges). */
  readonly oversizedInChunks = new Set<number>()
  connections = 0

  add(folder: string, ...bodies: string[]): number[] {
    let f = this.folders.get(folder)
    if (f === undefined) {
      f = {uidValidity: 77, uidNext: 1, messages: new Map()}
      this.folders.set(folder, f)
    }
    const uids: number[] = []
    for (const body of bodies) {
      const uid = f.uidNext++
      f.messages.set(uid, {raw: Buffer.from(`From: a@example.org\r\nSubject: ${body}\r\n\r\n${body}\r\n`), flags: []})
      uids.push(uid)
    }
    return uids
  }

  connect: Connect = async (options) => {
    if (options.credentials.kind !== 'password' || options.credentials.password !== 'right') {
      throw Object.assign(new ConnectionError('login refused'), {retryable: false})
    }
    this.connections++
    return new FakeSession(this)
  }
}

function overLimit(): OversizedResponseError {
  return new OversizedResponseError('imap.example.org:993 announced a literal of 943718400 bytes (900.0 MiB), over the limit', 'literal', 943718400, 64 * 1024 * 1024)
}

const CAPS: Capabilities = {
  all: new Set(['IMAP4REV1']),
  condstore: false,
  qresync: false,
  listStatus: false,
  uidplus: true,
  multiappend: false,
  literalPlus: false,
  appendLimit: undefined,
}

function inSet(set: string): (uid: number) => boolean {
  const parts = set.split(',').map((p) => {
    const [a, b] = p.split(':')
    const lo = Number(a)
    const hi = b === undefined ? lo : b === '*' ? Infinity : Number(b)
    return [Math.min(lo, hi), Math.max(lo, hi)] as const
  })
  return (uid) => parts.some(([lo, hi]) => uid >= lo && uid <= hi)
}

class FakeSession implements ImapSession {
  readonly capabilities = CAPS
  readonly user = 'me@example.org'
  closed = false
  private current: FakeFolder | undefined

  constructor(private readonly server: FakeServer) {}

  private folder(): FakeFolder {
    if (this.current === undefined) throw new InternalError('no folder selected')
    return this.current
  }

  private open(name: string, command: string): OpenedFolder {
    this.server.log.push(`${command} ${name}`)
    const f = this.server.folders.get(name)
    if (f === undefined) throw new MissingFolderError(name)
    this.current = f
    return {name, readOnly: command === 'EXAMINE', uidValidity: f.uidValidity, uidNext: f.uidNext, exists: f.messages.size}
  }

  async namespaces(): Promise<Namespaces> {
    // Asked once per run, for the naming a new folder records (not logged: no test is about it).
    return {personal: [{prefix: '', delimiter: '/'}], other: [], shared: []}
  }
  async listFolders(): Promise<RemoteFolder[]> {
    return [...this.server.folders.keys()].map((name) => ({name, delimiter: '/', flags: [], noselect: false}))
  }
  async status(name: string): Promise<FolderStatus> {
    const f = this.server.folders.get(name)
    if (f === undefined) throw new MissingFolderError(name)
    return {uidValidity: f.uidValidity, uidNext: f.uidNext, messages: f.messages.size}
  }
  async examine(name: string): Promise<OpenedFolder> {
    return this.open(name, 'EXAMINE')
  }
  async select(name: string): Promise<OpenedFolder> {
    return this.open(name, 'SELECT')
  }
  async searchUids(criteria: {uidRange?: string; larger?: number; unseen?: boolean} = {}): Promise<number[]> {
    const match = criteria.uidRange === undefined ? () => true : inSet(criteria.uidRange)
    return [...this.folder().messages]
      .filter(([uid, m]) => match(uid) && (criteria.larger === undefined || m.raw.length > criteria.larger) && (!criteria.unseen || !m.flags.includes('\\Seen')))
      .map(([uid]) => uid)
  }
  async *fetchSummaries(set: string): AsyncIterable<MessageSummary> {
    const match = inSet(set)
    for (const [uid, m] of this.folder().messages) if (match(uid)) yield {uid, flags: [...m.flags], internalDate: null, size: m.raw.length}
  }
  async *fetchMessages(set: string): AsyncIterable<FetchedMessage> {
    this.server.log.push(`FETCH ${set}`)
    const match = inSet(set)
    const f = this.folder()
    for (const uid of this.server.expungeOnFetch) if (match(uid)) f.messages.delete(uid)
    if ([...this.server.refuse].some((uid) => match(uid) && f.messages.has(uid))) throw new RemoteError(`NO [SERVERBUG] cannot read message`)
    for (const [uid, m] of f.messages) {
      if (!match(uid) || this.server.omit.has(uid)) continue
      if (this.server.oversized.has(uid)) {
        this.closed = true
        throw overLimit()
      }
      if (this.server.setsSeen && !m.flags.includes('\\Seen')) m.flags.push('\\Seen')
      yield {uid, flags: [...m.flags], internalDate: null, size: m.raw.length, source: m.raw}
    }
  }
  async streamMessages(set: string, sink: MessageSink): Promise<void> {
    for await (const m of this.fetchMessages(set)) {
      const writer = sink.open(m.uid, m.source.length)
      if (writer === undefined) continue
      // In two pieces, as a message arriving over several reads.
      await writer.write(m.source.subarray(0, m.source.length >> 1))
      await writer.write(m.source.subarray(m.source.length >> 1))
      await writer.end({uid: m.uid, flags: m.flags, internalDate: m.internalDate, size: m.size})
    }
  }
  async downloadMessage(uid: number): Promise<{summary: MessageSummary; chunks: AsyncIterable<Buffer>} | null> {
    this.server.log.push(`DOWNLOAD ${uid}`)
    if (this.server.oversizedInChunks.has(uid)) {
      this.closed = true
      throw overLimit()
    }
    const m = this.folder().messages.get(uid)
    if (m === undefined) return null
    const raw = m.raw
    return {
      summary: {uid, flags: [...m.flags], internalDate: null, size: raw.length},
      chunks: (async function* () {
        yield raw.subarray(0, 10)
        yield raw.subarray(10)
      })(),
    }
  }
  async fetchFlags(set: string): Promise<FlagChanges> {
    const match = inSet(set)
    return {changed: [...this.folder().messages].filter(([uid]) => match(uid)).map(([uid, m]) => ({uid, flags: [...m.flags]}))}
  }
  async storeFlags(set: string, flags: string[], mode: 'add' | 'remove' | 'set'): Promise<void> {
    this.server.log.push(`STORE ${set} ${mode} ${flags.join(' ')}`)
    const match = inSet(set)
    for (const [uid, m] of this.folder().messages) {
      if (!match(uid)) continue
      if (mode === 'remove') m.flags = m.flags.filter((f) => !flags.includes(f))
      else if (mode === 'add') m.flags = [...new Set([...m.flags, ...flags])]
      else m.flags = [...flags]
    }
  }
  async expunge(): Promise<void> {}
  async createFolder(): Promise<void> {}
  async append(): Promise<never> {
    throw new InternalError('not used')
  }
  async noop(): Promise<void> {}
  async logout(): Promise<void> {
    this.closed = true
  }
  close(): void {
    this.closed = true
  }
}

let dir: string
let server: FakeServer

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mailkeep-engine-'))
  server = new FakeServer()
})
afterEach(async () => {
  await rm(dir, {recursive: true, force: true})
})

async function run(account: Partial<AccountFile> = {}): Promise<BackupReport> {
  const path = join(dir, 'config.json')
  const file = {accounts: [{username: 'me@example.org', password: 'right', local_path: join(dir, 'backup'), server: 'imap.example.org', multi_fetch_size: 10, ...account}]}
  await writeFile(path, JSON.stringify(file), {mode: 0o600})
  await chmod(path, 0o600)
  const config = await loadConfig(path)
  return runBackup({config, refresh: false, connect: server.connect, retry: {attempts: 1, baseDelayMs: 1, maxDelayMs: 1}}, silentContext())
}

function folder(report: BackupReport, name: string): FolderReport {
  return report.accounts[0]!.folders.find((f) => f.folder === name)!
}

async function local(name: string): Promise<{uids: number[]; flags: Record<number, string[]>; uidNext: number | undefined}> {
  const store = await AccountStore.open(join(dir, 'backup'), {mode: 'read', logger: silentLogger})
  try {
    const f = await store.folder(name)
    return {uids: [...f.messages].map((m) => m.uid), flags: Object.fromEntries([...f.messages].map((m) => [m.uid, m.flags])), uidNext: f.serverState.uidNext}
  } finally {
    await store.close()
  }
}

describe('messages that cannot be saved', () => {
  it('a message the server refuses is reported with its UID; the rest of its batch is saved; the next run retries it', async () => {
    const uids = server.add('INBOX', 'one', 'two', 'three', 'four')
    server.refuse.add(uids[2]!)
    const report = await run()
    expect(report.exitCode).toBe(ExitCode.INCOMPLETE)
    expect(report.accounts[0]!.outcome).toBe('incomplete')
    const inbox = folder(report, 'INBOX')
    expect(inbox).toMatchObject({outcome: 'failed', new: 3, error: {exitCode: ExitCode.INCOMPLETE}})
    expect(inbox.failedMessages).toEqual([{uid: uids[2], reason: expect.stringContaining('cannot read message')}])
    expect(await local('INBOX')).toMatchObject({uids: [uids[0], uids[1], uids[3]], uidNext: undefined})

    server.refuse.clear()
    const rerun = await run()
    expect(rerun.exitCode).toBe(0)
    expect(folder(rerun, 'INBOX')).toMatchObject({outcome: 'ok', new: 1, failedMessages: []})
    expect(await local('INBOX')).toMatchObject({uids: [uids[0], uids[1], uids[3], uids[2]], uidNext: 5})
  })

  it('a message left out of the answer although it exists is a failure, never a silent skip', async () => {
    const uids = server.add('INBOX', 'one', 'two')
    server.omit.add(uids[1]!)
    const report = await run()
    expect(report.exitCode).toBe(ExitCode.INCOMPLETE)
    expect(folder(report, 'INBOX').failedMessages).toEqual([{uid: uids[1], reason: expect.stringMatching(/did not return/)}])
    // The single retry was tried before giving up.
    expect(server.log.filter((l) => l.startsWith('FETCH'))).toEqual(['FETCH 1:2', 'FETCH 2'])
  })

  it('a message expunged between SEARCH and FETCH is skipped, and the folder is complete', async () => {
    const uids = server.add('INBOX', 'one', 'two', 'three')
    server.expungeOnFetch.add(uids[1]!)
    const report = await run()
    expect(report.exitCode).toBe(0)
    expect(folder(report, 'INBOX')).toMatchObject({outcome: 'ok', new: 2, failedMessages: []})
    expect(await local('INBOX')).toMatchObject({uids: [uids[0], uids[2]], uidNext: 4})
  })

  it('a folder deleted on the server between LIST and EXAMINE is noted, not failed', async () => {
    server.add('INBOX', 'one')
    server.add('Gone', 'x')
    const realExamine = FakeSession.prototype.examine
    FakeSession.prototype.examine = async function (this: FakeSession, name: string) {
      if (name === 'Gone') server.folders.delete('Gone')
      return realExamine.call(this, name)
    }
    try {
      const report = await run()
      expect(report.exitCode).toBe(0)
      expect(folder(report, 'Gone')).toMatchObject({outcome: 'ok', new: 0, note: expect.stringContaining('does not exist')})
    } finally {
      FakeSession.prototype.examine = realExamine
    }
  })
})

describe('a literal over the session\'s limit (src/imap/limits.ts)', () => {
  it('makes the batch download its messages in chunks on a new connection: the backup is complete', async () => {
    const uids = server.add('INBOX', 'one', 'two', 'three', 'four')
    server.oversized.add(uids[1]!)
    const report = await run()
    expect(report.exitCode).toBe(0)
    expect(folder(report, 'INBOX')).toMatchObject({outcome: 'ok', new: 4, failedMessages: []})
    expect(await local('INBOX')).toMatchObject({uids, uidNext: 5})
    // The one saved before the refused literal is not fetched again; the rest come in chunks.
    expect(server.log.filter((l) => /^(FETCH|DOWNLOAD)/.test(l))).toEqual(['FETCH 1:4', 'DOWNLOAD 2', 'DOWNLOAD 3', 'DOWNLOAD 4'])
    expect(server.connections).toBe(2)
  })

  it('reports a message that is over the limit even in chunks with its UID and reason; the others are saved; the next run gets it', async () => {
    const uids = server.add('INBOX', 'one', 'two', 'three', 'four')
    server.oversized.add(uids[1]!)
    server.oversizedInChunks.add(uids[1]!)
    const report = await run()
    expect(report.exitCode).toBe(ExitCode.INCOMPLETE)
    const inbox = folder(report, 'INBOX')
    expect(inbox).toMatchObject({outcome: 'failed', new: 3})
    expect(inbox.failedMessages).toEqual([{uid: uids[1], reason: expect.stringMatching(/over the size limit.*943718400 bytes/)}])
    expect(await local('INBOX')).toMatchObject({uids: [uids[0], uids[2], uids[3]], uidNext: undefined})
    // Given up once: not downloaded again in the same run.
    expect(server.log.filter((l) => l === 'DOWNLOAD 2')).toHaveLength(1)

    server.oversized.clear()
    server.oversizedInChunks.clear()
    const rerun = await run()
    expect(rerun.exitCode).toBe(0)
    expect(await local('INBOX')).toMatchObject({uids: [uids[0], uids[2], uids[3], uids[1]], uidNext: 5})
  })
})

describe('reset_seen_flags_after_fetch (compat §6.4)', () => {
  it('messages the download marked as read are unread again, on the server and in the backup', async () => {
    const uids = server.add('INBOX', 'one', 'two', 'three')
    server.folders.get('INBOX')!.messages.get(uids[0]!)!.flags.push('\\Seen')
    server.setsSeen = true
    const report = await run({reset_seen_flags_after_fetch: true})
    expect(report.exitCode).toBe(0)
    const messages = server.folders.get('INBOX')!.messages
    expect(uids.map((uid) => messages.get(uid)!.flags)).toEqual([['\\Seen'], [], []])
    expect((await local('INBOX')).flags).toEqual({[uids[0]!]: ['Seen'], [uids[1]!]: [], [uids[2]!]: []})
    expect(server.log).toEqual(['EXAMINE INBOX', 'FETCH 1:3', 'SELECT INBOX', 'STORE 2:3 remove \\Seen', 'EXAMINE INBOX'])
  })

  it('is not done without the setting', async () => {
    server.add('INBOX', 'one')
    server.setsSeen = true
    await run()
    expect(server.log.some((l) => l.startsWith('STORE') || l.startsWith('SELECT'))).toBe(false)
  })
})

describe('credentials', () => {
  it('a refused login fails the account with 111 and is not retried', async () => {
    server.add('INBOX', 'one')
    const report = await run({password: 'wrong'})
    expect(report.exitCode).toBe(ExitCode.CONNECTION)
    expect(report.accounts[0]).toMatchObject({outcome: 'failed', error: {name: 'ConnectionError'}})
  })

  it('an OAuth2 token command runs once, and again only when a fresh token is asked for', async () => {
    const counter = join(dir, 'count')
    await writeFile(counter, '')
    const source = {kind: 'oauth2-command', command: `echo x >> '${counter}'; echo "token-$(wc -l < '${counter}' | tr -d ' ')"`} as const
    const account = {username: 'me@gmail.com', passwordSource: source, authMechanism: 'xoauth2'} as unknown as Parameters<typeof accountCredentials>[0]
    const credentials = await accountCredentials(account, new AbortController().signal)
    expect(credentials).toMatchObject({kind: 'oauth2', user: 'me@gmail.com', mechanism: 'XOAUTH2'})
    if (credentials.kind !== 'oauth2') throw new Error('not oauth2')
    expect(await credentials.getToken(false)).toBe('token-1')
    expect(await credentials.getToken(false)).toBe('token-1')
    expect(await credentials.getToken(true)).toBe('token-2')
  })
})
