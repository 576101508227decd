/**
 * Bounded reads of a file region: the mbox is read in chunks of at most 1 MiB, so a 50 MB
 * message or a 100,000-message folder costs no more memory than one chunk (`local check`,
 * `local repair`).
 */
import type {FileHandle} from 'node:fs/promises'

const READ_CHUNK = 1024 * 1024

/** The bytes [start, end) of the file, in chunks of at most 1 MiB (a fresh buffer each). */
export async function* readChunks(handle: FileHandle, start: number, end: number, signal?: AbortSignal): AsyncGenerator<Buffer, void, undefined> {
  let position = start
  while (position < end) {
    if (signal?.aborted) throw signal.reason
    const length = Math.min(READ_CHUNK, end - position)
    const buffer = Buffer.allocUnsafe(length)
    const {bytesRead} = await handle.read(buffer, 0, length, position)
    if (bytesRead === 0) return
    position += bytesRead
    yield bytesRead === length ? buffer : buffer.subarray(0, bytesRead)
  }
}

/** The bytes at `offset` (as many as fit in `into`, fewer at the end of the file). */
export async function readAt(handle: FileHandle, into: Buffer, offset: number, size: number): Promise<Buffer> {
  if (offset >= size) return Buffer.alloc(0)
  const {bytesRead} = await handle.read(into, 0, Math.min(into.length, size - offset), offset)
  return into.subarray(0, bytesRead)
}
