import {describe, expect, it} from 'vitest'
import {
  completeUpTo,
  expungesKnownSince,
  flagPolicy,
  flagsFollow,
  missingAbove,
  missingOf,
  noExpungesPossible,
  planBatches,
  smallLimit,
  statusCouldSkip,
  unchangedOnServer,
  validUidNext,
  type SyncMode,
} from './folder-plan.js'

const local = {exists: true, uidValidity: 7, uidNext: 100, highestModseq: '500', flagsModseq: '500'}
const keepAll: SyncMode = {flags: 'never', mirror: false, condstore: false}
const follow: SyncMode = {flags: 'always', mirror: false, condstore: true}
const cheap: SyncMode = {flags: 'cheap', mirror: false, condstore: true}
const mirror: SyncMode = {flags: 'always', mirror: true, condstore: true}

describe('unchangedOnServer (the STATUS fast path)', () => {
  it('keep-all without --refresh: UIDVALIDITY and UIDNEXT decide, CONDSTORE or not', () => {
    expect(unchangedOnServer(local, {uidValidity: 7, uidNext: 100}, keepAll)).toBe(true)
    expect(unchangedOnServer(local, {uidValidity: 7, uidNext: 100, highestModseq: '900'}, keepAll)).toBe(true)
    expect(unchangedOnServer(local, {uidValidity: 7, uidNext: 101}, keepAll)).toBe(false)
    expect(unchangedOnServer(local, {uidValidity: 8, uidNext: 100}, keepAll)).toBe(false)
  })

  it('flags following the server also need an unchanged HIGHESTMODSEQ, which needs CONDSTORE', () => {
    expect(unchangedOnServer(local, {uidValidity: 7, uidNext: 100, highestModseq: '500'}, follow)).toBe(true)
    expect(unchangedOnServer(local, {uidValidity: 7, uidNext: 100, highestModseq: '501'}, follow)).toBe(false)
    expect(unchangedOnServer(local, {uidValidity: 7, uidNext: 100}, follow)).toBe(false)
    expect(unchangedOnServer(local, {uidValidity: 7, uidNext: 100, highestModseq: '500'}, {flags: 'always', mirror: false, condstore: false})).toBe(false)
    expect(unchangedOnServer({...local, highestModseq: undefined}, {uidValidity: 7, uidNext: 100, highestModseq: '500'}, follow)).toBe(false)
  })

  it('flags follow only up to the checkpoint they were compared at: a HIGHESTMODSEQ moved on without them is no reason to skip', () => {
    const moved = {...local, flagsModseq: '400'}
    expect(unchangedOnServer(moved, {uidValidity: 7, uidNext: 100, highestModseq: '500'}, follow)).toBe(false)
    expect(unchangedOnServer({...local, flagsModseq: undefined}, {uidValidity: 7, uidNext: 100, highestModseq: '500'}, follow)).toBe(false)
    // Flags as downloaded (freeze_flags): the checkpoint does not matter.
    expect(unchangedOnServer(moved, {uidValidity: 7, uidNext: 100, highestModseq: '900'}, {...cheap, flags: 'never'})).toBe(true)
  })

  it('by default flags follow where CONDSTORE makes it cheap: with a HIGHESTMODSEQ, else UIDNEXT decides as before', () => {
    expect(unchangedOnServer(local, {uidValidity: 7, uidNext: 100, highestModseq: '500'}, cheap)).toBe(true)
    expect(unchangedOnServer(local, {uidValidity: 7, uidNext: 100, highestModseq: '501'}, cheap)).toBe(false)
    // A NOMODSEQ folder (no HIGHESTMODSEQ in STATUS), or no CONDSTORE at all: flags as downloaded.
    expect(unchangedOnServer(local, {uidValidity: 7, uidNext: 100}, cheap)).toBe(true)
    expect(unchangedOnServer(local, {uidValidity: 7, uidNext: 100, highestModseq: '900'}, {...cheap, condstore: false})).toBe(true)
    expect(flagsFollow(cheap, '5')).toBe(true)
    expect(flagsFollow(cheap, undefined)).toBe(false)
    expect(flagsFollow({...cheap, condstore: false}, '5')).toBe(false)
    expect(flagsFollow({...cheap, flags: 'never'}, '5')).toBe(false)
    expect(flagsFollow({...follow, condstore: false}, undefined)).toBe(true)
    expect(flagPolicy({mirror: false, refresh: false, freezeFlags: false})).toBe('cheap')
    expect(flagPolicy({mirror: false, refresh: false, freezeFlags: true})).toBe('never')
    expect(flagPolicy({mirror: false, refresh: true, freezeFlags: true})).toBe('always')
    expect(flagPolicy({mirror: true, refresh: false, freezeFlags: true})).toBe('always')
  })

  it('mirror mode skips only when its own last comparison is at the stored HIGHESTMODSEQ', () => {
    const status = {uidValidity: 7, uidNext: 100, highestModseq: '500'}
    expect(unchangedOnServer({...local, mirrorModseq: '500'}, status, mirror)).toBe(true)
    // A keep-all run moved HIGHESTMODSEQ on after the last mirror run: expunges may be pending.
    expect(unchangedOnServer({...local, mirrorModseq: '450'}, status, mirror)).toBe(false)
    expect(unchangedOnServer(local, status, mirror)).toBe(false)
    expect(expungesKnownSince({...local, mirrorModseq: '500'})).toBe('500')
    expect(expungesKnownSince({...local, mirrorModseq: '450'})).toBeUndefined()
    expect(expungesKnownSince(local)).toBeUndefined()
  })

  it('never skips a folder without a complete stored state or without STATUS', () => {
    expect(unchangedOnServer({exists: false}, {uidValidity: 7, uidNext: 100}, keepAll)).toBe(false)
    expect(unchangedOnServer({...local, uidNext: undefined}, {uidValidity: 7, uidNext: 100}, keepAll)).toBe(false)
    expect(unchangedOnServer(local, undefined, keepAll)).toBe(false)
    expect(unchangedOnServer(local, {uidNext: 100}, keepAll)).toBe(false)
  })

  it('asks STATUS only when its answer could let the folder be skipped', () => {
    expect(statusCouldSkip(local, keepAll)).toBe(true)
    expect(statusCouldSkip({exists: false}, keepAll)).toBe(false)
    expect(statusCouldSkip({...local, uidNext: undefined}, keepAll)).toBe(false)
    expect(statusCouldSkip(local, {flags: 'always', mirror: false, condstore: false})).toBe(false)
    expect(statusCouldSkip(local, follow)).toBe(true)
    expect(statusCouldSkip(local, {...cheap, condstore: false})).toBe(true)
    expect(statusCouldSkip({...local, highestModseq: undefined}, mirror)).toBe(false)
  })
})

describe('what to download', () => {
  it('uses the stored UIDNEXT only under the same UIDVALIDITY', () => {
    expect(completeUpTo(local, {uidValidity: 7})).toBe(100)
    expect(completeUpTo(local, {uidValidity: 8})).toBeUndefined()
    expect(completeUpTo({exists: true, uidValidity: 7}, {uidValidity: 7})).toBeUndefined()
    expect(validUidNext(0)).toBe(false)
    expect(validUidNext(undefined)).toBe(false)
  })

  it('drops the highest message that `n:*` returns below n (RFC 3501 §6.4.8)', () => {
    expect(missingAbove([99], 100, () => false)).toEqual([])
    expect(missingAbove([103, 100, 101, 101], 100, (uid) => uid === 101)).toEqual([100, 103])
    expect(missingOf([5, 3, 1, 2], (uid) => uid === 2)).toEqual([1, 3, 5])
  })

  it('knows when no expunge can have happened', () => {
    expect(noExpungesPossible(100, {uidNext: 100, exists: 40}, 40)).toBe(true)
    expect(noExpungesPossible(100, {uidNext: 100, exists: 39}, 40)).toBe(false)
    expect(noExpungesPossible(100, {uidNext: 101, exists: 40}, 40)).toBe(false)
    expect(noExpungesPossible(undefined, {uidNext: 100, exists: 40}, 40)).toBe(false)
  })
})

describe('planBatches', () => {
  const limits = {messages: 3, bytes: Number.POSITIVE_INFINITY, largeBytes: 1000}

  it('groups by count, streams large messages alone, keeps UID order', () => {
    const sizes = new Map([[4, 5000]])
    expect(planBatches([1, 2, 3, 4, 5, 6, 7, 8], sizes, limits)).toEqual([
      {kind: 'batch', uids: [1, 2, 3]},
      {kind: 'stream', uid: 4},
      {kind: 'batch', uids: [5, 6, 7]},
      {kind: 'batch', uids: [8]},
    ])
    expect(planBatches([], sizes, limits)).toEqual([])
  })

  it('with a byte bound, packs medium messages by their size', () => {
    const bounded = {messages: 10, bytes: 1000, largeBytes: 800}
    expect(smallLimit(bounded)).toBe(100)
    const sizes = new Map([
      [2, 600],
      [3, 500],
      [9, 900],
    ])
    expect(planBatches([1, 2, 3, 4, 5, 9], sizes, bounded)).toEqual([
      {kind: 'batch', uids: [1, 2]},
      {kind: 'batch', uids: [3, 4, 5]},
      {kind: 'stream', uid: 9},
    ])
  })

  it('the small limit is never above the large one', () => {
    expect(smallLimit({messages: 1, bytes: Number.POSITIVE_INFINITY, largeBytes: 8})).toBe(8)
    expect(smallLimit({messages: 100, bytes: 16 * 1024 * 1024, largeBytes: 8 * 1024 * 1024})).toBe(167772)
  })
})
