import {uidSetMatcher} from './uid-set.js'

/**
 * Marks progress for the inactivity guard (guard.ts) when a FETCH response brings a UID that was
 * asked for and is beyond every UID seen so far in this command, either way (servers answer in
 * UID order, RFC 3501 §6.4.8 does not promise which): a server repeating the same responses, or
 * answering for UIDs nobody asked for, makes no progress. Constant memory, whatever the set.
 */
export function fetchProgress(uidSet: string, progress: () => void): (uid: number | undefined) => void {
  const inSet = uidSetMatcher(uidSet)
  let low = Infinity
  let high = -Infinity
  return (uid) => {
    if (uid === undefined || (uid >= low && uid <= high) || !inSet(uid)) return
    low = Math.min(low, uid)
    high = Math.max(high, uid)
    progress()
  }
}
