/**
 * The IMAP layer's contract with the engine. Only src/imap imports imapflow; the engine sees
 * these types and the functions exported from src/imap/index.ts. Every method either resolves
 * with the documented value or throws one of:
 *   - ConnectionError (exit 111): cannot connect, TLS failure, login refused;
 *   - TransientImapError: the link broke (reset, EOF, timeout, BYE) — retry on a NEW session;
 *   - RemoteError: the server answered NO/BAD to a command we need, or sent something we cannot
 *     parse;
 *   - InterruptedError: the RunContext's signal was aborted (the socket is closed at once).
 * imapflow's mixed contract (some calls return false instead of throwing) is normalised here.
 *
 * Folder names are always the server's full names decoded from modified UTF-7 (RFC 3501
 * §5.1.3) to UTF-8, as LIST returns them (prefix and delimiter included), made distinct where
 * two listed names decode alike (distinct-names.ts).
 */
import type {Logger} from '../shared/logger.js'

export type Security = 'tls' | 'starttls' | 'plain'

export interface Endpoint {
  host: string
  port: number
  security: Security
  /** Certificate verification (on unless the config turns it off). */
  verifyCertificate: boolean
  caFile?: string
  minTlsVersion?: 'TLSv1.2' | 'TLSv1.3'
  connectTimeoutMs: number
  /** A connection silent for this long while a command is running is treated as broken. */
  idleTimeoutMs: number
}

export type Credentials =
  | {kind: 'password'; user: string; password: string}
  /**
   * RFC 7628 OAUTHBEARER or Google/Microsoft XOAUTH2 (`auto`: XOAUTH2 when the server announces
   * it, else OAUTHBEARER). getToken(false) is called at every connect and may return a cached
   * token; getToken(true) when the server refused the one it got.
   */
  | {kind: 'oauth2'; user: string; mechanism: 'XOAUTH2' | 'OAUTHBEARER' | 'auto'; getToken: (refresh: boolean) => Promise<string>}

export interface ConnectOptions {
  endpoint: Endpoint
  credentials: Credentials
  logger: Logger
  signal: AbortSignal
  /** RFC 2971 ID sent after login (some servers, e.g. 163.com, require it). */
  clientId?: {name: string; version: string}
  /** Log every protocol line at debug level (secrets redacted). */
  traceProtocol?: boolean
  /** Size of each partial FETCH of downloadMessage() (default 1 MiB). */
  downloadChunkBytes?: number
  /**
   * The largest message the caller fetches whole with fetchMessages() (bigger ones go through
   * downloadMessage()): the session's literal limit derives from it (limits.ts; default: the
   * 64 MiB floor). A literal over the limit is an OversizedResponseError.
   */
  wholeMessageBytes?: number
}

export interface Capabilities {
  readonly all: ReadonlySet<string>
  /** RFC 7162 */
  readonly condstore: boolean
  readonly qresync: boolean
  /** RFC 5819 */
  readonly listStatus: boolean
  /** RFC 4315 */
  readonly uidplus: boolean
  readonly multiappend: boolean
  readonly literalPlus: boolean
  /** RFC 7889 APPENDLIMIT, if announced with a value. */
  readonly appendLimit: number | undefined
}

export interface NamespaceEntry {
  prefix: string
  delimiter: string | null
}

export interface Namespaces {
  personal: NamespaceEntry[]
  other: NamespaceEntry[]
  shared: NamespaceEntry[]
}

export interface FolderStatus {
  uidValidity?: number
  uidNext?: number
  messages?: number
  /** RFC 7162; decimal string (63-bit). */
  highestModseq?: string
}

export interface RemoteFolder {
  /** Decoded, and distinct among the listed folders (distinct-names.ts). */
  name: string
  /**
   * Set when another listed folder decodes to the same name (`a` and `&AGE-`): the decoded name
   * this one shares; `name` is then `<decoded> [<its spelling>]`.
   */
  decodesAs?: string
  delimiter: string | null
  /** LIST attributes, e.g. `\Noselect`, `\HasChildren`, `\Sent`. */
  flags: string[]
  noselect: boolean
  specialUse?: string
  /** Present when listFolders({status: true}) was asked (LIST-STATUS, or STATUS per folder). */
  status?: FolderStatus
}

export interface OpenedFolder {
  name: string
  readOnly: boolean
  uidValidity: number
  uidNext: number
  exists: number
  /** Absent when the server has no CONDSTORE or the mailbox has NOMODSEQ. */
  highestModseq?: string
  /**
   * `[PERMANENTFLAGS (…)]` of SELECT/EXAMINE (RFC 3501 §7.1): the flags the folder keeps, `\*`
   * meaning "new keywords too". Absent when the server sent none (then every flag is kept).
   */
  permanentFlags?: string[]
  /** With a QRESYNC open: UIDs expunged since the given modseq (RFC 7162 §3.2.5.1 VANISHED). */
  vanished?: number[]
  /**
   * With a QRESYNC open: the messages whose flags changed since the given modseq (the untagged
   * FETCH responses of RFC 7162 §3.2.5.1), `\Recent` left out. Empty when the server did not
   * accept the given UIDVALIDITY.
   */
  changed?: Array<{uid: number; flags: string[]}>
}

export interface FetchedMessage {
  uid: number
  /** IMAP form: `\Seen`, `$Forwarded`. */
  flags: string[]
  internalDate: Date | null
  /** RFC822.SIZE */
  size: number
  /** Exactly the bytes of BODY.PEEK[] (RFC 3501 §6.4.5). */
  source: Buffer
}

/**
 * Where streamMessages() puts each message. `open` is called when a message's bytes begin; the
 * writer it returns gets them as they come off the connection, then `end` or `abort`. One message
 * at a time: the next is read only once the writer's promises have resolved.
 */
export interface MessageSink {
  /**
   * Message `uid` is arriving (`size`: the bytes announced for it). Returns its writer, or
   * undefined to let its bytes pass (not wanted, stored already).
   */
  open(uid: number, size: number): MessageWriter | undefined
}

export interface MessageWriter {
  /**
   * The next bytes of the message (BODY.PEEK[], exactly as sent). They may be a view of the
   * connection's buffer: keep them as they are or copy them, never change them. A returned promise
   * is waited for before anything more is read from the connection.
   */
  write(bytes: Buffer): void | Promise<void>
  /** Every byte has arrived; its flags, date and size (which may have come after the bytes). */
  end(summary: MessageSummary): void | Promise<void>
  /** The message will not be completed (its response was unreadable, the command failed): drop what was written. */
  abort(): void | Promise<void>
}

export interface MessageSummary {
  uid: number
  flags: string[]
  internalDate: Date | null
  size: number
  modseq?: string
}

/** Selected header fields of one message (RFC 3501 §6.4.5 `BODY[HEADER.FIELDS (…)]`). */
export interface MessageHeaderFields {
  uid: number
  /** The fields as the server sent them (folded lines, CRLF), ending with the empty line. */
  headers: Buffer
}

export interface FlagChanges {
  changed: Array<{uid: number; flags: string[]}>
  /** With QRESYNC (VANISHED modifier): UIDs expunged since changedSince. */
  vanished?: number[]
}

export interface AppendResult {
  /** From APPENDUID (RFC 4315), when the server has UIDPLUS. */
  uid?: number
  uidValidity?: number
}

/** Who answered a connection (src/imap/peer.ts): for a person testing a setup, not for logic. */
export interface PeerInfo {
  /** The text of the server's greeting, e.g. `Dovecot ready.` */
  greeting: string
  /** The TLS version agreed on (`TLSv1.3`); absent for plain IMAP. */
  tlsProtocol?: string
  /** Whether the certificate was verified (false when verification is turned off). */
  certificateVerified?: boolean
  certificate?: {subject: string; issuer: string; validTo: string}
  /** The server's ID answer (RFC 2971), when it gave one: name, version, vendor, … */
  serverId?: Record<string, string>
}

export interface ImapSession {
  readonly capabilities: Capabilities
  /** Who answered (optional: test fakes of the session need not say). */
  readonly peer?: PeerInfo
  /** The user the session is logged in as (never the password). */
  readonly user: string
  namespaces(): Promise<Namespaces>
  /** LIST "" "*" (all folders), names decoded. With status: LIST-STATUS when announced. */
  listFolders(options?: {status?: boolean}): Promise<RemoteFolder[]>
  status(folder: string): Promise<FolderStatus>
  /**
   * EXAMINE (read-only). With `qresync` and a server that has it: RFC 7162 §3.2.5 QRESYNC
   * parameters, so that `vanished` lists what was expunged since that modseq.
   * A folder that does not exist: MissingFolderError.
   */
  examine(folder: string, options?: {qresync?: {uidValidity: number; highestModseq: string}}): Promise<OpenedFolder>
  /** SELECT (read-write): for STORE, EXPUNGE. */
  select(folder: string): Promise<OpenedFolder>
  /**
   * UID SEARCH on the open folder; criteria map to RFC 3501 §6.4.4 keys (`header`: HEADER
   * field-name string, e.g. Message-ID, a substring match).
   */
  searchUids(criteria?: {uidRange?: string; larger?: number; unseen?: boolean; header?: {field: string; value: string}}): Promise<number[]>
  /** UID, FLAGS, INTERNALDATE, RFC822.SIZE for a UID set ("1:*", "5,7:9"), no bodies. */
  fetchSummaries(uidSet: string): AsyncIterable<MessageSummary>
  /**
   * Messages with their bodies (BODY.PEEK[]: never sets \Seen), one FETCH for the whole set,
   * yielded as they arrive. The caller bounds the set (count and bytes).
   */
  fetchMessages(uidSet: string): AsyncIterable<FetchedMessage>
  /**
   * The same FETCH as fetchMessages(), each message's bytes handed to `sink` as they arrive, never
   * held whole by the session (docs/imap.md, "The FETCH tap"). Resolves after the tagged response;
   * rejects at once with an error thrown by the sink (the rest of the answer is read and dropped).
   * Each UID of the set is opened at most once.
   */
  streamMessages(uidSet: string, sink: MessageSink): Promise<void>
  /**
   * Only the named header fields of a UID set (BODY.PEEK[HEADER.FIELDS (…)]: no bodies, never
   * sets \Seen), e.g. Message-ID and Date to recognise messages (`local repair`). Optional so
   * that test fakes of the session need not have it; the real session always does.
   */
  fetchHeaderFields?(uidSet: string, fields: readonly string[]): AsyncIterable<MessageHeaderFields>
  /** One large message streamed in chunks (never held whole); null if the UID is gone. */
  downloadMessage(uid: number): Promise<{summary: MessageSummary; chunks: AsyncIterable<Buffer>} | null>
  /** FLAGS of a UID set; with changedSince (CONDSTORE) only the changed ones (+ VANISHED with QRESYNC). */
  fetchFlags(uidSet: string, options?: {changedSince?: string}): Promise<FlagChanges>
  /** UID STORE on the selected folder. */
  storeFlags(uidSet: string, flags: string[], mode: 'add' | 'remove' | 'set'): Promise<void>
  /** UID EXPUNGE (UIDPLUS) or EXPUNGE of messages already flagged \Deleted. */
  expunge(uidSet?: string): Promise<void>
  createFolder(folder: string): Promise<void>
  /** APPEND with flags and internal date; source may be a stream for large messages. */
  append(folder: string, source: Buffer, options: {flags: string[]; internalDate: Date | null}): Promise<AppendResult>
  /** Sends NOOP: used to tell a live session from a dead one. */
  noop(): Promise<void>
  /** LOGOUT, then close. Never throws. */
  logout(): Promise<void>
  /** Closes the socket at once. Never throws. */
  close(): void
  readonly closed: boolean
}

export type Connect = (options: ConnectOptions) => Promise<ImapSession>
