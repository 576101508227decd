/**
 * NAMESPACE (RFC 2342). Without the capability there is no namespace information; the personal
 * namespace is then the root with the delimiter of `LIST "" ""` (RFC 3501 §6.3.8).
 */
import type {ImapAttribute, ImapResponse} from 'imapflow'
import {command, type FlowInternals} from '../flow-internals.js'
import {decodeMailboxName} from '../mutf7.js'
import {list, text} from '../response.js'
import type {NamespaceEntry, Namespaces} from '../types.js'

export async function namespaceCommand(flow: FlowInternals): Promise<Namespaces> {
  if (!flow.capabilities.has('NAMESPACE')) {
    let delimiter: string | null = null
    await command(flow, 'LIST', [{type: 'STRING', value: ''}, {type: 'STRING', value: ''}], {
      LIST: (untagged: ImapResponse) => {
        delimiter = text(untagged.attributes?.[1])
      },
    })
    return {personal: [{prefix: '', delimiter}], other: [], shared: []}
  }
  let result: Namespaces = {personal: [], other: [], shared: []}
  await command(flow, 'NAMESPACE', false, {
    NAMESPACE: (untagged: ImapResponse) => {
      const [personal, other, shared] = untagged.attributes ?? []
      result = {personal: entries(personal), other: entries(other), shared: entries(shared)}
    },
  })
  return result
}

function entries(node: ImapAttribute | undefined): NamespaceEntry[] {
  return list(node).map((entry) => {
    const [prefix, delimiter] = list(entry)
    return {prefix: decodeMailboxName(text(prefix) ?? ''), delimiter: text(delimiter)}
  })
}
