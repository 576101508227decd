// Display of header values in `local list` (src/engine/inspect/local-headers.ts).
import {describe, expect, it} from 'vitest'
import {decodeHeaderText, isoDate} from '../../src/engine/inspect/local-headers.js'

const latin1 = (s: string): string => Buffer.from(s, 'utf8').toString('latin1')

describe('decodeHeaderText', () => {
  it.each([
    ['plain', 'plain'],
    ['=?utf-8?q?caf=C3=A9_cr=C3=A8me?=', 'café crème'],
    ['=?ISO-8859-1?Q?Ren=E9e?= Exemple', 'Renée Exemple'],
    ['=?UTF-8?B?SsO8cmdlbg==?= =?UTF-8?B?IE3DvGxsZXI=?=', 'Jürgen Müller'],
    ['a =?utf-8?q?b?= c', 'a b c'],
    ['=?x-unknown?q?abc?=', '=?x-unknown?q?abc?='],
    [latin1('Grüße'), 'Grüße'],
    ['Gr\u00fc\u00dfe', 'Grüße'],
  ])('%s', (raw, text) => {
    expect(decodeHeaderText(raw)).toBe(text)
  })
})

describe('isoDate', () => {
  it.each([
    ['Tue, 5 Mar 2024 08:07:09 +0100', '2024-03-05T08:07:09+01:00'],
    ['Tue, 5 Mar 2024 08:07:09 +0100 (CET)', '2024-03-05T08:07:09+01:00'],
    ['5 Mar 24 08:07 EST', '2024-03-05T08:07:00-05:00'],
    ['Sun, 31 Dec 2023 23:59:59 -1100', '2023-12-31T23:59:59-11:00'],
    ['Thu, 13 Dec 2012 18:23:45 GMT', '2012-12-13T18:23:45+00:00'],
    ['Mon, 1 Jan 2024 10:00:00 +0530', '2024-01-01T10:00:00+05:30'],
    ['not a date', ''],
    ['Fri, 30 Feb 2024 10:00:00 +0000', ''],
  ])('%s', (value, iso) => {
    expect(isoDate(value)).toBe(iso)
  })
  it('is empty without a Date', () => expect(isoDate(undefined)).toBe(''))
})
