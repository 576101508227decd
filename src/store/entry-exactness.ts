/**
 * The original sizes (RFC822.SIZE) a scanned mbox entry can have been written from, and the
 * exactness records that would decode it to a given size (docs/mbox-format.md §3), verified by
 * decoding the entry: how `local repair` pairs an entry with a server message and restores its
 * exact bytes.
 */
import {constants} from 'node:fs/promises'
import {DamagedError} from '../shared/errors.js'
import {readChunks} from './read-chunks.js'
import {MboxrdDecoder, type ExactnessRecord, type QuotingRule} from './mboxrd/index.js'
import {openNoFollow} from './safe-path.js'
import type {ScannedEntry} from './mbox-scan.js'

/**
 * The range of original sizes (RFC822.SIZE) an entry can have been written from, read with the
 * strict rule or the compat one (which is also imap-backup's, `legacy`).
 */
export function sizeRange(entry: ScannedEntry, rule: 'strict' | 'legacy'): {min: number; max: number} | undefined {
  if (!entry.complete) return undefined
  const text = entry.length - entry.separatorLength - quotesRemoved(entry, rule === 'strict' ? 'strict' : 'compat')
  let min = Number.POSITIVE_INFINITY
  let max = Number.NEGATIVE_INFINITY
  for (const a of appendedChoices(entry)) {
    const length = text - a
    const breaks = entry.lineBreaks - a
    if (length < 0 || breaks < 0) continue
    min = Math.min(min, length)
    max = Math.max(max, length + breaks)
  }
  return min <= max ? {min, max} : undefined
}

/** How many `>` the reading rule removes from the entry's body. */
function quotesRemoved(entry: ScannedEntry, rule: QuotingRule): number {
  return rule === 'strict' ? entry.strictQuotes : entry.legacyQuotes
}

/**
 * The exactness records that would decode the entry (written with the quoting rule `rule`) to a
 * message of `size` bytes, assuming uniform line endings (all CRLF, as servers send, or all bare
 * LF). A mixed message gives none; a tiny message may give two. The caller verifies a single
 * candidate with verifyExactness, and fetches the body when there is not exactly one.
 */
export function exactnessCandidates(entry: ScannedEntry, size: number, rule: QuotingRule): ExactnessRecord[] {
  if (!entry.complete) return []
  const text = entry.length - entry.separatorLength - quotesRemoved(entry, rule)
  const out: ExactnessRecord[] = []
  for (const appended of appendedChoices(entry)) {
    const length = text - appended
    const breaks = entry.lineBreaks - appended
    if (length < 0 || breaks < 0) continue
    if (length + breaks === size) out.push({size, appended, eol: 0})
    else if (breaks > 0 && length === size) out.push({size, appended, eol: 1})
  }
  return out
}

/** Padding the encoder can have added, given the LFs the entry ends with (docs/mbox-format.md §3). */
function appendedChoices(entry: ScannedEntry): Array<0 | 1 | 2> {
  if (entry.trailingLfs >= 3) return [0]
  if (entry.trailingLfs === 2) return [0, 1, 2]
  return []
}

/** True if the entry decodes with the record and the rule (size checked), read in bounded chunks. */
export async function verifyExactness(mboxPath: string, entry: Pick<ScannedEntry, 'offset' | 'length'>, record: ExactnessRecord, rule: QuotingRule): Promise<boolean> {
  const handle = await openNoFollow(mboxPath, constants.O_RDONLY)
  try {
    const decoder = new MboxrdDecoder(record, rule)
    for await (const chunk of readChunks(handle, entry.offset, entry.offset + entry.length)) decoder.push(chunk)
    decoder.end()
    return true
  } catch (error) {
    if (error instanceof DamagedError) return false
    throw error
  } finally {
    await handle.close()
  }
}

/** The stored bytes of an entry (for comparing with a message fetched from the server). */
export async function readEntryBytes(mboxPath: string, entry: Pick<ScannedEntry, 'offset' | 'length'>): Promise<Buffer> {
  const handle = await openNoFollow(mboxPath, constants.O_RDONLY)
  try {
    const out = Buffer.alloc(entry.length)
    let done = 0
    while (done < entry.length) {
      const {bytesRead} = await handle.read(out, done, entry.length - done, entry.offset + done)
      if (bytesRead === 0) throw new DamagedError(`'${mboxPath}' ends before byte ${entry.offset + entry.length}`)
      done += bytesRead
    }
    return out
  } finally {
    await handle.close()
  }
}
