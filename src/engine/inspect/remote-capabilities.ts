/**
 * `remote capabilities EMAIL`: what the server announces once logged in (RFC 3501 §6.1.1; the
 * list after LOGIN can differ from the greeting's), in the server's order, upper-case.
 */
import type {RunContext} from '../../shared/context.js'
import {withRemoteSession, type RemoteQuery} from '../access/remote-session.js'

export async function remoteCapabilities(query: RemoteQuery, ctx: RunContext): Promise<string[]> {
  return withRemoteSession(query, ctx, async (session) => [...session.capabilities.all])
}
