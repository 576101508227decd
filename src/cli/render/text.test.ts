import {describe, expect, it} from 'vitest'
import {formatBytes, formatClock, formatRate, formatSeconds, printable, truncateEnd, truncateMiddle} from './text.js'

describe('text helpers', () => {
  it('formats sizes in binary units with three significant digits', () => {
    expect([0, 512, 1023, 1024, 1536, 10 * 1024 + 100, 1000 * 1024, 1024 ** 2, 3.1 * 1024 ** 3].map(formatBytes)).toEqual([
      '0 B',
      '512 B',
      '1023 B',
      '1.00 KiB',
      '1.50 KiB',
      '10.1 KiB',
      '1000 KiB',
      '1.00 MiB',
      '3.10 GiB',
    ])
  })

  it('formats durations and rates', () => {
    expect([0, 0.44, 9.95, 12.4, 65, 3600 + 125].map(formatSeconds)).toEqual(['0.0 s', '0.4 s', '9.9 s', '12 s', '1 min 05 s', '1 h 02 min'])
    expect([0, 59.9, 61, 3601].map(formatClock)).toEqual(['0:00', '0:59', '1:01', '1:00:01'])
    expect([0, 9.96, 150.4, 12345, Number.NaN, Infinity].map(formatRate)).toEqual(['0.0', '10.0', '150', '12,345', '0', '0'])
  })

  it('shortens by code points, never splitting a character', () => {
    expect(truncateMiddle('Archive/2019/Quarterly', 10)).toBe('Archi…erly')
    expect(truncateMiddle('short', 10)).toBe('short')
    expect(truncateEnd('Entwürfe 📁 alt', 11)).toBe('Entwürfe 📁…')
  })

  it('shows control characters as ?', () => {
    expect(printable('a\x1b[31mb\r\n\u009bc\u007f')).toBe('a?[31mb???c?')
    expect(printable('Entwürfe')).toBe('Entwürfe')
  })
})
