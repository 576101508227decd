/**
 * What a running backup has committed, read from its files while it runs (docs/design.md, "The
 * journal"): the `.imap` (replaced atomically, I2) plus every journal record followed by a
 * savepoint line (`c`). A torn last line is ignored, as recovery ignores it.
 *
 * "Ends at the last savepoint" is checked against this: everything seen committed at any moment
 * of the run (the snapshot taken right before a signal, or a poll while it ran) must still be in
 * the `.imap` the run left, and the mbox must end exactly where that `.imap` says (I3,
 * `checkAtSavepoint`). Reading `.imap` and then the journal can only under-report (a commit in
 * between folds the journal away), never report something that was not committed, so the check
 * is sound under any interleaving.
 */
import {readFileSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {parseJournal} from '../../../src/store/journal.js'
import type {RunCheck} from './ledger.js'
import {folderBase} from './verify.js'

export interface FolderCommit {
  uids: Set<number>
  /** Committed message count: the last savepoint's, else the `.imap`'s. */
  count: number
}

export type CommitState = Map<string, FolderCommit>

function parse(base: string, imap: string | undefined, journal: string | undefined): FolderCommit {
  const uids = new Set<number>()
  let count = 0
  if (imap !== undefined) {
    try {
      const meta = JSON.parse(imap) as {messages?: Array<{uid: number}>}
      for (const m of meta.messages ?? []) uids.add(m.uid)
      count = meta.messages?.length ?? 0
    } catch {
      // Not ours to judge here: checkAtSavepoint and local check report a bad .imap.
    }
  }
  if (journal !== undefined) {
    try {
      const contents = parseJournal(journal, `${base}.imap.journal`)
      for (const r of contents?.committed ?? []) {
        if (r.t === 'a') uids.add(r.m.uid)
        if (r.t === 'c') count = Math.max(count, r.count)
      }
    } catch {
      // A garbled header: recovery reports it; it commits nothing we could count on.
    }
  }
  return {uids, count}
}

const readSync = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

const readAsync = (path: string): Promise<string | undefined> => readFile(path, 'utf8').catch(() => undefined)

/** The committed state now, read synchronously (call it right before sending a signal). */
export function committedNow(root: string, folders: readonly string[]): CommitState {
  const out: CommitState = new Map()
  for (const f of folders) {
    const base = folderBase(root, f)
    out.set(f, parse(base, readSync(`${base}.imap`), readSync(`${base}.imap.journal`)))
  }
  return out
}

async function committedAsync(root: string, folders: readonly string[]): Promise<CommitState> {
  const out: CommitState = new Map()
  for (const f of folders) {
    const base = folderBase(root, f)
    const imap = await readAsync(`${base}.imap`)
    out.set(f, parse(base, imap, await readAsync(`${base}.imap.journal`)))
  }
  return out
}

export function totalCount(state: CommitState): number {
  return [...state.values()].reduce((n, f) => n + f.count, 0)
}

/**
 * Polls the committed state of a running backup and keeps the union of all it saw; `mark()`
 * takes the snapshot of the moment the signal goes out (or the disk fills).
 */
export class CommitWatch {
  private readonly seen: CommitState = new Map()
  private timer: NodeJS.Timeout | undefined
  private polling: Promise<void> = Promise.resolve()
  marked: CommitState | undefined

  constructor(
    private readonly root: string,
    private readonly folders: readonly string[],
    intervalMs = 15,
  ) {
    this.timer = setInterval(() => {
      this.polling = this.polling.then(async () => this.merge(await committedAsync(this.root, this.folders)))
    }, intervalMs)
  }

  /** The committed state now (synchronously), remembered as the state at the signal. */
  mark(): CommitState {
    this.marked = committedNow(this.root, this.folders)
    this.merge(this.marked)
    return this.marked
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    await this.polling
  }

  private merge(state: CommitState): void {
    for (const [f, c] of state) {
      const s = this.seen.get(f) ?? {uids: new Set<number>(), count: 0}
      for (const u of c.uids) s.uids.add(u)
      s.count = Math.max(s.count, c.count)
      this.seen.set(f, s)
    }
  }

  /**
   * After the run: the `.imap` of each folder (no journal may be left: `checkAtSavepoint`) keeps
   * every UID seen committed and at least the count committed at the mark. Returns the counts
   * at the mark and at the end, for the notes.
   */
  expectKept(check: RunCheck, what: string): {atMark: number; final: number} {
    const final = committedNow(this.root, this.folders)
    for (const [f, seen] of this.seen) {
      const now = final.get(f) ?? {uids: new Set<number>(), count: 0}
      const gone = [...seen.uids].filter((u) => !now.uids.has(u))
      check.addLost(gone.length, `${what}: UIDs of '${f}' seen committed during the run are not in its .imap: ${gone.slice(0, 10).join(',')}`)
      const atMark = this.marked?.get(f)?.count ?? 0
      check.expect(now.count >= atMark, `${what}: '${f}' holds ${now.count} messages, ${atMark} were committed when it was stopped`)
    }
    return {atMark: this.marked === undefined ? 0 : totalCount(this.marked), final: totalCount(final)}
  }
}
