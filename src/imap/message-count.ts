/**
 * How many messages the selected folder holds, as the session itself was told: the EXISTS of
 * SELECT/EXAMINE, then every `* n EXISTS`, `* n EXPUNGE` (RFC 3501 §7.3.1, §7.4.1) and
 * `* VANISHED uids` (RFC 7162 §3.2.10, the form of EXPUNGE once QRESYNC is enabled) that arrives
 * later. imapflow keeps such a count only for folders opened through its own mailboxOpen, which
 * we do not use (flow-internals.ts), so its handlers are wrapped here, as session.ts wraps BYE.
 *
 * The count lets the session refuse an answer that contradicts it: a `UID SEARCH ALL` answered
 * with no UID while the same session was told `* 7 EXISTS` is not "the folder is empty" but a
 * server fault, and mirror mode must not delete every local message on it (issue 11 item 9).
 */
import type {ImapResponse} from 'imapflow'
import {vanishedUids} from './commands/vanished.js'
import type {FlowInternals, UntaggedHandler} from './flow-internals.js'
import {untaggedNumber} from './response.js'

/** The counts a folder had while one command ran: any answer between them is consistent. */
export interface CountWindow {
  low: number
  high: number
}

export class MessageCount {
  private count: number | undefined
  private window: CountWindow | undefined

  constructor(flow: FlowInternals) {
    this.wrap(flow, 'EXISTS', (untagged) => {
      const n = untaggedNumber(untagged)
      if (n !== undefined) this.set(n)
    })
    this.wrap(flow, 'EXPUNGE', () => {
      if (this.count !== undefined && this.count > 0) this.set(this.count - 1)
    })
    this.wrap(flow, 'VANISHED', (untagged) => {
      // VANISHED (EARLIER) reports expunges from before this session's view: not a change of it.
      let found
      try {
        found = vanishedUids(untagged)
      } catch {
        this.count = undefined // an unreadable change: the count is not known any more
        return
      }
      if (!found.earlier) this.expunged(found.uids.length)
    })
  }

  /** `n` messages were expunged from the view (a VANISHED a command's own handler received). */
  expunged(n: number): void {
    if (this.count !== undefined) this.set(Math.max(0, this.count - n))
  }

  /** A folder was opened with this EXISTS (or none is selected: undefined). */
  reset(exists: number | undefined): void {
    this.count = exists
    this.window = undefined
  }

  /**
   * Runs `fn` and returns its result with the counts seen while it ran (from the count before
   * it to every count reported during it), or undefined when no count is known.
   */
  async observe<T>(fn: () => Promise<T>): Promise<{result: T; window: CountWindow | undefined}> {
    this.window = this.count === undefined ? undefined : {low: this.count, high: this.count}
    try {
      const result = await fn()
      const window = this.count === undefined ? undefined : this.window
      return {result, window}
    } finally {
      this.window = undefined
    }
  }

  private set(n: number): void {
    this.count = n
    if (this.window !== undefined) {
      this.window.low = Math.min(this.window.low, n)
      this.window.high = Math.max(this.window.high, n)
    }
  }

  /** Our update first, then imapflow's own handler (it keeps its state for its own commands). */
  private wrap(flow: FlowInternals, name: string, update: (untagged: ImapResponse) => void): void {
    const previous: UntaggedHandler | null | undefined = flow.untaggedHandlers[name]
    flow.untaggedHandlers[name] = async (untagged) => {
      update(untagged)
      await previous?.(untagged)
    }
  }
}
