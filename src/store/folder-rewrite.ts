/**
 * The two whole-folder rewrites' own parts (FolderStore.removeMessages and .requote): writing the
 * new mbox beside the old one (`.mbox.compact`), and deciding which entries requote changes. The
 * commit of a rewrite (exactness file, `.imap.compact`, then the swap) stays with FolderStore,
 * which owns the metadata (docs/design.md, Recovery step 1).
 */
import {constants} from 'node:fs/promises'
import {DamagedError, InternalError, localIoError} from '../shared/errors.js'
import {writeAll} from '../shared/write-all.js'
import {removeIfPresent} from './file-ops.js'
import type {FolderPaths} from './folder-paths.js'
import {COPY_CHUNK} from './entry-reads.js'
import {decodeEntry, fromExactnessTuple, strictToCompat, type QuotingRule} from './mboxrd/index.js'
import type {MboxReader} from './mbox-reader.js'
import {MessageTable, type ReadonlyMessageTable} from './message-table.js'
import {openNoFollow} from './safe-path.js'

/** One row of a rewrite: dropped, copied as it is, or replaced by these bytes. */
export type RewriteStep = 'drop' | 'copy' | Buffer

export interface RequoteResult {
  /** Entries still marked with mailkeep 0.1.0's strict rule. */
  strict: number
  /** Of these, entries whose bytes change (a `>From` line without the space gets one more `>`). */
  rewritten: number
  /** Bytes the mbox grows by. */
  bytesAdded: number
}

/**
 * Writes `.mbox.compact` (fsynced): for each row, what `plan` says; copied entries that follow
 * each other are copied together. Returns the table of the new mbox, with each kept record
 * marked by `quoting` (default: as it was). On failure the file is removed and nothing else
 * changed.
 */
export async function writeCompactMbox(
  reader: MboxReader,
  paths: FolderPaths,
  messages: ReadonlyMessageTable,
  plan: (row: number) => RewriteStep | Promise<RewriteStep>,
  quoting?: (row: number) => QuotingRule,
): Promise<MessageTable> {
  const kept = new MessageTable(messages.length)
  await removeIfPresent(paths.mboxCompact)
  const out = await openNoFollow(paths.mboxCompact, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600).catch((error: unknown) => {
    throw localIoError(error, 'create', paths.mboxCompact)
  })
  try {
    let position = 0
    /** Copied entries that follow each other, written together. */
    let pending: [number, number] | undefined
    const flush = async (): Promise<void> => {
      if (pending === undefined) return
      const [start, length] = pending
      pending = undefined
      for (let done = 0; done < length; done += COPY_CHUNK) {
        const chunk = await reader.readRange(start + done, Math.min(COPY_CHUNK, length - done))
        await writeAll(out, chunk, position)
        position += chunk.length
      }
    }
    let offset = 0
    for (let row = 0; row < messages.length; row++) {
      const step = await plan(row)
      if (step === 'drop') continue
      const start = messages.offsetAt(row)
      const length = step === 'copy' ? messages.lengthAt(row) : step.length
      const record = messages.exactnessAt(row)
      kept.push({uid: messages.uidAt(row), offset, length, flags: messages.flagsAt(row)}, record, record === undefined ? undefined : (quoting?.(row) ?? messages.quotingAt(row)))
      offset += length
      if (step === 'copy') {
        if (pending !== undefined && pending[0] + pending[1] === start) pending[1] += length
        else {
          await flush()
          pending = [start, length]
        }
      } else {
        await flush()
        await writeAll(out, step, position)
        position += step.length
      }
    }
    await flush()
    await out.sync()
  } catch (error) {
    await out.close().catch(() => {})
    await removeIfPresent(paths.mboxCompact)
    if (error instanceof DamagedError || error instanceof InternalError) throw error
    throw localIoError(error, 'write', paths.mboxCompact)
  }
  await out.close()
  return kept
}

/**
 * Which entries marked with the strict rule requote changes: the counts, and for each changed
 * row how many bytes it grows by.
 */
export async function requoteCounts(reader: MboxReader, messages: ReadonlyMessageTable): Promise<{result: RequoteResult; added: Map<number, number>}> {
  const result: RequoteResult = {strict: 0, rewritten: 0, bytesAdded: 0}
  const added = new Map<number, number>()
  for (let row = 0; row < messages.length; row++) {
    if (messages.quotingAt(row) !== 'strict') continue
    result.strict++
    const entry = await reader.readRange(messages.offsetAt(row), messages.lengthAt(row))
    const converted = strictToCompat(entry)
    if (converted === entry) continue
    added.set(row, converted.length - entry.length)
    result.rewritten++
    result.bytesAdded += converted.length - entry.length
  }
  return {result, added}
}

/**
 * The entry of `row` requoted, after checking that it reads back as the very message it held
 * (both decoded with its record): otherwise nothing may be written (I6).
 */
export async function requotedEntry(reader: MboxReader, messages: ReadonlyMessageTable, row: number, exactPath: string, undecodable: (uid: number, error: unknown) => Error): Promise<Buffer> {
  const entry = await reader.readRange(messages.offsetAt(row), messages.lengthAt(row))
  const converted = strictToCompat(entry)
  const uid = messages.uidAt(row)
  const {record} = fromExactnessTuple(messages.exactnessAt(row), `${exactPath}, UID ${uid}`)
  let same = false
  try {
    same = decodeEntry(converted, record, 'compat').equals(decodeEntry(entry, record, 'strict'))
  } catch (error) {
    throw undecodable(uid, error)
  }
  if (!same) throw new InternalError(`requoting UID ${uid} would change the message`)
  return converted
}
