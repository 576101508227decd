/**
 * UID EXPUNGE (RFC 4315 §2.1) when the server has UIDPLUS: only the given messages go. Without
 * it, EXPUNGE (RFC 3501 §6.4.3) removes every message of the folder flagged \Deleted.
 */
import {command, type FlowInternals} from '../flow-internals.js'

export async function expungeCommand(flow: FlowInternals, uidSet: string | undefined, uidplus: boolean): Promise<void> {
  if (uidSet !== undefined && uidplus) await command(flow, 'UID EXPUNGE', [{type: 'SEQUENCE', value: uidSet}])
  else await command(flow, 'EXPUNGE', false)
}
