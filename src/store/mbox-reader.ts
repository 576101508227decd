/**
 * Reads a folder's mbox by byte range, through one file handle kept open between reads. A reader
 * (read mode) opens it as part of its snapshot (read-snapshot.ts), so every read comes from the
 * file whose size it took; a writer opens it at the first read. A range that ends past the end
 * of the file is damage: the metadata promised those bytes.
 */
import {constants, type FileHandle} from 'node:fs/promises'
import {errnoCode, localIoError, type DamagedError} from '../shared/errors.js'
import {sizeIfPresent} from './file-ops.js'
import {openNoFollow} from './safe-path.js'

export class MboxReader {
  private handle: FileHandle | undefined

  constructor(
    private readonly path: string,
    private readonly damaged: (message: string) => DamagedError,
  ) {}

  /** Opens the mbox for all later reads; its size, or undefined when there is none. */
  async openIfPresent(): Promise<number | undefined> {
    try {
      this.handle = await openNoFollow(this.path, constants.O_RDONLY, 0o600)
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined
      throw localIoError(error, 'open', this.path)
    }
    const info = await this.handle.stat()
    if (!info.isFile()) throw this.damaged(`'${this.path}' is not a regular file`)
    return info.size
  }

  async readRange(offset: number, length: number): Promise<Buffer> {
    this.handle ??= await openNoFollow(this.path, constants.O_RDONLY, 0o600).catch((error: unknown) => {
      throw localIoError(error, 'open', this.path)
    })
    const buffer = Buffer.allocUnsafe(length)
    let done = 0
    while (done < length) {
      const {bytesRead} = await this.handle.read(buffer, done, length - done, offset + done)
      if (bytesRead === 0) throw this.damaged(`.mbox file '${this.path}' ends before byte ${offset + length}`)
      done += bytesRead
    }
    return buffer
  }

  async readWhole(): Promise<Buffer> {
    const size = (await sizeIfPresent(this.path)) ?? 0
    return size === 0 ? Buffer.alloc(0) : this.readRange(0, size)
  }

  /** Closes the handle; the next read opens the file again (after a rename or a rewrite, the new one). */
  async close(): Promise<void> {
    const handle = this.handle
    this.handle = undefined
    await handle?.close()
  }
}
