import {describe, expect, it} from 'vitest'
import {completeUpTo, missingAbove, missingOf, noExpungesPossible, planBatches, smallLimit, statusCouldSkip, unchangedOnServer, validUidNext} from './folder-plan.js'

const local = {exists: true, uidValidity: 7, uidNext: 100, highestModseq: '500'}
const keepAll = {flagsFollow: false, condstore: false}
const follow = {flagsFollow: true, condstore: true}

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
    expect(unchangedOnServer(local, {uidValidity: 7, uidNext: 100, highestModseq: '500'}, {flagsFollow: true, condstore: false})).toBe(false)
    expect(unchangedOnServer({...local, highestModseq: undefined}, {uidValidity: 7, uidNext: 100, highestModseq: '500'}, follow)).toBe(false)
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
    expect(statusCouldSkip(local, {flagsFollow: true, condstore: false})).toBe(false)
    expect(statusCouldSkip(local, follow)).toBe(true)
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
