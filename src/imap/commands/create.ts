/**
 * CREATE (RFC 3501 §6.3.3), without the SUBSCRIBE that imapflow's mailboxCreate adds. A folder
 * that already exists (`NO [ALREADYEXISTS]`, RFC 5530 §3) counts as created.
 */
import {command, type FlowInternals, type WireNode} from '../flow-internals.js'
import {responseCode} from '../response.js'

export async function createCommand(flow: FlowInternals, mailbox: WireNode): Promise<void> {
  try {
    await command(flow, 'CREATE', [mailbox])
  } catch (error) {
    const response = (error as {response?: unknown}).response
    if (typeof response === 'object' && response !== null && responseCode(response)?.code === 'ALREADYEXISTS') return
    throw error
  }
}
