/**
 * Temporary files of an atomic replace that a killed run left behind (kill -9, OOM killer, power
 * loss between the temp file's creation and its rename): `.<folder>.imap.<12 hex>.tmp`,
 * `.<folder>.imap.compact.<12 hex>.tmp` and the same for the exactness file `.mailkeep`
 * (src/shared/atomic-write.ts `atomicWriteChunks`). They
 * hold nothing that a committed file does not (the rename never happened, I2), but a killed run
 * that wrote a 15 MB `.imap` leaves 15 MB behind every time.
 *
 * A file is removed only when it provably is such a leftover:
 * - ours: exactly that name, for a folder whose `.imap` or `.mbox` is beside it, a regular file
 *   (lstat: a symlink or anything else is never touched), owned by the user mailkeep runs as;
 * - stale: the caller holds the account's exclusive lock (I5), and every writer of those files
 *   holds it while it writes, so no live process can be writing one.
 * `local check` (shared lock) only reports them.
 */
import {lstat, readdir, unlink} from 'node:fs/promises'
import {join} from 'node:path'
import {errnoCode, localIoError} from '../shared/errors.js'
import type {Logger} from '../shared/logger.js'

/** `.<folder base>.{imap,mailkeep}[.compact].<12 lower-case hex>.tmp` */
const TEMP_NAME = /^\.(.+)\.(?:imap|mailkeep)(?:\.compact)?\.[0-9a-f]{12}\.tmp$/

export interface StaleTempFile {
  /** Absolute path. */
  path: string
  /** Path relative to the account root of the folder it belongs to, without suffix (`Work/Projects`). */
  folderBase: string
  bytes: number
}

/** Every leftover temporary file under `root` (symlinked directories are not followed). */
export async function findStaleTempFiles(root: string): Promise<StaleTempFile[]> {
  const found: StaleTempFile[] = []
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined
  const walk = async (dir: string, prefix: string): Promise<void> => {
    let entries
    try {
      entries = await readdir(dir, {withFileTypes: true})
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return
      throw localIoError(error, 'list', dir)
    }
    const names = new Set(entries.map((e) => e.name))
    for (const entry of entries) {
      if (entry.isDirectory()) {
        await walk(join(dir, entry.name), `${prefix}${entry.name}/`)
        continue
      }
      const match = TEMP_NAME.exec(entry.name)
      if (match === null || !entry.isFile()) continue
      const base = match[1]!
      if (!names.has(`${base}.imap`) && !names.has(`${base}.mbox`)) continue
      const path = join(dir, entry.name)
      const info = await lstat(path).catch(() => undefined)
      if (info === undefined || !info.isFile() || (uid !== undefined && uid !== 0 && info.uid !== uid)) continue
      found.push({path, folderBase: `${prefix}${base}`, bytes: info.size})
    }
  }
  await walk(root, '')
  return found
}

/**
 * Removes the leftovers findStaleTempFiles() finds. The caller MUST hold the account's exclusive
 * lock. Returns what was removed (logged as a warning, as recovery's other repairs are).
 */
export async function removeStaleTempFiles(root: string, logger: Logger): Promise<StaleTempFile[]> {
  const removed: StaleTempFile[] = []
  for (const file of await findStaleTempFiles(root)) {
    try {
      await unlink(file.path)
      removed.push(file)
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw localIoError(error, 'remove', file.path)
    }
  }
  if (removed.length > 0) {
    const bytes = removed.reduce((sum, f) => sum + f.bytes, 0)
    logger.warn(`removed ${removed.length} temporary file(s) (${bytes} bytes) left by an interrupted run`, {files: removed.map((f) => f.path)})
  }
  return removed
}
