/**
 * Download strategies (names as in imap-backup's config) and savepoint tuning, with the defaults
 * documented in docs/design.md, "Transactions and savepoints".
 */
export type Strategy = 'delay_metadata' | 'direct' | 'delay_all'

export const STRATEGIES: readonly Strategy[] = ['delay_metadata', 'direct', 'delay_all']

export interface TransactionTuning {
  strategy: Strategy
  /** A savepoint after this many appended messages. */
  savepointMessages: number
  /** … or after this many appended bytes. */
  savepointBytes: number
  /** … or when the last savepoint is this old. */
  savepointSeconds: number
  /** delay_all: bodies held in memory before they must be written. */
  delayAllMaxBytes: number
}

export const DEFAULT_TUNING: TransactionTuning = {
  strategy: 'delay_metadata',
  savepointMessages: 1000,
  savepointBytes: 32 * 1024 * 1024,
  savepointSeconds: 30,
  delayAllMaxBytes: 64 * 1024 * 1024,
}

/**
 * delay_metadata writes message bytes through a small write-behind buffer so that thousands of
 * tiny messages do not cost one system call each; the bytes still reach the file before the
 * savepoint that commits them.
 */
export const WRITE_BEHIND_BYTES = 1024 * 1024
