import {describe, expect, it} from 'vitest'
import {SavepointPace} from './savepoint-pace.js'
import {DEFAULT_TUNING, STRATEGIES, WRITE_BEHIND_BYTES, type Strategy} from './tuning.js'

const pace = (strategy: Strategy, more = {}) => new SavepointPace({...DEFAULT_TUNING, strategy, savepointMessages: 3, savepointBytes: 1000, savepointSeconds: 3600, delayAllMaxBytes: 500, ...more})

describe('SavepointPace', () => {
  it('holds up to delayAllMaxBytes with delay_all, a write-behind buffer otherwise', () => {
    expect(pace('delay_all').bufferCap).toBe(500)
    expect(pace('delay_all', {delayAllMaxBytes: 0}).bufferCap).toBe(1)
    expect(pace('delay_metadata').bufferCap).toBe(WRITE_BEHIND_BYTES)
    expect(pace('direct').bufferCap).toBe(WRITE_BEHIND_BYTES)
  })

  it.for(STRATEGIES)('asks for a savepoint before a message only with delay_all, when it would overflow what is held (%s)', (strategy) => {
    const p = pace(strategy)
    const delayAll = strategy === 'delay_all'
    expect(p.savepointBefore(400, 101)).toBe(delayAll)
    expect(p.savepointBefore(400, 100)).toBe(false) // fits exactly
    expect(p.savepointBefore(0, 10_000)).toBe(false) // nothing held: a savepoint would commit nothing
  })

  it('is due after N messages or M bytes, and starts counting again at a savepoint', () => {
    const p = pace('delay_metadata')
    p.count(10)
    p.count(0)
    expect(p.due).toBe(false)
    p.count(10)
    expect(p.due).toBe(true) // 3 messages
    p.restart()
    expect(p.due).toBe(false)
    p.count(999)
    expect(p.due).toBe(false)
    p.count(1)
    expect(p.due).toBe(true) // 1,000 bytes
  })

  it('is due when the last savepoint is T seconds old', () => {
    expect(pace('delay_metadata', {savepointSeconds: 0}).due).toBe(true)
    expect(pace('delay_metadata').due).toBe(false)
  })
})
