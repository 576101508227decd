import {describe, expect, it} from 'vitest'
import {parseDateHeader, readUploadHeaders} from './date.js'

describe('readUploadHeaders', () => {
  it('reads the first Date and Message-ID of the header block, unfolded, in any case', () => {
    const message = Buffer.from('Subject: x\r\ndate: Tue, 5 Mar 2024\r\n 08:07:09 +0100\r\nMessage-Id:\r\n <a@b>\r\nDate: Wed, 6 Mar 2024 00:00:00 +0000\r\n\r\nDate: body\r\n')
    expect(readUploadHeaders(message)).toEqual({date: 'Tue, 5 Mar 2024 08:07:09 +0100', messageId: '<a@b>'})
  })

  it('does not read the body', () => {
    expect(readUploadHeaders(Buffer.from('Subject: x\n\nMessage-ID: <no@body>\n'))).toEqual({})
  })
})

describe('parseDateHeader (the INTERNALDATE of an imap-backup entry)', () => {
  const iso = (value: string): string | undefined => parseDateHeader(value)?.toISOString()

  it('reads RFC 5322 dates in their own zone', () => {
    expect(iso('Tue, 5 Mar 2024 08:07:09 +0100')).toBe('2024-03-05T07:07:09.000Z')
    expect(iso('5 Mar 2024 08:07 -0230')).toBe('2024-03-05T10:37:00.000Z')
    expect(iso('Tue, 05 Mar 24 08:07:09 EST')).toBe('2024-03-05T13:07:09.000Z')
    expect(iso('Tue, 5 Mar 2024 08:07:09 +0100 (CET)')).toBe('2024-03-05T07:07:09.000Z')
    expect(iso('Sun, 31 Dec 1999 23:59:59 GMT')).toBe('1999-12-31T23:59:59.000Z')
    expect(iso('Mon, 1 Jan 2024 10:00:00 +05:30')).toBe('2024-01-01T04:30:00.000Z')
  })

  it('gives nothing for what is not a date', () => {
    expect(parseDateHeader(undefined)).toBeUndefined()
    expect(parseDateHeader('yesterday')).toBeUndefined()
    expect(parseDateHeader('30 Feb 2024 10:00:00 +0000')).toBeUndefined()
    expect(parseDateHeader('2024-03-05T08:07:09Z')).toBeUndefined()
  })
})
