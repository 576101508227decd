/**
 * A backed-up message as it is uploaded (docs/commands/restore.md, "What is uploaded"):
 *
 * - written by mailkeep (it has an exactness record): exactly the bytes the server sent when it
 *   was backed up, with the INTERNALDATE it had then;
 * - written by imap-backup (no record): its stored text with bare LFs made CRLF
 *   (`legacyToUpload`, as imap-backup uploads it), and the `Date:` header as INTERNALDATE, or
 *   none when the header is missing or invalid (the server then uses the current time).
 *
 * Also what it takes to recognise the message on the destination without UIDPLUS: its size as a
 * CRLF server stores it (servers such as Dovecot turn bare LFs into CRLF, docs/testing.md) and
 * its Message-ID.
 */
import {createHash} from 'node:crypto'
import type {FolderStore} from '../../store/folder-store.js'
import {legacyToUpload} from '../../store/mboxrd/index.js'
import {parseDateHeader, readUploadHeaders} from './date.js'

export interface UploadMessage {
  uid: number
  bytes: Buffer
  /** Flags as stored (imap-backup's form). */
  storedFlags: readonly string[]
  internalDate: Date | null
  messageId: string | undefined
  /** The size a server that stores CRLF line ends reports (RFC822.SIZE). */
  crlfSize: number
  exact: boolean
}

/** Reads and prepares one message of the backup (the folder is open read-only). */
export async function readUploadMessage(folder: FolderStore, uid: number): Promise<UploadMessage> {
  const stored = await folder.readMessage(uid)
  const bytes = stored.exact ? stored.bytes : legacyToUpload(stored.bytes)
  const headers = readUploadHeaders(bytes)
  const seconds = stored.exact ? folder.exactness(uid)?.[2] : null
  const internalDate = typeof seconds === 'number' ? new Date(seconds * 1000) : (parseDateHeader(headers.date) ?? null)
  return {
    uid,
    bytes,
    storedFlags: folder.entry(uid)?.flags ?? [],
    internalDate,
    messageId: headers.messageId === '' ? undefined : headers.messageId,
    crlfSize: bytes.length + bareLineFeeds(bytes),
    exact: stored.exact,
  }
}

/**
 * The size of the upload when it is known without reading the message: the exactness record's
 * size (the bytes uploaded are exactly those). Undefined for imap-backup entries, whose upload
 * size is known only after the CRLF conversion.
 */
export function knownUploadSize(folder: FolderStore, uid: number): number | undefined {
  const record = folder.exactness(uid)
  return record === undefined ? undefined : record[1]
}

/** LFs not preceded by CR: each becomes two bytes on a CRLF server. */
export function bareLineFeeds(bytes: Buffer): number {
  let n = 0
  for (let i = bytes.indexOf(0x0a); i >= 0; i = bytes.indexOf(0x0a, i + 1)) if (i === 0 || bytes[i - 1] !== 0x0d) n++
  return n
}

/**
 * SHA-256 of a message with every bare LF made CRLF, fed in chunks: the identity used to prove
 * that a destination message is a copy of a source message (servers may store CRLF for LF).
 */
export class CrlfHash {
  private readonly hash = createHash('sha256')
  private lastWasCr = false

  update(chunk: Buffer): this {
    let from = 0
    for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) {
      const cr = i === 0 ? this.lastWasCr : chunk[i - 1] === 0x0d
      if (cr) continue
      this.hash.update(chunk.subarray(from, i))
      this.hash.update(CR)
      from = i
    }
    this.hash.update(chunk.subarray(from))
    if (chunk.length > 0) this.lastWasCr = chunk[chunk.length - 1] === 0x0d
    return this
  }

  digest(): string {
    return this.hash.digest('hex')
  }
}

const CR = Buffer.from('\r')

export function crlfHash(bytes: Buffer): string {
  return new CrlfHash().update(bytes).digest()
}
