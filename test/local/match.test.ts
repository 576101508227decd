// The matching rules of `local repair` (src/engine/repair/match.ts), without a server.
import {describe, expect, it} from 'vitest'
import {FreeUids, matchMessages, type LocalCandidate, type ServerCandidate} from '../../src/engine/repair/match.js'

const local = (index: number, extra: Partial<LocalCandidate> = {}): LocalCandidate => ({index, messageId: `<m${index}@x>`, date: 'd', sizeMin: 100, sizeMax: 110, ...extra})
const server = (uid: number, extra: Partial<ServerCandidate> = {}): ServerCandidate => ({uid, size: 105, internalDate: null, date: 'd', ...extra})

describe('matchMessages', () => {
  it('matches by Message-ID, Date and size', () => {
    const result = matchMessages({local: [local(0), local(1)], server: [server(7, {messageId: '<m0@x>'}), server(9, {messageId: '<m1@x>'})], uidNext: 10})
    expect(result).toEqual([
      {kind: 'matched', uid: 7, reason: 'message-id'},
      {kind: 'matched', uid: 9, reason: 'message-id'},
    ])
  })

  it('does not match when the size or the Date disagrees', () => {
    const result = matchMessages({local: [local(0), local(1)], server: [server(3, {messageId: '<m0@x>', size: 200}), server(4, {messageId: '<m1@x>', date: 'other'})], uidNext: 5})
    expect(result.map((r) => r.kind)).toEqual(['kept', 'kept'])
    // Kept under UIDs below UIDNEXT that the server does not use: 1 and 2.
    expect(result.map((r) => (r.kind === 'unplaced' ? 0 : r.uid))).toEqual([1, 2])
  })

  it('gives the same message twice in the mbox one server UID; the copy is kept under a free UID', () => {
    const result = matchMessages({local: [local(0), local(1, {messageId: '<m0@x>'})], server: [server(5, {messageId: '<m0@x>'})], uidNext: 8})
    expect(result[0]).toEqual({kind: 'matched', uid: 5, reason: 'message-id'})
    expect(result[1]).toEqual({kind: 'kept', uid: 6, reason: 'duplicate'})
  })

  it('a second copy shares its twin\'s UID when no UID below UIDNEXT is free', () => {
    const result = matchMessages({local: [local(0), local(1, {messageId: '<m0@x>'})], server: [server(1, {messageId: '<m0@x>'})], uidNext: 2})
    expect(result[1]).toEqual({kind: 'kept', uid: 1, reason: 'duplicate'})
  })

  it('takes the same message appended twice on the server in UID order', () => {
    const result = matchMessages({local: [local(0), local(1, {messageId: '<m0@x>'})], server: [server(8, {messageId: '<m0@x>'}), server(4, {messageId: '<m0@x>'})], uidNext: 9})
    expect(result.map((r) => (r.kind === 'matched' ? r.uid : 0))).toEqual([4, 8])
  })

  it('without a Message-ID, matches only when unambiguous both ways', () => {
    const noId = (i: number, extra: Partial<LocalCandidate> = {}): LocalCandidate => {
      const l = local(i, extra)
      delete l.messageId
      return l
    }
    const unique = matchMessages({local: [noId(0)], server: [server(2)], uidNext: 3})
    expect(unique).toEqual([{kind: 'matched', uid: 2, reason: 'date-and-size'}])
    const twoServer = matchMessages({local: [noId(0)], server: [server(2), server(3)], uidNext: 4})
    expect(twoServer).toEqual([{kind: 'kept', uid: 1, reason: 'ambiguous'}])
    const twoLocal = matchMessages({local: [noId(0), noId(1)], server: [server(5)], uidNext: 6})
    expect(twoLocal.map((r) => r.kind)).toEqual(['kept', 'kept'])
  })

  it('keeps a salvaged UID the server no longer has; drops one that names another message', () => {
    const result = matchMessages({
      local: [local(0, {salvagedUid: 3}), local(1, {salvagedUid: 4})],
      server: [server(4, {messageId: '<other@x>'}), server(6, {messageId: '<m1@x>'})],
      uidNext: 7,
    })
    expect(result).toEqual([
      {kind: 'kept', uid: 3, reason: 'not-on-server'},
      {kind: 'matched', uid: 6, reason: 'message-id'},
    ])
  })

  it('a salvaged INTERNALDATE with a garbled digit does not stop a match (found by the hostile-local suite, seed 2019024966)', () => {
    // The exactness record still decodes the entry, so nothing but the server can tell the date is wrong.
    const bySalvagedUid = matchMessages({local: [local(0, {salvagedUid: 12, exactSize: 105, internalDate: 1604263324})], server: [server(12, {messageId: '<m0@x>', internalDate: 1604269324})], uidNext: 13})
    expect(bySalvagedUid).toEqual([{kind: 'matched', uid: 12, reason: 'salvaged-uid'}])
    const byMessageId = matchMessages({local: [local(0, {exactSize: 105, internalDate: 1604263324})], server: [server(12, {messageId: '<m0@x>', internalDate: 1604269324})], uidNext: 13})
    expect(byMessageId).toEqual([{kind: 'matched', uid: 12, reason: 'message-id'}])
  })

  it('a salvaged INTERNALDATE still tells apart a message appended twice', () => {
    const twice = [server(4, {messageId: '<m0@x>', internalDate: 1000}), server(8, {messageId: '<m0@x>', internalDate: 2000})]
    const result = matchMessages({local: [local(0, {internalDate: 2000}), local(1, {messageId: '<m0@x>', internalDate: 1000})], server: twice, uidNext: 9})
    expect(result.map((r) => (r.kind === 'matched' ? r.uid : 0))).toEqual([8, 4])
    // The copy whose INTERNALDATE is taken already is a duplicate, not a match for the other copy.
    const again = matchMessages({local: [local(0, {internalDate: 2000}), local(1, {messageId: '<m0@x>', internalDate: 2000})], server: twice, uidNext: 9})
    expect(again[0]).toEqual({kind: 'matched', uid: 8, reason: 'message-id'})
    expect(again[1]).toMatchObject({kind: 'kept', reason: 'duplicate'})
  })

  it('never gives a UID at or above UIDNEXT, nor one the server or the folder uses', () => {
    const result = matchMessages({local: [local(0), local(1), local(2)], server: [server(1, {messageId: '<z>'}), server(3, {messageId: '<y>'})], uidNext: 5, reserved: [2]})
    expect(result).toEqual([
      {kind: 'kept', uid: 4, reason: 'not-on-server'},
      {kind: 'unplaced', reason: 'not-on-server'},
      {kind: 'unplaced', reason: 'not-on-server'},
    ])
  })

  it('places kept messages between their matched neighbours when it can', () => {
    const result = matchMessages({local: [local(0), local(1), local(2)], server: [server(10, {messageId: '<m0@x>'}), server(20, {messageId: '<m2@x>'})], uidNext: 30})
    expect(result[1]).toEqual({kind: 'kept', uid: 11, reason: 'not-on-server'})
  })

  // ignore-history's placeholders (docs/repair.md): neither Message-ID nor Date, a size like any
  // short message; before rule 0 they matched nothing and the whole folder fell back to
  // unverified UIDs when the server's UIDs left no free one.
  const placeholder = (index: number, uid: number): LocalCandidate => ({index, sizeMin: 60, sizeMax: 70, placeholderUid: uid})

  it('gives a placeholder the UID it names when the server has it, also with no UID free below UIDNEXT', () => {
    const result = matchMessages({local: [placeholder(0, 1), placeholder(1, 2), local(2)], server: [server(1, {messageId: '<x1@x>'}), server(2, {messageId: '<x2@x>'}), server(3, {messageId: '<m2@x>'})], uidNext: 4})
    expect(result).toEqual([
      {kind: 'matched', uid: 1, reason: 'placeholder'},
      {kind: 'matched', uid: 2, reason: 'placeholder'},
      {kind: 'matched', uid: 3, reason: 'message-id'},
    ])
  })

  it('keeps a placeholder under its UID when the server no longer has it (below UIDNEXT), never at or above UIDNEXT', () => {
    const result = matchMessages({local: [placeholder(0, 2), placeholder(1, 9)], server: [server(1, {messageId: '<x1@x>'})], uidNext: 5})
    expect(result[0]).toEqual({kind: 'kept', uid: 2, reason: 'not-on-server'})
    // UID 9 could be given to a future message: the placeholder is kept under a free UID instead.
    expect(result[1]).toEqual({kind: 'kept', uid: 3, reason: 'no-match'})
  })

  it('never matches a placeholder to a message that fits it without Message-ID and Date, nor gives its UID to a message', () => {
    // Server UID 4 has no Message-ID and no Date, and the placeholder's size: rule 3 would take it.
    const bare = server(4, {size: 65, date: undefined})
    const result = matchMessages({local: [placeholder(0, 3), local(1, {messageId: '<m1@x>', salvagedUid: 3})], server: [bare, server(3, {messageId: '<m1@x>'})], uidNext: 5})
    expect(result[0]).toEqual({kind: 'matched', uid: 3, reason: 'placeholder'})
    // The real message whose salvaged UID and Message-ID point at UID 3 does not take it from the placeholder.
    expect(result[1]!.kind).toBe('kept')
    expect(result.some((r) => r.kind === 'matched' && r.uid === 4)).toBe(false)
  })

  it('never matches an incomplete entry', () => {
    expect(matchMessages({local: [local(0, {incomplete: true})], server: [server(2, {messageId: '<m0@x>'})], uidNext: 3})).toEqual([{kind: 'kept', uid: 1, reason: 'incomplete'}])
  })
})

describe('FreeUids', () => {
  it('finds free UIDs without listing them', () => {
    const free = new FreeUids(1_000_000, Array.from({length: 100_000}, (_, i) => i + 1))
    expect(free.firstFrom(1)).toBe(100_001)
    free.take(100_001)
    expect(free.firstFrom(3)).toBe(100_002)
    expect(new FreeUids(3, [1, 2]).firstFrom(1)).toBeUndefined()
  })
})
