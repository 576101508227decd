import {describe, expect, it} from 'vitest'
import {memoryLogger} from '../../shared/logger.js'
import {SourceNaming, type SourceNamingOptions} from './source-naming.js'

const DOT = {prefix: 'INBOX.', delimiter: '.'}

function naming(options: Partial<SourceNamingOptions> & {server?: {prefix: string; delimiter: string} | Error}): {n: SourceNaming; asked: () => number; warnings: () => string[]} {
  let asked = 0
  const log = memoryLogger()
  const server = options.server ?? DOT
  const n = new SourceNaming({
    prefixFromServer: true,
    strict: false,
    account: 'me@example.test',
    logger: log,
    live: () => {
      asked++
      return Promise.resolve(server instanceof Error ? {error: server} : server)
    },
    ...options,
  })
  return {n, asked: () => asked, warnings: () => log.records.filter((r) => r.level === 'warn').map((r) => r.message)}
}

describe('SourceNaming: which delimiter and prefix split a stored name', () => {
  it('uses what the folder recorded, without asking the server', async () => {
    const {n, asked, warnings} = naming({server: new Error('gone')})
    expect(await n.side('INBOX.Work', {delimiter: '.', prefix: 'INBOX.'})).toEqual(DOT)
    expect(asked()).toBe(0)
    expect(warnings()).toEqual([])
  })

  it('an explicit --source-delimiter beats the record, with a warning when they differ', async () => {
    const {n, warnings} = naming({delimiter: '/'})
    expect(await n.side('INBOX.Work', {delimiter: '.', prefix: 'INBOX.'})).toEqual({prefix: 'INBOX.', delimiter: '/'})
    expect(warnings()).toEqual([expect.stringMatching(/--source-delimiter '\/' is not the delimiter the backup recorded for 'INBOX.Work' \('\.'\)/)])
  })

  it('the record beats the live server (the account may have moved to another server)', async () => {
    const {n} = naming({server: {prefix: '', delimiter: '/'}})
    expect(await n.side('INBOX.Work', {delimiter: '.', prefix: 'INBOX.'})).toEqual(DOT)
  })

  it('asks the server once, only for folders that record nothing', async () => {
    const {n, asked} = naming({})
    expect(await n.side('a', {})).toEqual(DOT)
    expect(await n.side('b', {})).toEqual(DOT)
    expect(await n.side('c', {delimiter: '/', prefix: ''})).toEqual({prefix: '', delimiter: '/'})
    expect(asked()).toBe(1)
    // Most folders used '.'; 'c' is reported as the exception.
    expect(n.summary().side).toEqual(DOT)
    expect([...n.summary().others.keys()]).toEqual(['c'])
  })

  it("falls back to '/' and no prefix when nothing is recorded and the server is gone, with one warning", async () => {
    const {n, warnings} = naming({server: new Error('connection refused')})
    expect(await n.side('INBOX.Work', {})).toEqual({prefix: '', delimiter: '/'})
    expect(await n.side('INBOX.Sent', {})).toEqual({prefix: '', delimiter: '/'})
    expect(warnings()).toHaveLength(1)
    expect(warnings()[0]).toMatch(/'INBOX.Work' does not record .* could not be reached \(connection refused\): folder names are split on '\/'/)
  })

  it('copy without --automatic-namespaces: the prefix is --source-prefix (default none), never the server\'s', async () => {
    const {n, asked} = naming({prefixFromServer: false, prefix: 'INBOX.'})
    expect(await n.side('INBOX.Work', {delimiter: '.', prefix: 'Other.'})).toEqual(DOT)
    expect(asked()).toBe(0)
  })

  it('--automatic-namespaces: a folder that records nothing needs the server', async () => {
    const {n} = naming({strict: true, server: new Error('connection refused')})
    expect(await n.side('x', {delimiter: '.', prefix: 'INBOX.'})).toEqual(DOT)
    await expect(n.side('y', {})).rejects.toThrow('connection refused')
  })
})
