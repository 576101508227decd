import {describe, expect, it} from 'vitest'
import {quoteFromLines, thunderbirdEntry} from './thunderbird-mbox.js'

const quote = (text: string): string => Buffer.concat(quoteFromLines(Buffer.from(text, 'latin1'))).toString('latin1')
const entry = (text: string, time = Date.UTC(2024, 2, 5, 8, 7, 9)): string => Buffer.concat(thunderbirdEntry(Buffer.from(text, 'latin1'), time)).toString('latin1')

describe('quoteFromLines (mboxrd)', () => {
  it('adds one > to every line matching ^>*From , the first included, and nothing else', () => {
    expect(quote('From a@b Tue\r\nSubject: x\r\n\r\nFrom here\r\n>From q\r\n>>From qq\r\nFrom: hdr\r\nFromage\r\n> From x\r\nFrom\r\n')).toBe(
      '>From a@b Tue\r\nSubject: x\r\n\r\n>From here\r\n>>From q\r\n>>>From qq\r\nFrom: hdr\r\nFromage\r\n> From x\r\nFrom\r\n',
    )
    expect(quote('x\nFrom ')).toBe('x\n>From ')
    expect(quote('x\nFrom')).toBe('x\nFrom')
    expect(quote('a\rFrom b')).toBe('a\rFrom b') // a bare CR does not start a line
    expect(quote('')).toBe('')
    expect(quote('>>>>')).toBe('>>>>')
  })

  it('shares memory with the message (no copy of the bytes)', () => {
    const message = Buffer.from('Subject: x\r\n\r\nFrom here\r\nbye\r\n')
    const pieces = quoteFromLines(message)
    expect(pieces.map((p) => p.toString())).toEqual(['Subject: x\r\n\r\n', '>', 'From here\r\nbye\r\n'])
    expect(pieces[0]!.buffer).toBe(message.buffer)
  })
})

describe('thunderbirdEntry', () => {
  it('is From - <asctime UTC>, the quoted message with its own line endings, and a blank line', () => {
    expect(entry('Subject: x\r\n\r\nbody\r\n')).toBe('From - Tue Mar  5 08:07:09 2024\nSubject: x\r\n\r\nbody\r\n\n')
    expect(entry('Subject: x\n\nno newline')).toBe('From - Tue Mar  5 08:07:09 2024\nSubject: x\n\nno newline\n\n')
    expect(entry('ends blank\r\n\r\n')).toBe('From - Tue Mar  5 08:07:09 2024\nends blank\r\n\r\n\n')
    expect(entry('')).toBe('From - Tue Mar  5 08:07:09 2024\n\n\n')
    expect(entry('x\n', Date.UTC(1999, 11, 31, 23, 59, 59))).toBe('From - Fri Dec 31 23:59:59 1999\nx\n\n')
  })
})
