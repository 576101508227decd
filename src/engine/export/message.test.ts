import {describe, expect, it} from 'vitest'
import {HEADER_CAP} from '../../store/mboxrd/index.js'
import {asctimeUtc, dateHeaderTime, headerBlock} from './message.js'

describe('headerBlock', () => {
  it('ends before the first empty line (LF or CRLF), or is the whole short message', () => {
    expect(headerBlock(Buffer.from('A: 1\r\nB: 2\r\n\r\nDate: body')).toString()).toBe('A: 1\r\nB: 2\r\n')
    expect(headerBlock(Buffer.from('A: 1\n\nDate: body')).toString()).toBe('A: 1\n')
    expect(headerBlock(Buffer.from('A: 1\nno blank line')).toString()).toBe('A: 1\nno blank line')
    expect(headerBlock(Buffer.from('\r\nbody')).toString()).toBe('')
  })

  it('stops at HEADER_CAP, cut back to a line end', () => {
    const long = Buffer.from(`A: 1\n${'x'.repeat(HEADER_CAP)}\n\nbody`)
    expect(headerBlock(long).toString()).toBe('A: 1\n')
  })
})

describe('dateHeaderTime', () => {
  it('reads valid RFC 5322 dates, with zones and comments, and nothing else', () => {
    expect(dateHeaderTime(Buffer.from('Date: Tue, 5 Mar 2024 08:07:09 +0100 (CET)\r\n\r\n'))).toBe(Date.UTC(2024, 2, 5, 7, 7, 9))
    expect(dateHeaderTime(Buffer.from('Date: 5 Mar 24 08:07 EST\n\n'))).toBe(Date.UTC(2024, 2, 5, 13, 7, 0))
    expect(dateHeaderTime(Buffer.from('Subject: x\n\nDate: Tue, 5 Mar 2024 08:07:09 +0100\n'))).toBeNull() // only the header counts
    expect(dateHeaderTime(Buffer.from('Date: 2024-03-05T08:07:09Z\n\n'))).toBeNull()
    expect(dateHeaderTime(Buffer.from('Date: 30 Feb 2024 08:07:09 +0000\n\n'))).toBeNull()
  })
})

describe('asctimeUtc', () => {
  it('is C asctime in UTC, the day padded with a space', () => {
    expect(asctimeUtc(Date.UTC(2024, 2, 5, 8, 7, 9))).toBe('Tue Mar  5 08:07:09 2024')
    expect(asctimeUtc(Date.UTC(2024, 11, 25, 23, 0, 0))).toBe('Wed Dec 25 23:00:00 2024')
  })
})
