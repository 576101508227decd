/**
 * `mailkeep local show EMAIL FOLDER UID[,UID...]`: the stored messages, read through the store
 * (`FolderStore.readMessage`): for entries mailkeep wrote, the exact bytes the server sent; for
 * entries imap-backup wrote, its stored text (compat §4.2). Read-only (shared lock).
 */
import type {Config} from '../../config/index.js'
import type {RunContext} from '../../shared/context.js'
import {UsageError} from '../../shared/errors.js'
import {findAccount} from '../access/account-access.js'
import {openLocalFolder, openStoreIfPresent} from './local-access.js'

export interface ShownMessage {
  uid: number
  offset: number
  length: number
  flags: string[]
  /** True when `bytes` are exactly what the server sent (an exactness record exists). */
  exact: boolean
  bytes: Buffer
}

export async function showMessages(config: Config, email: string, folderName: string, uids: readonly number[], ctx: RunContext): Promise<ShownMessage[]> {
  const account = findAccount(config, email)
  const store = await openStoreIfPresent(config, account, ctx)
  try {
    const folder = await openLocalFolder(store, account, folderName, ctx)
    try {
      const missing = uids.filter((uid) => !folder.has(uid))
      if (missing.length > 0) {
        throw new UsageError(`UID ${missing.join(', ')} not found in folder '${folderName}'`, {hint: `\`mailkeep local list ${account.username} ${JSON.stringify(folderName)}\` lists the stored UIDs`})
      }
      const out: ShownMessage[] = []
      for (const uid of uids) {
        const entry = folder.entry(uid)!
        const {bytes, exact} = await folder.readMessage(uid)
        out.push({uid, offset: entry.offset, length: entry.length, flags: [...entry.flags], exact, bytes})
      }
      return out
    } finally {
      await folder.close()
    }
  } finally {
    await store?.close()
  }
}
