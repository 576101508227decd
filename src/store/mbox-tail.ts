/**
 * The end of the mbox a transaction appends to: the bytes encoded into its MboxBuffer, those
 * handed to the file, and the end the last savepoint committed. Every write goes through
 * writePieces (shared/write-all.ts), which loops until all bytes are stored. Where the file
 * must end after a failure is the transaction's decision (transaction.ts); this only keeps the
 * ends and does the writes, syncs and truncates it asks for, in the order it asks.
 */
import type {FileHandle} from 'node:fs/promises'
import {writePieces} from '../shared/write-all.js'
import {MboxBuffer} from './mbox-buffer.js'
import {WRITE_BEHIND_BYTES} from './tuning.js'

export class MboxTail {
  /** Where messages are encoded before they are written out. */
  readonly out = new MboxBuffer(WRITE_BEHIND_BYTES)
  /** Logical end of the mbox: the end of the last complete entry, buffered bytes included. */
  end: number
  /** End of the mbox at the last savepoint: what a rollback truncates to. */
  savedEnd: number
  /** When a savepoint failed after its journal write began, the end that journal may claim. */
  journalMayClaim = 0
  /** Bytes actually handed to the file. */
  private flushedEnd: number
  /** A write to the mbox failed: how much of it reached the file is unknown. */
  private writeFailed = false

  constructor(
    private readonly mbox: FileHandle,
    start: number,
    /** Held bytes at which the buffer is written out (SavepointPace.bufferCap). */
    private readonly bufferCap: number,
  ) {
    this.end = start
    this.savedEnd = start
    this.flushedEnd = start
  }

  /** The buffer holds enough to be written out. */
  get full(): boolean {
    return this.out.held >= this.bufferCap
  }

  /** Writes the buffered bytes to the file; after a failure how much reached it is unknown. */
  async flush(): Promise<void> {
    if (this.out.held === 0) return
    const held = this.out.held
    const slabs = this.out.take()
    try {
      await writePieces(this.mbox, slabs)
    } catch (error) {
      this.writeFailed = true
      throw error
    }
    this.flushedEnd += held
    this.out.recycle(slabs)
  }

  /** I1: the bytes written are durable before any entry points at them. */
  async sync(): Promise<void> {
    await this.mbox.datasync()
  }

  /** Rollback, first step: the buffered bytes are dropped, none of them is committed. */
  dropBuffered(): void {
    this.out.truncate(0)
  }

  /**
   * Rollback: truncates the file to the last savepoint's end (or to what a journal write that
   * failed half-way may claim: cutting below it would leave a record claiming bytes the file no
   * longer has), if bytes past it may have reached the file. Returns how many bytes are dropped.
   */
  async cutToSavepoint(): Promise<number> {
    const target = Math.max(this.savedEnd, this.journalMayClaim)
    if (this.flushedEnd > target || this.writeFailed) {
      await this.mbox.truncate(target)
      await this.mbox.datasync()
    }
    return this.end - target
  }

  /**
   * A message that could not be completed, from `offset` on, is cut off the buffer. Returns
   * false if part of it was written out already: the caller truncates the file (truncateFile).
   */
  cutBuffered(offset: number): boolean {
    if (offset >= this.flushedEnd) {
      this.out.truncate(offset - this.flushedEnd)
      return true
    }
    this.out.truncate(0)
    return false
  }

  /** Truncates the file to `offset`, the start of a message cut off (cutBuffered). */
  async truncateFile(offset: number): Promise<void> {
    await this.mbox.truncate(offset)
    this.flushedEnd = offset
    this.end = offset
  }

  async close(): Promise<void> {
    await this.mbox.close()
  }
}
