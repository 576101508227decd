import {describe, expect, test} from 'vitest'
import {asctimeFromDate} from './date-asctime.js'

describe('asctimeFromDate', () => {
  test.each([
    // RFC 5322 §3.3 form; the day is space-padded, the time stays in the header's zone.
    ['Tue, 5 Mar 2024 08:07:09 +0100', 'Tue Mar  5 08:07:09 2024'],
    ['Tue, 05 Mar 2024 08:07:09 -0800', 'Tue Mar  5 08:07:09 2024'],
    ['Sun, 31 Dec 2023 23:59:59 +1400', 'Sun Dec 31 23:59:59 2023'],
    ['Mon, 01 Jan 2024 00:00:00 -1200', 'Mon Jan  1 00:00:00 2024'],
    ['Thu, 15 Feb 2024 12:00:00 +0000', 'Thu Feb 15 12:00:00 2024'],
    // the weekday is computed, not copied
    ['Fri, 5 Mar 2024 08:07:09 +0100', 'Tue Mar  5 08:07:09 2024'],
    // obsolete forms (RFC 5322 §4.3)
    ['5 Mar 2024 08:07:09 +0100', 'Tue Mar  5 08:07:09 2024'],
    ['Tue, 5 Mar 2024 08:07 +0100', 'Tue Mar  5 08:07:00 2024'],
    ['Tue, 5 Mar 24 08:07:09 +0100', 'Tue Mar  5 08:07:09 2024'],
    ['Wed, 5 Mar 97 08:07:09 +0100', 'Wed Mar  5 08:07:09 1997'],
    ['5 Mar 49 08:07:09 GMT', 'Fri Mar  5 08:07:09 2049'],
    ['5 Mar 50 08:07:09 GMT', 'Sun Mar  5 08:07:09 1950'],
    ['5 Mar 103 08:07:09 GMT', 'Wed Mar  5 08:07:09 2003'],
    ['Tue, 5 Mar 2024 08:07:09 UT', 'Tue Mar  5 08:07:09 2024'],
    ['Tue, 5 Mar 2024 08:07:09 EST', 'Tue Mar  5 08:07:09 2024'],
    ['Tue, 5 Mar 2024 08:07:09 pdt', 'Tue Mar  5 08:07:09 2024'],
    ['Tue, 5 Mar 2024 08:07:09 Z', 'Tue Mar  5 08:07:09 2024'],
    ['Tue, 5 Mar 2024 08:07:09 +0100 (CET)', 'Tue Mar  5 08:07:09 2024'],
    ['(comment) Tue, (x (nested)) 5 Mar 2024 08 : 07 : 09 (y) +0100', 'Tue Mar  5 08:07:09 2024'],
    ['tue, 5 mar 2024 08:07:09 +0100', 'Tue Mar  5 08:07:09 2024'],
    ['Tuesday, 5 March 2024 08:07:09 +0100', 'Tue Mar  5 08:07:09 2024'],
    ['Tue 5 Mar 2024 08:07:09 +0100', 'Tue Mar  5 08:07:09 2024'],
    ['Tue, 5 Mar 2024 08:07:09 +01:00', 'Tue Mar  5 08:07:09 2024'],
    ['Tue, 5 Mar 2024 08:07:09', 'Tue Mar  5 08:07:09 2024'],
    ['  Tue, 5 Mar 2024 08:07:09 +0100 CET  ', 'Tue Mar  5 08:07:09 2024'],
    ['Thu, 29 Feb 2024 08:07:09 +0000', 'Thu Feb 29 08:07:09 2024'],
    ['Tue, 29 Feb 2000 08:07:09 +0000', 'Tue Feb 29 08:07:09 2000'],
    ['Sat, 31 Dec 2016 23:59:60 +0000', 'Sat Dec 31 23:59:60 2016'],
  ])('%s → %s', (value, expected) => {
    expect(asctimeFromDate(value)).toBe(expected)
  })

  test.each([
    [undefined],
    [''],
    ['not a date'],
    ['2024-03-05T08:07:09Z'],
    ['Tue, 30 Feb 2024 08:07:09 +0100'],
    ['Thu, 29 Feb 2023 08:07:09 +0100'],
    ['Tue, 29 Feb 1900 08:07:09 +0100'],
    ['Tue, 0 Mar 2024 08:07:09 +0100'],
    ['Tue, 32 Mar 2024 08:07:09 +0100'],
    ['Tue, 5 Foo 2024 08:07:09 +0100'],
    ['Tue, 5 Mar 2024 24:00:00 +0100'],
    ['Tue, 5 Mar 2024 08:60:00 +0100'],
    ['Tue, 5 Mar 2024 08:07:61 +0100'],
    ['Tue, 5 Mar 1899 08:07:09 +0100'],
    ['Tue, 5 Mar 5 08:07:09 +0100'],
    ['Tue, 5 Mar 20245 08:07:09 +0100'],
    ['Xyz, 5 Mar 2024 08:07:09 +0100'],
    ['Tue, 5 Mar 2024 08:07:09 +0100 garbage!'],
    ['Tue, 5 Mar 2024 08:07:09 +0100 Europe/Berlin'],
    ['Tue, 5 Mar 2024'],
  ])('%j is invalid', (value) => {
    expect(asctimeFromDate(value)).toBeUndefined()
  })
})

describe('weekday computation', () => {
  test('agrees with the Gregorian calendar for every day from 1900 to 2100', () => {
    const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
    const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
    const wrong: string[] = []
    for (let t = Date.UTC(1900, 0, 1); t <= Date.UTC(2100, 11, 31); t += 86_400_000) {
      const d = new Date(t)
      const header = `${d.getUTCDate()} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} 00:00 +0000`
      if (asctimeFromDate(header)?.slice(0, 3) !== days[d.getUTCDay()]) wrong.push(header)
    }
    expect(wrong).toEqual([])
  })
})
