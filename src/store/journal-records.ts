/**
 * A transaction's journal records (docs/design.md, "Transactions and savepoints"): made from what
 * it staged, and applied to the in-memory metadata by a commit and by recovery.
 */
import {WRITER_QUOTING, type QuotingRule} from './mboxrd/index.js'
import type {JournalRecord} from './journal.js'
import {addRestoredCopies, isDelimiter, isModseq, isPrefix, type FolderMetadata, type FolderServerState} from './metadata.js'
import type {MessageTable} from './message-table.js'

/**
 * Applies committed journal records to the in-memory metadata (also used by recovery); `quoting`
 * is the rule the journal's entries were written with (JournalContents.quoting).
 */
export function applyRecords(meta: FolderMetadata, records: readonly JournalRecord[], quoting: QuotingRule = WRITER_QUOTING): void {
  for (const r of records) {
    switch (r.t) {
      case 'a':
        meta.messages.push(r.m, r.x, quoting)
        break
      case 'f':
        meta.messages.setFlags(r.uid, r.flags)
        break
      case 's':
        if (r.uidnext !== undefined) meta.uidNext = r.uidnext
        if (r.highestmodseq !== undefined) meta.highestModseq = r.highestmodseq
        // Keys an older mailkeep did not write; read back after a crash, so checked like a file's.
        if (isModseq(r.flagsmodseq)) meta.flagsModseq = r.flagsmodseq
        if (isModseq(r.mirrormodseq)) meta.mirrorModseq = r.mirrormodseq
        // Written by us, but a journal is read back after a crash: only well-formed values count.
        if (isDelimiter(r.delimiter)) meta.delimiter = r.delimiter
        if (isPrefix(r.prefix)) meta.prefix = r.prefix
        if (Array.isArray(r.restored)) addRestoredCopies(meta, r.restored)
        break
      case 'c':
        break
    }
  }
}

/** The journal records of staged messages, made one by one as the journal writes them. */
export function* appendRecords(staged: MessageTable): Generator<JournalRecord> {
  for (let row = 0; row < staged.length; row++) {
    const exact = staged.exactnessAt(row)
    yield exact === undefined ? {t: 'a', m: staged.entryAt(row)} : {t: 'a', m: staged.entryAt(row), x: exact}
  }
}

/** The journal record of the server state a folder is complete up to (Transaction.setServerState). */
export function serverStateRecord(state: FolderServerState): JournalRecord {
  const record: JournalRecord = {t: 's'}
  if (state.uidNext !== undefined) record.uidnext = state.uidNext
  if (state.highestModseq !== undefined) record.highestmodseq = state.highestModseq
  if (state.flagsModseq !== undefined) record.flagsmodseq = state.flagsModseq
  if (state.mirrorModseq !== undefined) record.mirrormodseq = state.mirrorModseq
  if (state.delimiter !== undefined) record.delimiter = state.delimiter
  if (state.prefix !== undefined) record.prefix = state.prefix
  return record
}
