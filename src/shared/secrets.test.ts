import {afterEach, describe, expect, it} from 'vitest'
import {clearSecrets, distinctive, registerSecret, scrubForeign, scrubOutput} from './secrets.js'
import {createLogger} from './logger.js'

describe('secrets', () => {
  afterEach(() => clearSecrets())

  it('tells values that cannot be a word of our text from those that can', () => {
    for (const value of ['hunter22', 'Tr0ub4dor&3', 'correct horse battery', 'pa"ss\\word', 'c0rrect-h0rse']) expect(distinctive(value), value).toBe(true)
    for (const value of ['pass', 'password', 'secret', 'mail', 'Mailbox', 'read-only', "don't", '123456', 'abc1']) expect(distinctive(value), value).toBe(false)
  })

  it('output: removes distinctive secrets anywhere, also in their JSON-escaped form', () => {
    registerSecret('pa"ss\\word')
    expect(scrubOutput('login pa"ss\\word ok')).toBe('login [REDACTED] ok')
    expect(scrubOutput(JSON.stringify({p: 'pa"ss\\word'}))).toBe('{"p":"[REDACTED]"}')
    registerSecret('hunter22')
    expect(scrubOutput('xhunter22y')).toBe('x[REDACTED]y')
  })

  it.each(['pass', 'password', 'secret', 'mail'])('output: leaves our own words alone when the password is %j', (word) => {
    registerSecret(word)
    const ours = 'check the user name and password; a secret is kept in the mail backup; pass --force to overwrite'
    expect(scrubOutput(ours)).toBe(ours)
  })

  it.each(['pass', 'password', 'secret', 'mail'])('foreign text: removes %j where it stands as a word, not inside longer words', (word) => {
    registerSecret(word)
    expect(scrubForeign(`LOGIN "me" "${word}"`)).toBe('LOGIN "me" "[REDACTED]"')
    expect(scrubForeign(`user:${word}@host`)).toBe('user:[REDACTED]@host')
    expect(scrubForeign(`${word}s and x${word}`)).toBe(`${word}s and x${word}`)
  })

  it('foreign text: extra values (a session\'s own) go too, also short ones', () => {
    expect(scrubForeign('AUTH ab ok', ['ab'])).toBe('AUTH [REDACTED] ok')
    expect(scrubForeign('nothing registered')).toBe('nothing registered')
  })

  it('redacts passwords in log lines by key, and by value in foreign fields and where distinctive', () => {
    registerSecret('hunter22')
    registerSecret('mail')
    const lines: string[] = []
    const log = createLogger({level: 'debug', format: 'json', write: (l) => lines.push(l)})
    log.info('connecting', {password: 'other-secret', user: 'me'})
    log.error('server said hunter22 is wrong')
    log.error('could not log in to the mail server', {error: 'NO LOGIN mail refused'})
    const all = lines.join('')
    expect(all).not.toContain('other-secret')
    expect(all).not.toContain('hunter22')
    expect(all).toContain('"user":"me"')
    expect(all).toContain('could not log in to the mail server')
    expect(all).toContain('"error":"NO LOGIN [REDACTED] refused"')
  })
})
