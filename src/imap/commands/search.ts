/** UID SEARCH (RFC 3501 §6.4.4, §6.4.8): UID, LARGER, UNSEEN, HEADER, or ALL. */
import type {ImapResponse} from 'imapflow'
import {command, type FlowInternals, type WireNode} from '../flow-internals.js'
import {text} from '../response.js'

export interface SearchCriteria {
  uidRange?: string
  larger?: number
  unseen?: boolean
  /** HEADER <field-name> <string>: messages whose field contains the string. */
  header?: {field: string; value: string}
}

export async function uidSearch(flow: FlowInternals, criteria: SearchCriteria): Promise<number[]> {
  const keys: WireNode[] = []
  if (criteria.uidRange !== undefined) keys.push({type: 'ATOM', value: 'UID'}, {type: 'SEQUENCE', value: criteria.uidRange})
  if (criteria.larger !== undefined) keys.push({type: 'ATOM', value: 'LARGER'}, {type: 'ATOM', value: String(Math.max(0, Math.floor(criteria.larger)))})
  if (criteria.unseen) keys.push({type: 'ATOM', value: 'UNSEEN'})
  if (criteria.header !== undefined) keys.push({type: 'ATOM', value: 'HEADER'}, {type: 'STRING', value: criteria.header.field}, {type: 'STRING', value: criteria.header.value})
  if (keys.length === 0) keys.push({type: 'ATOM', value: 'ALL'})
  const uids: number[] = []
  await command(flow, 'UID SEARCH', keys, {
    SEARCH: (untagged: ImapResponse) => {
      for (const node of untagged.attributes ?? []) {
        // With CONDSTORE a SEARCH may end in `(MODSEQ n)` (RFC 7162 §3.1.5): not a UID.
        const value = Array.isArray(node) ? null : text(node)
        if (value !== null && /^\d+$/.test(value)) uids.push(Number(value))
      }
    },
  })
  return uids.sort((a, b) => a - b)
}
