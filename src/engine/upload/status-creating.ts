import type {FolderStatus, ImapSession} from '../../imap/types.js'
import {RemoteError} from '../../shared/errors.js'

/**
 * STATUS of a destination folder, creating it when it does not exist. A folder that exists only
 * as a \Noselect parent (Dovecot answers NO to STATUS for it) counts as missing: CREATE turns it
 * into a real folder (RFC 3501 §6.3.3).
 */
export async function statusCreating(session: ImapSession, name: string): Promise<{status: FolderStatus; created: boolean}> {
  try {
    return {status: await session.status(name), created: false}
  } catch (error) {
    if (!(error instanceof RemoteError)) throw error
    try {
      await session.createFolder(name)
    } catch (createError) {
      // Another client may have created it since the STATUS: Cyrus answers a bare "NO Mailbox
      // already exists", without RFC 5530's [ALREADYEXISTS] (which the CREATE command already
      // takes as success). A folder that STATUS now finds is that folder: used, not created.
      if (!(createError instanceof RemoteError)) throw createError
      const status = await session.status(name).catch(() => undefined)
      if (status === undefined) throw createError
      return {status, created: false}
    }
    return {status: await session.status(name), created: true}
  }
}
