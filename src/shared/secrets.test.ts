import {afterEach, describe, expect, it} from 'vitest'
import {clearSecrets, registerSecret, scrubSecrets} from './secrets.js'
import {createLogger} from './logger.js'

describe('secrets', () => {
  afterEach(() => clearSecrets())

  it('removes registered secrets, also in their JSON-escaped form', () => {
    registerSecret('pa"ss\\word')
    expect(scrubSecrets('login pa"ss\\word ok')).toBe('login [REDACTED] ok')
    expect(scrubSecrets(JSON.stringify({p: 'pa"ss\\word'}))).toBe('{"p":"[REDACTED]"}')
  })

  it('redacts passwords in log lines by key and by value', () => {
    registerSecret('hunter22')
    const lines: string[] = []
    const log = createLogger({level: 'debug', format: 'json', write: (l) => lines.push(l)})
    log.info('connecting', {password: 'other-secret', user: 'me'})
    log.error('server said hunter22 is wrong')
    const all = lines.join('')
    expect(all).not.toContain('other-secret')
    expect(all).not.toContain('hunter22')
    expect(all).toContain('"user":"me"')
  })
})
