/**
 * UID SEARCH (commands/search.ts) checked against what the session was told. `UID SEARCH ALL`
 * names every message of the folder, so it must name as many as the session was told the folder
 * holds while the command ran (and each once): an answer that contradicts the session's own state
 * is a failed comparison, never "these are all" (docs/backup.md B1; issue 11 item 9: an empty
 * answer after '* 7 EXISTS' would have made mirror mode delete every local message).
 */
import {RemoteError} from '../shared/errors.js'
import {uidSearch, type SearchCriteria} from './commands/search.js'
import {command, type FlowInternals} from './flow-internals.js'
import type {CountWindow, MessageCount} from './message-count.js'
import {uidSetMatcher} from './uid-set.js'

export interface SearchParts {
  flow: FlowInternals
  count: MessageCount
  /** ESEARCH offered (RFC 4731): the answer as a UID set. */
  esearch: boolean
  server: string
  /** The selected folder, for messages. */
  folder: string | undefined
}

export async function checkedSearch(parts: SearchParts, criteria: SearchCriteria): Promise<number[]> {
  const {flow, count} = parts
  const search = (): Promise<{result: number[]; window: CountWindow | undefined}> => count.observe(() => uidSearch(flow, criteria, parts.esearch))
  let {result: uids, window} = await search()
  const all = criteria.uidRange === undefined && criteria.larger === undefined && criteria.unseen !== true && criteria.header === undefined
  if (all && contradicts(uids, window)) {
    // A server may keep an expunge or new mail for its next untagged answers: NOOP lets it
    // tell us (RFC 3501 §6.1.2), and the search is asked once more before it counts as a fault.
    await command(flow, 'NOOP', false)
    ;({result: uids, window} = await search())
    if (contradicts(uids, window)) refuseAll(parts, uids, window)
  }
  if (criteria.uidRange === undefined) return uids
  const inSet = uidSetMatcher(criteria.uidRange)
  return uids.filter(inSet)
}

function contradicts(uids: readonly number[], window: CountWindow | undefined): boolean {
  return distinctCount(uids) !== uids.length || (window !== undefined && (uids.length < window.low || uids.length > window.high))
}

function refuseAll({server, folder}: SearchParts, uids: readonly number[], window: CountWindow | undefined): never {
  const distinct = distinctCount(uids)
  const told = window === undefined ? '' : window.low === window.high ? ` while it reported ${window.low} message(s) in the folder (EXISTS)` : ` while it reported between ${window.low} and ${window.high} message(s) in the folder (EXISTS)`
  const repeated = distinct === uids.length ? '' : ` (${uids.length - distinct} of them repeated)`
  throw new RemoteError(`${server} answered UID SEARCH ALL in '${folder ?? '?'}' with ${uids.length} UID(s)${repeated}${told}; the answer contradicts itself, so nothing is concluded from it`, {
    hint: 'this is a server problem; rerun later, and report it to the server operator if it persists',
  })
}

/**
 * How many distinct UIDs a SEARCH answer holds. An answer in ascending order (an ESEARCH set
 * expanded, nearly every classic answer) holds each once without a Set of them: for 162,755
 * messages that Set was megabytes in the large-object space, freed only by a full collection.
 */
function distinctCount(uids: readonly number[]): number {
  let ascending = true
  for (let i = 1; i < uids.length && ascending; i++) ascending = (uids[i] as number) > (uids[i - 1] as number)
  return ascending ? uids.length : new Set(uids).size
}
