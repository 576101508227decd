/**
 * Whether a writer is at work on an account now, as far as a reader can tell without taking the
 * lock (which would refuse a backup starting at that moment): the pid the writer wrote into
 * `.mailkeep.lock` (lock.ts clears it when it lets go), if that process is alive. Used only for
 * what messages say ("a backup (pid 1234) is writing this folder"): a pid the system has since
 * given to another process makes a message wrong, never a read.
 */
import {constants, open} from 'node:fs/promises'
import {join} from 'node:path'
import {LOCK_FILE_NAME} from './lock.js'

export async function liveWriterPid(root: string): Promise<number | undefined> {
  let text: string
  try {
    // O_NOFOLLOW: a symlink there is reported by `local check`, not read through.
    const handle = await open(join(root, LOCK_FILE_NAME), constants.O_RDONLY | constants.O_NOFOLLOW)
    try {
      text = await handle.readFile('ascii')
    } finally {
      await handle.close()
    }
  } catch {
    return undefined
  }
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
