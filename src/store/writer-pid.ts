/**
 * Whether a writer is at work on an account now, as far as a reader can tell without taking the
 * lock (which would refuse a backup starting at that moment): the pid the writer wrote into
 * `.mailkeep.lock` (lock.ts clears it when it lets go), if that process is alive. Used only for
 * what messages say ("a backup (pid 1234) is writing this folder"): a pid the system has since
 * given to another process makes a message wrong, never a read.
 *
 * @throws DamagedError when a symlink or a special file (a FIFO) stands where the lock belongs.
 */
import {join} from 'node:path'
import {DamagedError} from '../shared/errors.js'
import {readIfPresent} from './file-ops.js'
import {LOCK_FILE_NAME} from './lock.js'

export async function liveWriterPid(root: string): Promise<number | undefined> {
  let text: string | undefined
  try {
    // Never through a symlink, never blocking on a FIFO put there: a special file where the lock
    // belongs is refused as a writer would refuse it (DamagedError naming what it is).
    text = await readIfPresent(join(root, LOCK_FILE_NAME))
  } catch (error) {
    if (error instanceof DamagedError) throw error
    return undefined // the pid only decorates a message
  }
  if (text === undefined) return undefined
  const match = /^(\d{1,10})\n?$/.exec(text)
  if (match === null) return undefined
  const pid = Number(match[1])
  if (pid === process.pid) return pid
  try {
    process.kill(pid, 0)
    return pid
  } catch (error) {
    // EPERM: it exists and belongs to someone else (the backup runs as another user).
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined
  }
}
