/** STATUS (RFC 3501 §6.3.10), HIGHESTMODSEQ from RFC 7162 §3.1.2.1. */
import type {ImapResponse} from 'imapflow'
import {command, type FlowInternals, type WireNode} from '../flow-internals.js'
import {parseStatusList} from '../response.js'
import type {FolderStatus} from '../types.js'

export async function statusCommand(flow: FlowInternals, mailbox: WireNode, items: string[]): Promise<FolderStatus> {
  let status: FolderStatus | undefined
  await command(flow, 'STATUS', [mailbox, items.map((item): WireNode => ({type: 'ATOM', value: item}))], {
    STATUS: (untagged: ImapResponse) => {
      status = parseStatusList(untagged.attributes?.[1])
    },
  })
  // A tagged OK without the untagged STATUS: imapflow would hand back `false`; we say it.
  if (status === undefined) throw Object.assign(new Error('STATUS completed without STATUS data'), {code: 'InvalidResponse'})
  return status
}
