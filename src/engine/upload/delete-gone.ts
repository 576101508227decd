/**
 * Step 4 of folder-upload.ts, mirror only: copies whose source message is gone from the backup
 * are deleted, and only those. A message counts once however many entries of the backup it has
 * (U7): the copy of a gone entry whose message the backup still holds is kept.
 */
import {compactUidSet} from '../../imap/index.js'
import {FLAG_SLICE, type UploadAttempt} from './upload-attempt.js'
import {ascending, slices} from '../access/uid-lists.js'

export async function deleteGone(attempt: UploadAttempt): Promise<void> {
  const {source, session, destSet} = attempt
  let orphans = [...attempt.entryMap].filter(([s, d]) => !source.has(s) && destSet.has(d))
  if (orphans.length === 0) return
  // An entry gone whose message the backup still holds under another entry (its restored copy,
  // or the original): the copy on the destination stays and now belongs to that entry, unless
  // the message has its copy there already (then this one is a second copy and goes).
  const identity = attempt.identity()
  const entryMap = attempt.entryMap
  const heirs: Array<[number, number]> = []
  const taken = new Set<number>()
  orphans = orphans.filter(([s, d]) => {
    const members = identity.members(s)
    if (members.some((m) => m !== s && entryMap.has(m) && destSet.has(entryMap.get(m)!))) return true
    const heir = members.filter((m) => m !== s && source.has(m) && !entryMap.has(m) && !taken.has(m)).pop()
    if (heir === undefined) return true
    taken.add(heir)
    heirs.push([heir, d])
    return false
  })
  if (heirs.length > 0) {
    attempt.map.forget(
      attempt.user,
      attempt.dest,
      heirs.map(([, d]) => attempt.reverse.get(d)!),
    )
    attempt.record(heirs)
  }
  if (orphans.length === 0) return
  const uids = orphans.map(([, d]) => d).sort(ascending)
  for (const slice of slices(uids, FLAG_SLICE)) await session.storeFlags(compactUidSet(slice), ['\\Deleted'], 'add')
  if (!session.capabilities.uidplus) {
    // Plain EXPUNGE removes EVERY \Deleted message (RFC 3501 §6.4.3): only when ours are the only ones.
    const ours = new Set(uids)
    let others = 0
    for (const slice of slices(attempt.destUids, FLAG_SLICE)) {
      const {changed} = await session.fetchFlags(compactUidSet(slice))
      others += changed.filter((c) => !ours.has(c.uid) && c.flags.some((f) => f.toUpperCase() === '\\DELETED')).length
    }
    if (others > 0) {
      attempt.input.state.notes.add(
        `${uids.length} message(s) whose source is gone were flagged \\Deleted but not expunged: the server has no UIDPLUS, and EXPUNGE would also remove ${others} other message(s) flagged \\Deleted`,
      )
      return
    }
    await session.expunge()
  } else {
    for (const slice of slices(uids, FLAG_SLICE)) await session.expunge(compactUidSet(slice))
  }
  attempt.report.deleted += uids.length
  for (const d of uids) {
    attempt.reverse.delete(d)
    destSet.delete(d)
  }
  attempt.destUids = attempt.destUids.filter((d) => destSet.has(d))
  attempt.map.forget(
    attempt.user,
    attempt.dest,
    orphans.map(([s]) => s),
  )
  attempt.logger.info(`deleted ${uids.length} message(s) from '${attempt.dest}' whose source is gone from the backup`)
}
