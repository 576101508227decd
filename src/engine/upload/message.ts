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
import type {FolderStore} from '../../store/folder-store.js'
import {legacyToUpload} from '../../store/mboxrd/index.js'
import {parseDateHeader, readUploadHeaders} from './date.js'
import {bareLineFeeds} from '../../store/crlf-hash.js'

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
