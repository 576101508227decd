/**
 * The one atomic-replace helper (the only importer of write-file-atomic). Every non-append write
 * of mailkeep goes through here: temp file in the same directory, fsync, rename over the target,
 * then fsync of the directory so that the rename itself survives a power loss.
 */
import {open} from 'node:fs/promises'
import {dirname} from 'node:path'
import writeFileAtomicModule from 'write-file-atomic'
import {localIoError} from './errors.js'

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
