// The checks the reliability scenarios rely on must be able to fail: the committed state read
// from a running backup's files, the "ends at the last savepoint" check with a journal left by a
// full disk, the phase of a run as the proxy sees it, and the minimums of the results table.
import {mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import type {RecordedCommand, TcpProxy} from '../../support/tcp-proxy.js'
import {testTempDir} from '../../support/temp-dir.js'
import {CommitWatch, committedNow} from './commit-watch.js'
import {Ledger, mergeRows, RunCheck, rowFailed, unmet} from './ledger.js'
import {SessionWatch} from './session-watch.js'
import {checkAtSavepoint} from './verify.js'

const entry = (uid: number, offset: number, length: number): Record<string, unknown> => ({uid, offset, length, flags: []})
const imap = (messages: Array<Record<string, unknown>>, journal?: string): string =>
  JSON.stringify({version: 3, uid_validity: 7, ...(journal === undefined ? {} : {mailkeep: {format: 1, journal}}), messages})
const header = (count: number, end: number): string => JSON.stringify({j: 1, id: 'J1', uid_validity: 7, base_count: count, base_end: end})
const add = (uid: number, offset: number, length: number): string => JSON.stringify({t: 'a', m: entry(uid, offset, length)})
const savepoint = (end: number, count: number): string => JSON.stringify({t: 'c', end, count})

async function folder(files: {imap: string; journal?: string; mboxBytes: number}): Promise<string> {
  const root = await testTempDir('mailkeep-rel-lib-')
  await mkdir(root, {recursive: true})
  await writeFile(join(root, 'INBOX.imap'), files.imap)
  await writeFile(join(root, 'INBOX.mbox'), Buffer.alloc(files.mboxBytes, 0x61))
  if (files.journal !== undefined) await writeFile(join(root, 'INBOX.imap.journal'), files.journal)
  return root
}

describe('committed state of a running backup', () => {
  it('counts .imap and journal records followed by a savepoint, not those after it or a torn line', async () => {
    const journal = [header(1, 10), add(2, 10, 5), savepoint(15, 2), add(3, 15, 5), '{"t":"c","end":2'].join('\n')
    const root = await folder({imap: imap([entry(1, 0, 10)]), journal, mboxBytes: 20})
    const state = committedNow(root, ['INBOX']).get('INBOX')!
    expect([...state.uids].sort()).toEqual([1, 2])
    expect(state.count).toBe(2)
  })

  it('reports committed UIDs that the files no longer hold, and a count below the one at the mark', async () => {
    const root = await folder({imap: imap([entry(1, 0, 10)]), journal: [header(1, 10), add(2, 10, 5), savepoint(15, 2), ''].join('\n'), mboxBytes: 15})
    const watch = new CommitWatch(root, ['INBOX'], 1_000)
    watch.mark()
    await watch.stop()
    // A "rollback" that lost the committed UID 2.
    await writeFile(join(root, 'INBOX.imap'), imap([entry(1, 0, 10)]))
    await writeFile(join(root, 'INBOX.imap.journal'), '')
    const check = new RunCheck()
    expect(watch.expectKept(check, 'test')).toEqual({atMark: 2, final: 1})
    expect(check.lost).toBe(1)
    expect(check.problems.join('\n')).toMatch(/holds 1 messages, 2 were committed/)
  })
})

describe('checkAtSavepoint', () => {
  it('refuses a journal unless told that a full disk may leave one', async () => {
    const root = await folder({imap: imap([entry(1, 0, 10)]), journal: [header(1, 10), add(2, 10, 5), savepoint(15, 2), add(3, 15, 5), ''].join('\n'), mboxBytes: 15})
    const strict = new RunCheck()
    await checkAtSavepoint(strict, root, 'INBOX')
    expect(strict.problems.join('\n')).toMatch(/journal left behind/)
    const lenient = new RunCheck()
    let journals = 0
    expect(await checkAtSavepoint(lenient, root, 'INBOX', {journal: 'committed', onJournal: () => journals++})).toEqual([1, 2])
    expect(lenient.problems).toEqual([])
    expect(journals).toBe(1)
  })

  it('finds an mbox that does not end at the last savepoint, and a journal that does not extend .imap', async () => {
    const long = await folder({imap: imap([entry(1, 0, 10)]), journal: [header(1, 10), add(2, 10, 5), savepoint(15, 2), ''].join('\n'), mboxBytes: 20})
    const check = new RunCheck()
    await checkAtSavepoint(check, long, 'INBOX', {journal: 'committed'})
    expect(check.problems.join('\n')).toMatch(/mbox is 20 bytes, committed entries end at 15/)
    const foreign = await folder({imap: imap([entry(1, 0, 10)]), journal: [header(0, 0), savepoint(0, 0), ''].join('\n'), mboxBytes: 10})
    const other = new RunCheck()
    await checkAtSavepoint(other, foreign, 'INBOX', {journal: 'committed'})
    expect(other.problems.join('\n')).toMatch(/does not extend \.imap/)
  })
})

describe('SessionWatch', () => {
  it('is working from the first command after the login until LOGOUT', () => {
    const listeners = new Set<(c: RecordedCommand) => void>()
    const proxy = {
      onCommand: (l: (c: RecordedCommand) => void) => {
        listeners.add(l)
        return () => listeners.delete(l)
      },
    } as unknown as TcpProxy
    const send = (connection: number, name: string): void => {
      for (const l of listeners) l({connection, tag: 'A', name, line: name})
    }
    const watch = new SessionWatch([proxy])
    send(1, 'CAPABILITY')
    send(1, 'LOGIN')
    expect(watch.phase()).toBe('starting')
    send(1, 'LIST')
    expect(watch.phase()).toBe('working')
    send(1, 'LOGOUT')
    expect(watch.phase()).toBe('finishing')
    watch.close()
    expect(listeners.size).toBe(0)
  })
})

describe('Ledger minimums', () => {
  it('a scenario whose runs all passed still fails when a minimum was not reached', async () => {
    const ledger = new Ledger(1)
    ledger.atLeast('s', 'kills while working', 2)
    await ledger.run('s', 'trial', 1, async () => undefined)
    ledger.count('s', 'kills while working')
    const row = ledger.get('s')!
    expect(unmet(row)).toEqual([`s: 'kills while working' is 1, at least 2 required`])
    expect(rowFailed(row)).toBe(true)
    ledger.count('s', 'kills while working')
    expect(rowFailed(row)).toBe(false)
    expect(ledger.table()).toContain('kills while working: 2 (≥ 2)')
  })
})

describe('mergeRows', () => {
  it('adds up the rows of one scenario from several workers and keeps other scenarios apart', async () => {
    const a = new Ledger(7)
    const b = new Ledger(7)
    a.atLeast('s', 'kills', 3)
    b.atLeast('s', 'kills', 3)
    await a.run('s', 'one', 1, async () => undefined)
    await b.run('s', 'two', 2, async (check) => check.addLost(2, 'gone'))
    await b.run('t', 'three', 3, async () => undefined)
    a.count('s', 'kills', 2)
    b.count('s', 'kills', 2)
    a.label('s', 'disk', 'tmpfs')
    b.label('s', 'disk', 'tmpfs')
    a.label('t', 'way', 'x')
    b.label('t', 'way', 'y')
    const rows = mergeRows([...a.rows.values(), ...b.rows.values()])
    expect(rows.map((r) => r.scenario)).toEqual(['s', 't'])
    const s = rows[0]!
    expect([s.runs, s.passed, s.lost, s.duplicated]).toEqual([2, 1, 2, 0])
    expect(s.notes.get('kills')).toBe(4)
    expect(unmet(s)).toEqual([])
    expect(rowFailed(s)).toBe(true)
    expect(s.notes.get('disk')).toBe('tmpfs')
    expect(rows[1]!.runs).toBe(1)
    expect(rows[1]!.notes.get('way')).toBe('x / y')
    // The inputs are left as they were.
    expect(a.get('s')!.runs).toBe(1)
    expect(a.get('s')!.notes.get('kills')).toBe(2)
  })
})
