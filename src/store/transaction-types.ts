/**
 * What a folder's transaction (transaction.ts) takes and gives: messages, the host folder, stats,
 * and the appends of a whole message over MessageAppend.
 */
import type {Logger} from '../shared/logger.js'
import type {FolderMetadata} from './metadata.js'

export interface IncomingMessage {
  uid: number
  /** Flags in IMAP form (`\Seen`, `$Forwarded`). */
  flags: readonly string[]
  /** The server's INTERNALDATE (RFC 3501 §2.3.3), kept so that restore can set it again. */
  internalDate: Date | null
}

/** What the folder gives its transaction; the folder owns the files and the committed state. */
export interface TransactionHost {
  readonly mboxPath: string
  /** The committed state; `meta.messages` holds the committed messages (I9: UIDs are unique). */
  readonly meta: FolderMetadata
  readonly logger: Logger
  /** Folds the journal into `.imap` and removes it (commit step 2–3). */
  fold(journalId: string): Promise<void>
  /** Runs recovery from what is on disk (rollback step 2). */
  recover(): Promise<void>
  /** Called once the transaction is over, whatever the outcome. */
  release(): void
}

export interface TransactionStats {
  appended: number
  appendedBytes: number
  flagUpdates: number
  savepoints: number
}

/**
 * One message being appended (Transaction.openMessage): its bytes go in with write() as they
 * arrive, finish() completes and records it, abort() cuts it off again. A write() or finish()
 * that fails has already cut the message off (or rolled the transaction back); abort() after it
 * is harmless.
 */
export interface MessageAppend {
  /**
   * The next bytes of the message. Returns a promise when the buffer had to be written out
   * (wait for it before the next call); the bytes may be held until the header block is
   * complete, so they must not change afterwards.
   */
  write(bytes: Buffer): void | Promise<void>
  /**
   * All bytes are in: the entry is completed and appended; `message` gives its UID, flags, date.
   * Returns a promise when the buffer is written out or a savepoint is taken.
   */
  finish(message: IncomingMessage): void | Promise<void>
  abort(): Promise<void>
}

/** Appends a message held in memory through its MessageAppend. */
export async function appendWhole(append: MessageAppend, message: IncomingMessage, source: Buffer): Promise<void> {
  await append.write(source)
  await append.finish(message)
}

/**
 * Appends a message whose bytes arrive in chunks (large messages): they go to the file as they
 * come, never held whole. If the stream fails, the partial entry is cut off again and the
 * transaction stays usable.
 */
export async function appendChunks(append: MessageAppend, message: IncomingMessage, chunks: AsyncIterable<Buffer>): Promise<void> {
  try {
    for await (const chunk of chunks) await append.write(chunk)
  } catch (error) {
    await append.abort()
    throw error
  }
  await append.finish(message)
}
