/**
 * UID SEARCH (RFC 3501 §6.4.4, §6.4.8): UID, LARGER, UNSEEN, HEADER, or ALL.
 *
 * With ESEARCH (RFC 4731) the command asks for `RETURN (ALL)`: the server answers with one
 * sequence set (`* ESEARCH (TAG "A5") UID ALL 1:162755`) instead of one number per message. A
 * classic `* SEARCH` answer for a folder of 162,755 messages is a line of about a megabyte that
 * the parser turns into 162,755 token objects, about 40 MB of heap for an instant: on a
 * first backup of a big folder that instant was the process's memory peak (docs/performance.md).
 */
import type {ImapAttribute, ImapResponse} from 'imapflow'
import {RemoteError} from '../../shared/errors.js'
import {command, type FlowInternals, type WireNode} from '../flow-internals.js'
import {text} from '../response.js'
import {expandUidSet, isValidUidSet} from '../uid-set.js'

export interface SearchCriteria {
  uidRange?: string
  larger?: number
  unseen?: boolean
  /** HEADER <field-name> <string>: messages whose field contains the string. */
  header?: {field: string; value: string}
}

export async function uidSearch(flow: FlowInternals, criteria: SearchCriteria, esearch = false): Promise<number[]> {
  const keys: WireNode[] = []
  if (criteria.uidRange !== undefined) keys.push({type: 'ATOM', value: 'UID'}, {type: 'SEQUENCE', value: criteria.uidRange})
  if (criteria.larger !== undefined) keys.push({type: 'ATOM', value: 'LARGER'}, {type: 'ATOM', value: String(Math.max(0, Math.floor(criteria.larger)))})
  if (criteria.unseen) keys.push({type: 'ATOM', value: 'UNSEEN'})
  if (criteria.header !== undefined) keys.push({type: 'ATOM', value: 'HEADER'}, {type: 'STRING', value: criteria.header.field}, {type: 'STRING', value: criteria.header.value})
  if (keys.length === 0) keys.push({type: 'ATOM', value: 'ALL'})
  const uids: number[] = []
  if (esearch) {
    // RFC 4731 §3.1: with no match the server leaves ALL out of the ESEARCH response. The
    // answer is read once the command is done: imapflow swallows what an untagged handler throws.
    const answers: ImapAttribute[][] = []
    await command(flow, 'UID SEARCH', [{type: 'ATOM', value: 'RETURN'}, [{type: 'ATOM', value: 'ALL'}], ...keys], {
      ESEARCH: (untagged: ImapResponse) => {
        answers.push(untagged.attributes ?? [])
      },
    })
    for (const attributes of answers) for (const uid of allOfEsearch(attributes)) uids.push(uid)
  } else {
    await command(flow, 'UID SEARCH', keys, {
      SEARCH: (untagged: ImapResponse) => {
        for (const node of untagged.attributes ?? []) {
          // With CONDSTORE a SEARCH may end in `(MODSEQ n)` (RFC 7162 §3.1.5): not a UID.
          const value = Array.isArray(node) ? null : text(node)
          if (value !== null && /^\d+$/.test(value)) uids.push(Number(value))
        }
      },
    })
  }
  return uids.sort((a, b) => a - b)
}

/**
 * The UIDs of an ESEARCH response's `ALL` (RFC 4731 §3.1: `search-correlator` (a list), then
 * `UID`, then pairs of return data `name value`). A set that does not parse, or one that would
 * expand to more members than any folder can hold (a hostile `1:4294967295`), is a RemoteError:
 * nothing may be concluded from it.
 */
function allOfEsearch(attributes: ImapAttribute[]): number[] {
  // text() is null for the correlator list: it is skipped like any other non-atom.
  const items = attributes.map(text)
  for (let i = 0; i < items.length; i++) {
    if (items[i]?.toUpperCase() !== 'ALL') continue
    const set = items[i + 1]
    try {
      if (set === null || set === undefined) throw new Error('ALL without a set')
      if (!isValidUidSet(set) || set.includes('*')) throw new Error(`${JSON.stringify(set.slice(0, 60))} is not a set of UIDs`)
      return expandUidSet(set)
    } catch (error) {
      throw new RemoteError(`the server answered UID SEARCH with an unusable ESEARCH result (${(error as Error).message})`, {cause: error})
    }
  }
  return []
}
