/**
 * The one atomic-replace helper (the only importer of write-file-atomic). Every non-append write
 * of mailkeep goes through here: temp file in the same directory, fsync, rename over the target,
 * then fsync of the directory so that the rename itself survives a power loss.
 */
import {randomBytes} from 'node:crypto'
import {open, rename, unlink} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'
import writeFileAtomicModule from 'write-file-atomic'
import {localIoError} from './errors.js'
import {writeAll} from './write-all.js'

export interface AtomicWriteOptions {
  /** File mode for a newly created file; an existing file keeps its mode unless given. */
  mode?: number
}

export async function atomicWrite(path: string, data: string | Buffer, options: AtomicWriteOptions = {}): Promise<void> {
  try {
    await writeFileAtomicModule(path, data, {fsync: true, ...(options.mode === undefined ? {} : {mode: options.mode})})
    await fsyncDirectory(dirname(path))
  } catch (error) {
    throw localIoError(error, 'write', path)
  }
}

/** Makes a directory entry change (create, rename, unlink) durable. */
export async function fsyncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/**
 * The same atomic replace for content produced piece by piece (a 160,000-message `.imap` is
 * ~15 MB of JSON): the pieces go to the temporary file as they come, so the whole text is never
 * held in memory. Temp file in the same directory, fsync, rename over the target, fsync of the
 * directory.
 */
export async function atomicWriteChunks(path: string, chunks: Iterable<string | Buffer>, options: AtomicWriteOptions = {}): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  let handle
  try {
    handle = await open(temp, 'wx', options.mode ?? 0o600)
    // Text pieces are encoded into one buffer, written when full: joining them into megabyte
    // strings made garbage in the large-object space, which only a full collection frees.
    const buffer = Buffer.allocUnsafe(WRITE_CHUNK)
    let used = 0
    for (const chunk of chunks) {
      const bytes = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length
      // Bytes kept from a file (a metadata file's unchanged entries), or a piece larger than the
      // buffer, are written as they are, after what the buffer holds.
      const direct = Buffer.isBuffer(chunk) || bytes > WRITE_CHUNK
      if (used > 0 && (direct || used + bytes > WRITE_CHUNK)) {
        await writeAll(handle, buffer.subarray(0, used))
        used = 0
      }
      if (direct) await writeAll(handle, typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
      else used += buffer.write(chunk as string, used)
    }
    if (used > 0) await writeAll(handle, buffer.subarray(0, used))
    await handle.sync()
    await handle.close()
    handle = undefined
    await rename(temp, path)
    await fsyncDirectory(dirname(path))
  } catch (error) {
    await handle?.close().catch(() => {})
    await unlink(temp).catch(() => {})
    throw localIoError(error, 'write', path)
  }
}

const WRITE_CHUNK = 1024 * 1024
