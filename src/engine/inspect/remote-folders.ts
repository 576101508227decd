/**
 * `remote folders EMAIL`: the server's folders as LIST returns them (RFC 3501 §6.3.8), names
 * decoded from modified UTF-7 (§5.1.3), in the server's order. Unlike the backup, folders marked
 * `\Noselect` are listed too: `attributes` tells them apart.
 */
import type {RunContext} from '../../shared/context.js'
import {withRemoteSession, type RemoteQuery} from '../access/remote-session.js'

export interface RemoteFolderEntry {
  /** The full name, prefix and delimiters included (`INBOX.Sent`), UTF-8. */
  name: string
  /** The hierarchy delimiter, or null for a flat name. */
  delimiter: string | null
  /** LIST attributes as the server sent them (`\HasNoChildren`, `\Noselect`, `\Sent`, …). */
  attributes: string[]
}

export async function listRemoteFolders(query: RemoteQuery, ctx: RunContext): Promise<RemoteFolderEntry[]> {
  return withRemoteSession(query, ctx, async (session) => {
    const folders = await session.listFolders()
    return folders.map((f) => ({name: f.name, delimiter: f.delimiter, attributes: [...f.flags]}))
  })
}
