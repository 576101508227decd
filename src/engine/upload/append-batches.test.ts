import {describe, expect, it} from 'vitest'
import {appendBatches, type MessageSize} from './append-batches.js'

const sizes = (table: Record<number, MessageSize>) => (uid: number): MessageSize => table[uid] ?? {bytes: 10, known: true}

function batch(todo: number[], table: Record<number, MessageSize>, limits: {batchMessages: number; batchBytes: number; appendLimit?: number}) {
  const skipped: Array<[number, string]> = []
  const result = appendBatches(todo, sizes(table), {appendLimit: undefined, ...limits}, (uid, reason) => skipped.push([uid, reason]))
  return {...result, skipped}
}

describe('appendBatches', () => {
  it('ends a batch at batchMessages messages', () => {
    const {batches, total, skipped} = batch([1, 2, 3, 4, 5], {}, {batchMessages: 2, batchBytes: 1000})
    expect(batches).toEqual([[1, 2], [3, 4], [5]])
    expect(total).toBe(50)
    expect(skipped).toEqual([])
  })

  it('ends a batch before it would pass batchBytes; a message larger than that is a batch of its own', () => {
    const table = {1: {bytes: 40, known: true}, 2: {bytes: 40, known: true}, 3: {bytes: 30, known: false}, 4: {bytes: 500, known: true}, 5: {bytes: 1, known: true}}
    const {batches, total} = batch([1, 2, 3, 4, 5], table, {batchMessages: 50, batchBytes: 100})
    expect(batches).toEqual([[1, 2], [3], [4], [5]])
    expect(total).toBe(611)
  })

  it('skips a message whose known size is over APPENDLIMIT (RFC 7889), before any batch names it; one of unknown size is left to the APPEND', () => {
    const table = {2: {bytes: 300, known: true}, 3: {bytes: 300, known: false}, 4: {bytes: 200, known: true}}
    const {batches, total, skipped} = batch([1, 2, 3, 4], table, {batchMessages: 50, batchBytes: 10_000, appendLimit: 200})
    expect(batches).toEqual([[1, 3, 4]])
    expect(total).toBe(510)
    expect(skipped).toEqual([[2, "300 bytes is larger than the destination's APPENDLIMIT of 200 bytes (RFC 7889)"]])
  })

  it('gives no batch when every message is skipped', () => {
    const {batches, total} = batch([7], {7: {bytes: 9, known: true}}, {batchMessages: 50, batchBytes: 10_000, appendLimit: 8})
    expect(batches).toEqual([])
    expect(total).toBe(0)
  })
})
