/** `* VANISHED [(EARLIER)] uid-set` (RFC 7162 §3.2.10). */
import type {ImapResponse} from 'imapflow'
import {strings, text} from '../response.js'
import {expandUidSet} from '../uid-set.js'

export function vanishedUids(untagged: ImapResponse): {earlier: boolean; uids: number[]} {
  const attributes = untagged.attributes ?? []
  let earlier = false
  let setNode = attributes[0]
  if (Array.isArray(setNode)) {
    earlier = strings(setNode).some((tag) => tag.toUpperCase() === 'EARLIER')
    setNode = attributes[1]
  }
  const set = text(setNode)
  if (set === null) return {earlier, uids: []}
  try {
    return {earlier, uids: expandUidSet(set)}
  } catch (error) {
    throw Object.assign(new Error(`unusable VANISHED response: ${(error as Error).message}`), {code: 'InvalidResponse', cause: error})
  }
}
