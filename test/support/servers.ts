/**
 * One entry point to the three real IMAP servers the suite tests against: Dovecot 2.3
 * (`dovecot.ts`), Cyrus IMAP 3.6 (`cyrus.ts`) and Courier IMAP 5.0 (`courier.ts`).
 *
 *   const server = await startServer(kind, {separator: '.'})   // in beforeAll, once per file
 *   await seedFolder(server, server.users[0]!, folderName(server, 'Work'), 10)
 *   ...
 *   await server.stop()                                         // in afterAll
 *
 * Tests about server behaviour run against every kind in `serverKinds()`
 * (`describe.each(serverKinds())`); MAILKEEP_TEST_SERVERS=cyrus (or a comma list) narrows a run.
 *
 * A `TestServer` is an `ImapServer` (mail-seed.ts), so every helper there works on it:
 *   - folders: `createFolder`, `ensureFolder`, `renameFolder`, `deleteFolder`, `listFolders`;
 *   - mail: `appendMessages` (flags and keywords, internal dates; returns the UIDs),
 *     `seedFolder`, `expunge`, `setFlags` / `addFlags` / `removeFlags`, `folderStatus`,
 *     `listUids`, `fetchMessages` (exactly the bytes of BODY.PEEK[]), `fetchFlags`;
 *   - `forceUidValidityChange(server, user, folder)`: a new UIDVALIDITY, made the way that
 *     server's administrator would (see `changeUidValidity` of each harness);
 *   - `folderName(server, 'A', 'B')`: a full name with the server's prefix and separator.
 * What differs between the servers, and what a test must not assume, is in `facts`
 * (`SERVER_FACTS`), each pinned against the real server by `servers.test.ts`.
 */
import {startCourier, type CourierInstance} from './courier.js'
import {startCyrus, type CyrusInstance} from './cyrus.js'
import {startDovecot, type DovecotInstance, type DovecotOptions, type Separator, type TestUser} from './dovecot.js'
import type {ImapServer} from './mail-seed.js'
import type {ProcessInfo} from './processes.js'

export type ServerKind = 'dovecot' | 'cyrus' | 'courier'
export const ALL_SERVER_KINDS: readonly ServerKind[] = Object.freeze(['dovecot', 'cyrus', 'courier'])

/**
 * The kinds this run tests against: MAILKEEP_TEST_SERVERS (comma separated, e.g. `cyrus` or
 * `dovecot,courier`), default all three. An unknown name is an error, not a silent skip.
 */
export function serverKinds(): ServerKind[] {
  const value = process.env.MAILKEEP_TEST_SERVERS?.trim()
  if (!value) return [...ALL_SERVER_KINDS]
  const kinds = value.split(',').map((k) => k.trim().toLowerCase()).filter(Boolean)
  for (const kind of kinds) if (!ALL_SERVER_KINDS.includes(kind as ServerKind)) throw new Error(`MAILKEEP_TEST_SERVERS: unknown server '${kind}' (known: ${ALL_SERVER_KINDS.join(', ')})`)
  return [...new Set(kinds)] as ServerKind[]
}

export interface ServerFacts {
  /** Separators the harness can start this server with; the first is its default. */
  readonly separators: readonly Separator[]
  /**
   * Extensions mailkeep branches on that this server announces after LOGIN (upper case).
   * `servers.test.ts` checks each of KNOWN_EXTENSIONS against the real server both ways.
   */
  readonly capabilities: ReadonlySet<string>
  /**
   * BODY[] the server returns for a message appended as `raw`, or undefined when it refuses
   * the APPEND (Cyrus: bare LF). What "the backup equals the server" compares against.
   */
  stored(raw: Buffer): Buffer | undefined
  /** Whether UIDs survive `forceUidValidityChange` (Courier numbers messages anew). */
  readonly uidsSurviveUidValidityChange: boolean
  /** Whether RENAME keeps the folder's UIDVALIDITY and UIDs (Courier's gives new ones). */
  readonly renameKeepsUidValidity: boolean
  /** An empty INBOX that never held mail gets a new UIDVALIDITY in every session (Courier). */
  readonly emptyInboxUidValidityVaries: boolean
  /** INTERNALDATE comes back in the zone it was appended with (else in +0000). */
  readonly internalDateKeepsZone: boolean
  /**
   * CREATE of `A/B` when `A` does not exist also makes `A` a folder of its own (selectable, so a
   * backup keeps it); otherwise `A` is listed as `\Noselect` / `\NonExistent` or not at all.
   */
  readonly createMakesParentFolders: boolean
  /**
   * NAMESPACE (RFC 2342) in each of its `separators` as the harness sets it up: the first
   * personal, other users' and shared namespace, or null where there is none.
   */
  readonly namespaces: Readonly<Partial<Record<Separator, ServerNamespaces>>>
}

export interface ServerNamespace {
  readonly prefix: string
  readonly delimiter: string
}

export interface ServerNamespaces {
  readonly personal: ServerNamespace
  readonly other: ServerNamespace | null
  readonly shared: ServerNamespace | null
}

/** The extensions whose presence `capabilities` states for each server. */
export const KNOWN_EXTENSIONS = Object.freeze(['CONDSTORE', 'QRESYNC', 'ESEARCH', 'LIST-STATUS', 'UIDPLUS', 'MULTIAPPEND', 'LITERAL+', 'MOVE', 'SPECIAL-USE', 'ENABLE', 'IDLE', 'NAMESPACE', 'COMPRESS=DEFLATE'])

export const SERVER_FACTS: Readonly<Record<ServerKind, ServerFacts>> = Object.freeze({
  dovecot: {
    separators: ['/', '.'],
    // SPECIAL-USE only with special_use folders configured, which the harness does not.
    capabilities: new Set(['CONDSTORE', 'QRESYNC', 'ESEARCH', 'LIST-STATUS', 'UIDPLUS', 'MULTIAPPEND', 'LITERAL+', 'MOVE', 'ENABLE', 'IDLE', 'NAMESPACE']),
    // Stores with LF, serves every line end as CRLF; drops NUL bytes.
    stored: (raw) => withoutNul(crlfLines(raw)),
    uidsSurviveUidValidityChange: true,
    renameKeepsUidValidity: true,
    emptyInboxUidValidityVaries: false,
    internalDateKeepsZone: false,
    createMakesParentFolders: false,
    namespaces: {
      '/': {personal: {prefix: '', delimiter: '/'}, other: null, shared: null},
      '.': {personal: {prefix: 'INBOX.', delimiter: '.'}, other: null, shared: null},
    },
  },
  cyrus: {
    separators: ['/', '.'],
    capabilities: new Set(['CONDSTORE', 'QRESYNC', 'ESEARCH', 'LIST-STATUS', 'UIDPLUS', 'MULTIAPPEND', 'LITERAL+', 'MOVE', 'SPECIAL-USE', 'ENABLE', 'IDLE', 'NAMESPACE', 'COMPRESS=DEFLATE']),
    // Refuses bare LF ("NO Message contains bare newlines"); replaces each 8-bit byte of the
    // header with 'X'; keeps the rest as sent.
    stored: (raw) => (hasBareLf(raw) ? undefined : mungeHeader8bit(raw)),
    uidsSurviveUidValidityChange: true,
    renameKeepsUidValidity: true,
    emptyInboxUidValidityVaries: false,
    internalDateKeepsZone: false,
    createMakesParentFolders: true,
    // Cyrus always has the other users' and the shared namespace; with altnamespace their prefixes
    // are words, in the standard namespace `user.` and the root.
    namespaces: {
      '/': {personal: {prefix: '', delimiter: '/'}, other: {prefix: 'Other Users/', delimiter: '/'}, shared: {prefix: 'Shared Folders/', delimiter: '/'}},
      '.': {personal: {prefix: 'INBOX.', delimiter: '.'}, other: {prefix: 'user.', delimiter: '.'}, shared: {prefix: '', delimiter: '.'}},
    },
  },
  courier: {
    separators: ['.'],
    capabilities: new Set(['UIDPLUS', 'IDLE', 'NAMESPACE', 'ENABLE']),
    // Every line end becomes CRLF, a bare CR is dropped, and a message that does not end with
    // a line end gets one.
    stored: (raw) => withFinalCrlf(crlfLines(raw, {dropBareCr: true})),
    uidsSurviveUidValidityChange: false,
    renameKeepsUidValidity: false,
    emptyInboxUidValidityVaries: true,
    internalDateKeepsZone: false,
    createMakesParentFolders: false,
    // Two shared namespaces, `#shared.` first, then `shared.`.
    namespaces: {'.': {personal: {prefix: 'INBOX.', delimiter: '.'}, other: null, shared: {prefix: '#shared.', delimiter: '.'}}},
  },
})

export interface ServerOptions {
  /** Default: the server's first in `facts.separators`. */
  separator?: Separator
  users?: readonly TestUser[]
  /** Dovecot only: its other options (storage, capability override, …). */
  dovecot?: Omit<DovecotOptions, 'separator' | 'users'>
}

/** What every harness instance offers, whatever the server. */
export interface TestServer extends ImapServer {
  readonly kind: ServerKind
  readonly facts: ServerFacts
  readonly users: readonly TestUser[]
  readonly prefix: string
  readonly separator: Separator
  readonly dir: string
  readonly logPath: string
  /** PID of the server's main process (changes on `restart()`). */
  readonly pid: number
  readonly running: boolean
  changeUidValidity(user: string, folder: string, newValue?: number): Promise<void>
  /** Stops and starts again on the same port with the same data; open sessions are dropped. */
  restart(): Promise<void>
  /** Stops every process of the instance by PID and removes its temp dir. Safe to call twice. */
  stop(options?: {keepDir?: boolean}): Promise<void>
  /** The last lines of the server's log. */
  logTail(lines?: number): Promise<string>
  /** The live processes of this instance, and no other. */
  processes(): ProcessInfo[]
}

export type TestServerOf<K extends ServerKind> = TestServer & (K extends 'dovecot' ? DovecotInstance : K extends 'cyrus' ? CyrusInstance : CourierInstance)

/** Starts a private instance of `kind` on 127.0.0.1 (a free port, a fresh temp dir). */
export async function startServer<K extends ServerKind>(kind: K, options: ServerOptions = {}): Promise<TestServerOf<K>> {
  const facts = SERVER_FACTS[kind]
  const separator = options.separator ?? facts.separators[0]!
  if (!facts.separators.includes(separator)) throw new Error(`${kind} cannot be started with separator '${separator}' (only ${facts.separators.map((s) => `'${s}'`).join(', ')})`)
  const users = options.users
  let instance: DovecotInstance | CyrusInstance | CourierInstance
  if (kind === 'dovecot') instance = await startDovecot({...options.dovecot, separator, users})
  else if (kind === 'cyrus') instance = await startCyrus({separator, users})
  else instance = await startCourier({users})
  return Object.assign(instance, {kind, facts}) as unknown as TestServerOf<K>
}

/**
 * Every (kind, separator) pair this run tests, for `describe.each(serverVariants())('$title', …)`:
 * a test about folder names runs on each server in each namespace shape it offers.
 */
export function serverVariants(): Array<{kind: ServerKind; separator: Separator; title: string}> {
  return serverKinds().flatMap((kind) => SERVER_FACTS[kind].separators.map((separator) => ({kind, separator, title: `${kind} with separator '${separator}'`})))
}

/** The separator a test should use on `kind` when it wants `preferred` but the server may not offer it. */
export function separatorFor(kind: ServerKind, preferred: Separator): Separator {
  const {separators} = SERVER_FACTS[kind]
  return separators.includes(preferred) ? preferred : separators[0]!
}

// ---------------------------------------------------------------------------------------------
// Byte transformations of `stored()`

/** Every bare LF becomes CRLF; with `dropBareCr`, a CR not followed by LF is dropped. */
export function crlfLines(raw: Buffer, options: {dropBareCr?: boolean} = {}): Buffer {
  const out: number[] = []
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!
    if (c === 0x0d && raw[i + 1] !== 0x0a) {
      if (!options.dropBareCr) out.push(c)
      continue
    }
    if (c === 0x0a && (i === 0 || raw[i - 1] !== 0x0d)) out.push(0x0d)
    out.push(c)
  }
  return Buffer.from(out)
}

function withoutNul(raw: Buffer): Buffer {
  return raw.includes(0) ? Buffer.from(raw.filter((b) => b !== 0)) : raw
}

function withFinalCrlf(raw: Buffer): Buffer {
  return raw.length >= 2 && raw[raw.length - 2] === 0x0d && raw[raw.length - 1] === 0x0a ? raw : Buffer.concat([raw, Buffer.from('\r\n')])
}

function hasBareLf(raw: Buffer): boolean {
  for (let i = raw.indexOf(0x0a); i !== -1; i = raw.indexOf(0x0a, i + 1)) if (i === 0 || raw[i - 1] !== 0x0d) return true
  return false
}

/** Each byte >= 0x80 of the header section (up to the first empty line) becomes 'X'. */
function mungeHeader8bit(raw: Buffer): Buffer {
  const end = raw.indexOf('\r\n\r\n')
  const headerEnd = end === -1 ? raw.length : end
  let out: Buffer | undefined
  for (let i = 0; i < headerEnd; i++) {
    if (raw[i]! < 0x80) continue
    out ??= Buffer.from(raw)
    out[i] = 0x58
  }
  return out ?? raw
}
