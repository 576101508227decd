import {describe, expect, it} from 'vitest'
import {formatDuration, parseDuration} from './duration.js'

describe('durations', () => {
  it.each([
    ['45', 45_000],
    ['45s', 45_000],
    ['90m', 5_400_000],
    ['2h', 7_200_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    [' 2H ', 7_200_000],
    ['0.5', 500],
  ])('reads %j', (text, ms) => {
    expect(parseDuration(text)).toBe(ms)
  })

  it.each(['', '0', '0s', '-5', 'h', '2x', '2h-', '1e3', 'soon', '5 m'])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined()
  })

  it.each([
    [7_200_000, '2h'],
    [5_400_000, '1h30m'],
    [45_000, '45s'],
    [3_661_000, '1h1m1s'],
    [500, '0.5s'],
  ])('writes %d ms as %j', (ms, text) => {
    expect(formatDuration(ms)).toBe(text)
  })
})
