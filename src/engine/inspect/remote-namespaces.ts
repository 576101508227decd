/**
 * `remote namespaces EMAIL`: the first namespace of each kind (RFC 2342 NAMESPACE), in
 * imap-backup's JSON shape: `{"personal":{"prefix":"","delim":"."},"other":null,"shared":null}`
 * (compat §2.2). A server without NAMESPACE has one personal namespace: the root, with the
 * delimiter of `LIST "" ""`.
 */
import type {NamespaceEntry} from '../../imap/types.js'
import type {RunContext} from '../../shared/context.js'
import {withRemoteSession, type RemoteQuery} from '../access/remote-session.js'

export interface NamespaceInfo {
  /** Decoded from modified UTF-7, e.g. `INBOX.` or `""`. */
  prefix: string
  /** The hierarchy delimiter; null when the server sent NIL (a flat namespace). */
  delim: string | null
}

/** Key order is imap-backup's and part of the `--json` output. */
export interface RemoteNamespaces {
  personal: NamespaceInfo | null
  other: NamespaceInfo | null
  shared: NamespaceInfo | null
}

export async function remoteNamespaces(query: RemoteQuery, ctx: RunContext): Promise<RemoteNamespaces> {
  return withRemoteSession(query, ctx, async (session) => {
    const namespaces = await session.namespaces()
    return {personal: first(namespaces.personal), other: first(namespaces.other), shared: first(namespaces.shared)}
  })
}

function first(entries: readonly NamespaceEntry[]): NamespaceInfo | null {
  const entry = entries[0]
  return entry === undefined ? null : {prefix: entry.prefix, delim: entry.delimiter}
}
