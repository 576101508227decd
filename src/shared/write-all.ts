/**
 * Writes all of a piece of data to a file. write(2) may store fewer bytes than it was given
 * without an error: a file system filling up stores what still fits (tmpfs stores whole pages),
 * a process at its file-size limit stores up to the limit. Only the next write fails. A caller
 * that took one write for all of it would go on (fsync, rename) with a file cut short: the
 * disk-full reliability suite found a `.imap` replaced by its first 4,096 bytes that way.
 */
import type {FileHandle} from 'node:fs/promises'

/**
 * Writes `data` at `position` (or at the handle's current position, the end for O_APPEND),
 * looping until every byte is written; the write that cannot store anything throws.
 */
export async function writeAll(handle: FileHandle, data: string | Buffer, position?: number): Promise<void> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data
  let done = 0
  while (done < bytes.length) {
    const {bytesWritten} = await handle.write(bytes, done, bytes.length - done, position === undefined ? null : position + done)
    if (bytesWritten === 0) throw nothingWritten()
    done += bytesWritten
  }
}

/** Writes every piece at the handle's current position, in one writev when the file system lets it. */
export async function writePieces(handle: FileHandle, pieces: readonly Buffer[]): Promise<void> {
  let pending = pieces.filter((p) => p.length > 0)
  while (pending.length > 0) {
    const {bytesWritten} = await handle.writev(pending)
    if (bytesWritten === 0) throw nothingWritten()
    let done = bytesWritten
    const rest: Buffer[] = []
    for (const piece of pending) {
      if (done >= piece.length) done -= piece.length
      else {
        rest.push(done === 0 ? piece : piece.subarray(done))
        done = 0
      }
    }
    pending = rest
  }
}

/** A write that stores nothing and reports no error: never seen, but looping on it would spin. */
function nothingWritten(): Error {
  return Object.assign(new Error('a write stored no bytes'), {code: 'EIO'})
}
