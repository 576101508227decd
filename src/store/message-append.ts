/**
 * One message being appended to a transaction (Transaction.openMessage): its bytes are encoded
 * into the transaction's buffer as they arrive, the buffer is written out when it fills, and a
 * message that cannot be completed is cut off again. What the transaction decides (when a
 * savepoint is due, where the file ends, what a complete message records) it does through
 * AppendTarget, which it makes once: a message costs only its encoder and these closures.
 */
import {InternalError} from '../shared/errors.js'
import {MboxrdEncoder} from './mboxrd/index.js'
import type {MboxBuffer} from './mbox-buffer.js'
import type {IncomingMessage, MessageAppend} from './transaction-types.js'

/** Pieces of a message held in memory that are fed to the encoder at a time (MboxBuffer mirrors up to a slab). */
const FEED_BYTES = 64 * 1024

/** What the transaction does for the message being appended. */
export interface AppendTarget {
  readonly out: MboxBuffer
  /** delay_all, at the first bytes: a savepoint is due before a message of `sizeHint` bytes. */
  savepointBefore(sizeHint: number): boolean
  savepoint(): Promise<void>
  /** The buffer holds enough to be written out. */
  full(): boolean
  /** Writes a full buffer out (one writer at a time). */
  flushFull(): Promise<void>
  /** Cuts the message starting at `offset` off again; the transaction stays usable. */
  cutBackTo(offset: number): Promise<void>
  /** The message ended without being completed (aborted). */
  ended(): void
  /** The message is complete: `length` bytes at `offset`, with the encoder's record. */
  completed(message: IncomingMessage, offset: number, length: number, record: {size: number; appended: number; eol: unknown}): void | Promise<void>
}

/** Appends message `uid` at `offset` (the transaction's end); see Transaction.openMessage. */
export function messageAppend(target: AppendTarget, uid: number, offset: number, sizeHint: number): MessageAppend {
  const encoder = new MboxrdEncoder({}, target.out)
  let first = true
  let done = false
  const fail = async (error: unknown): Promise<never> => {
    done = true
    await target.cutBackTo(offset)
    throw error
  }
  const append: MessageAppend = {
    write: (bytes) => {
      if (done) throw new InternalError(`UID ${uid}: write after the message ended`)
      if (first) {
        first = false
        if (target.savepointBefore(sizeHint)) return target.savepoint().then(() => append.write(bytes), fail)
      }
      for (let at = 0; at < bytes.length; at += FEED_BYTES) encoder.write(bytes.length <= FEED_BYTES ? bytes : bytes.subarray(at, at + FEED_BYTES))
      // A message larger than the buffer is written as it comes, never held whole.
      if (target.full()) return target.flushFull().catch(fail)
    },
    finish: (message) => {
      if (done) throw new InternalError(`UID ${uid}: the message already ended`)
      if (message.uid !== uid) throw new InternalError(`message UID ${message.uid} finishes the append of UID ${uid}`)
      let closed
      try {
        closed = encoder.close()
      } catch (error) {
        return fail(error)
      }
      done = true
      return target.completed(message, offset, closed.length, closed.record)
    },
    abort: async () => {
      if (done) return
      done = true
      target.ended()
      await target.cutBackTo(offset)
    },
  }
  return append
}
