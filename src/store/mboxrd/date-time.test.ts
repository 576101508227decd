import {describe, expect, test} from 'vitest'
import {parseDateTime} from './date-time.js'

// What is a date at all is tested through asctimeFromDate (date-asctime.test.ts); here: the fields.
describe('parseDateTime', () => {
  test('gives the fields as written, in the header zone', () => {
    expect(parseDateTime('Tue, 5 Mar 24 08:07 +0100 (CET)')).toEqual({year: 2024, month: 2, day: 5, hour: 8, minute: 7, second: 0, zone: '+0100', offset: 60})
    expect(parseDateTime('Sat, 31 Dec 2016 23:59:60 -0000')).toMatchObject({second: 60, zone: '-0000', offset: -0})
  })

  test.each([
    ['+0530', 330],
    ['-02:30', -150],
    ['EST', -300],
    ['pdt', -420],
    ['GMT', 0],
    ['Z', 0],
    ['A', 0], // military: -0000 (RFC 5322 §4.3)
    ['CET', 0], // unknown abbreviation: -0000 (RFC 5322 §4.3)
    ['+0100 CET', 60], // the first zone counts
    ['GMT+01:00', 0],
  ])('zone %s is %d minutes east of UTC', (zone, offset) => {
    expect(parseDateTime(`5 Mar 2024 08:07:09 ${zone}`)?.offset).toBe(offset)
  })

  test('a missing zone is 0; a numeric zone with more than 59 minutes has no offset', () => {
    expect(parseDateTime('5 Mar 2024 08:07:09')).toMatchObject({zone: undefined, offset: 0})
    expect(parseDateTime('5 Mar 2024 08:07:09 +0160')).toMatchObject({zone: '+0160', offset: undefined})
  })

  test('is undefined for what is not a date', () => {
    expect(parseDateTime(undefined)).toBeUndefined()
    expect(parseDateTime('Tue, 5 Mar 2024 08:07:09 +0100 garbage!')).toBeUndefined()
  })
})
