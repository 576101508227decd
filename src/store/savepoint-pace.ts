/**
 * How a transaction's strategy paces its writes and savepoints (docs/design.md, "Transactions
 * and savepoints"): `delay_metadata` takes a savepoint every N messages / M bytes / T s;
 * `delay_all` holds bodies in memory up to delayAllMaxBytes and takes a savepoint before a
 * message that would overflow them; `direct` commits every message in a group (group-commit.ts),
 * so none of the counts here decide its savepoints.
 */
import {WRITE_BEHIND_BYTES, type TransactionTuning} from './tuning.js'

export class SavepointPace {
  /** Held bytes at which the buffer is written out. */
  readonly bufferCap: number
  /** direct: every complete message kicks a group commit instead of counting towards a savepoint. */
  readonly direct: boolean
  private since = {messages: 0, bytes: 0, at: Date.now()}

  constructor(private readonly tuning: TransactionTuning) {
    this.bufferCap = tuning.strategy === 'delay_all' ? Math.max(tuning.delayAllMaxBytes, 1) : WRITE_BEHIND_BYTES
    this.direct = tuning.strategy === 'direct'
  }

  /**
   * delay_all, at a message's first bytes: a savepoint before it, because with `sizeHint` (the
   * size the server announced) it would overflow the bytes already held.
   */
  savepointBefore(held: number, sizeHint: number): boolean {
    return this.tuning.strategy === 'delay_all' && held > 0 && held + sizeHint > this.bufferCap
  }

  /** A message (of `bytes` appended bytes) or a flag update since the last savepoint. */
  count(bytes: number): void {
    this.since.messages++
    this.since.bytes += bytes
  }

  /** A savepoint was taken: the counts start again. */
  restart(): void {
    this.since = {messages: 0, bytes: 0, at: Date.now()}
  }

  get due(): boolean {
    const s = this.since
    return s.messages >= this.tuning.savepointMessages || s.bytes >= this.tuning.savepointBytes || Date.now() - s.at >= this.tuning.savepointSeconds * 1000
  }
}
