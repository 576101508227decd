// Everything logged during a traced session against Dovecot: protocol lines at debug, and
// never a password (AUTHENTICATE PLAIN, a password that needs quoting).
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createLogger} from '../../src/shared/logger.js'
import {clearSecrets} from '../../src/shared/secrets.js'
import {startDovecot, type DovecotInstance} from '../support/dovecot.js'
import {seedFolder} from '../support/mail-seed.js'
import {collect, connectAs, traceLines, tracingLogger} from './helpers.js'

describe('logging', () => {
  let dc: DovecotInstance

  beforeAll(async () => {
    dc = await startDovecot({separator: '/'})
    await seedFolder(dc, 'dave', 'INBOX', 2)
  })
  afterAll(async () => {
    await dc?.stop()
    clearSecrets()
  })

  it('traces the protocol without credentials, even with scrubbing by value switched off', async () => {
    const dave = dc.users.find((u) => u.user === 'dave')!
    const memory = tracingLogger()
    const session = await connectAs(dc, dave, {logger: memory, traceProtocol: true, clientId: {name: 'mailkeep', version: '0.1.0'}})
    // The adapter must not depend on the registry: clear it before anything else is logged.
    clearSecrets()
    await session.listFolders({status: true})
    await session.examine('INBOX')
    await collect(session.fetchMessages('1:*'))
    await session.logout()
    const trace = traceLines(memory)
    expect(trace.some((l) => /^C: \S+ AUTHENTICATE PLAIN$/.test(l))).toBe(true)
    expect(trace.some((l) => /^C: \S+ UID FETCH 1:\* \(UID FLAGS INTERNALDATE RFC822\.SIZE BODY\.PEEK\[\]\)$/.test(l))).toBe(true)
    expect(trace.some((l) => /^S: \* 1 FETCH /.test(l))).toBe(true)
    expect(trace.some((l) => /^C: \S+ ID \("name" "mailkeep" "version" "0\.1\.0"\)$/.test(l))).toBe(true)
    expect(new Set(memory.records.map((r) => r.level))).toEqual(new Set(['debug']))
    const all = JSON.stringify(memory.records)
    for (const piece of [dave.password, '9e1', Buffer.from(`\0dave\0${dave.password}`).toString('base64')]) expect(all).not.toContain(piece)
  })

  it('writes nothing at info level, and no protocol line without traceProtocol', async () => {
    const alice = dc.users[0]!
    const lines: string[] = []
    const info = createLogger({level: 'info', format: 'json', write: (l) => lines.push(l)})
    const session = await connectAs(dc, alice, {logger: info, traceProtocol: true})
    await session.logout()
    expect(lines).toEqual([])
    const memory = tracingLogger()
    const quiet = await connectAs(dc, alice, {logger: memory})
    await quiet.logout()
    expect(traceLines(memory)).toEqual([])
    expect(JSON.stringify(memory.records)).not.toContain(alice.password)
  })
})
