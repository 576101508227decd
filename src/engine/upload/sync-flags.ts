/**
 * Step 7 of folder-upload.ts, copy and mirror: the flags of mapped copies are set to the stored
 * ones, grouped so that one STORE sets the same flags on many messages.
 */
import {compactUidSet} from '../../imap/index.js'
import {RemoteError} from '../../shared/errors.js'
import {throwIfAborted} from '../../shared/context.js'
import {FlagPolicy, keywordsOf, mayConcernKeywords, sameFlagSet} from './flags.js'
import {FLAG_SLICE, type UploadAttempt} from './upload-attempt.js'
import {ascending, slices} from '../access/uid-lists.js'

export async function syncFlags(attempt: UploadAttempt): Promise<void> {
  const {source, session, reverse} = attempt
  const pairs = [...attempt.entryMap].filter(([s, d]) => source.has(s) && attempt.destSet.has(d))
  if (pairs.length === 0) return
  const groups = new Map<string, {flags: string[]; uids: number[]}>()
  const dests = pairs.map(([, d]) => d).sort(ascending)
  // A message of several entries (U7) has the flags of its newest entry: the last one a backup
  // saw on the server (an entry restored from is one the server no longer has).
  const identity = attempt.identity()
  const newest = (uid: number): number => identity.members(uid).filter((m) => source.has(m)).pop() ?? uid
  for (const slice of slices(dests, FLAG_SLICE)) {
    throwIfAborted(attempt.input.signal)
    const {changed} = await session.fetchFlags(compactUidSet(slice))
    for (const {uid, flags: current} of changed) {
      const s = reverse.get(uid)
      if (s === undefined) continue
      const wanted = attempt.flags.choose(source.entry(newest(s))?.flags ?? []).flags
      const present = current.filter((f) => f.toUpperCase() !== '\\RECENT')
      // \Deleted on the destination is the user's business there: kept as it is.
      const target = [...wanted, ...present.filter((f) => !FlagPolicy.managed(f))]
      if (sameFlagSet(target, present)) continue
      const key = [...target].sort().join(' ')
      const group = groups.get(key) ?? {flags: target, uids: []}
      group.uids.push(uid)
      groups.set(key, group)
    }
  }
  for (const {flags, uids} of groups.values()) {
    for (const slice of slices(uids.sort(ascending), FLAG_SLICE)) {
      try {
        await session.storeFlags(compactUidSet(slice), flags, 'set')
      } catch (error) {
        if (!(error instanceof RemoteError)) throw error
        const keywords = keywordsOf(flags)
        if (keywords.length === 0 || !mayConcernKeywords(error)) throw error
        // Maybe a keyword: set the rest. Only if the server takes that were the keywords the
        // reason, and are dropped from then on; otherwise the first refusal is the answer.
        try {
          await session.storeFlags(compactUidSet(slice), flags.filter((f) => f.startsWith('\\')), 'set')
        } catch (second) {
          if (second instanceof RemoteError) throw error
          throw second
        }
        attempt.flags.refuse(keywords)
        for (const d of slice) attempt.dropFlags(reverse.get(d) ?? d, keywords, `the server refused it (${error.message})`)
      }
      attempt.report.flagsUpdated += slice.length
    }
  }
}
