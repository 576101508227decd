/**
 * direct's group commit (docs/design.md, "Transactions and savepoints"): a savepoint for the
 * messages completed so far, in the background. While one runs, the download goes on; the
 * messages completed meanwhile are committed by the next, which starts as soon as it ends. So
 * each message is durable about two fsyncs after it arrived, and the fsyncs cost no download
 * time. A message counts as saved only once a savepoint covers it (the engine asks `has()` of the
 * committed folder, FolderRun), and the transaction's commit() and rollback() wait for these
 * savepoints first (synced()).
 */
export class GroupCommit {
  /** The savepoints running in the background, and whether another is due. */
  private syncing: Promise<void> | undefined
  private syncAgain = false
  /** Why the transaction is no longer open, when a background savepoint failed. */
  failure: unknown

  constructor(
    /** Takes one savepoint now (the transaction's, not waiting for this group). */
    private readonly savepointNow: () => Promise<void>,
    private readonly isOpen: () => boolean,
  ) {}

  /** A message is complete (or a flag changed): commit it with the next group. */
  kick(): void {
    if (this.syncing !== undefined) {
      this.syncAgain = true
      return
    }
    this.syncing = (async () => {
      try {
        do {
          this.syncAgain = false
          await this.savepointNow()
        } while (this.syncAgain && this.isOpen())
      } catch (error) {
        // The savepoint rolled the transaction back (abandon()); the next call reports why.
        this.failure = error
      } finally {
        this.syncing = undefined
      }
    })()
  }

  /** Resolves once no savepoint runs in the background (at once if none was kicked). */
  async synced(): Promise<void> {
    while (this.syncing !== undefined) await this.syncing
  }
}
