import {appendFile, mkdtemp, readFile, rm, stat, truncate, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {silentLogger} from '../shared/logger.js'
import {folderPaths} from './folder-paths.js'
import {peekFolderState} from './folder-peek.js'
import {FolderStore} from './folder-store.js'
import {firstError, firstOverlap, inspectFolder, journalFacts, type FolderFacts} from './inspection.js'
import {checkFolder} from './integrity.js'
import {MessageTable} from './message-table.js'

const paths = folderPaths('/backup', 'INBOX')
const clean: FolderFacts = {paths, interrupted: [], imapPresent: true, mboxSize: 30, list: {count: 2, end: 30}, heads: [{uid: 2, offset: 20, from: true}]}
const codes = (facts: Partial<FolderFacts>, writerPid?: number): string[] =>
  inspectFolder({...clean, ...facts}, {repair: 'fix', ...(writerPid === undefined ? {} : {writerPid})}).map((f) => `${f.severity} ${f.code}`)

describe('inspectFolder (the rules every reader of a folder applies)', () => {
  it('finds nothing in a committed folder', () => {
    expect(codes({})).toEqual([])
  })

  it('an mbox that ends elsewhere than the last entry: shorter always, longer unless a journal explains it (I7)', () => {
    expect(codes({mboxSize: 29})).toEqual(['error mbox-shorter'])
    expect(codes({mboxSize: 31})).toEqual(['error mbox-longer'])
    expect(codes({mboxSize: 31, journal: {state: 'pending', appended: 0}})).toEqual(['warning pending-journal'])
    expect(codes({mboxSize: 31, journal: {state: 'mismatch', baseCount: 1, baseEnd: 10}})).toEqual(['error journal-mismatch', 'error mbox-longer'])
  })

  it('bytes in the mbox of a folder that lists no messages', () => {
    expect(codes({list: {count: 0, end: 0}, heads: [], mboxSize: 5})).toEqual(['error no-messages-mbox-not-empty'])
    expect(codes({list: {count: 0, end: 0}, heads: [], mboxSize: 5, journal: {state: 'pending', appended: undefined}})).toEqual(['warning pending-journal'])
  })

  it('a missing mbox is an error only when messages are listed', () => {
    expect(codes({mboxSize: undefined})).toEqual(['error mbox-missing'])
    expect(codes({mboxSize: undefined, list: {count: 0, end: 0}, heads: []})).toEqual(['warning mbox-missing'])
  })

  it('entries out of order, and an entry that does not start with a From line', () => {
    expect(codes({list: {count: 2, end: 30, overlap: {index: 1, uid: 2, offset: 5, previousEnd: 20}}})).toEqual(['error offsets-out-of-order'])
    expect(codes({heads: [{uid: 2, offset: 20, from: false}]})).toEqual(['error message-not-at-offset'])
  })

  it('a folder without .imap: a journal or mbox bytes are damage, an empty mbox is a folder not backed up yet', () => {
    expect(codes({imapPresent: false, mboxSize: 0})).toEqual([])
    expect(codes({imapPresent: false, mboxSize: 10})).toEqual(['error mbox-without-imap'])
    expect(codes({imapPresent: false, mboxSize: undefined, journal: {state: 'pending', appended: undefined}})).toEqual(['error journal-mismatch'])
  })

  it('an unfinished operation and a pending journal are warnings; a running backup\'s journal names it and offers no repair', () => {
    expect(codes({interrupted: [paths.renameIntent]})).toEqual(['warning interrupted-operation'])
    const running = inspectFolder({...clean, journal: {state: 'pending', appended: 3}}, {repair: 'fix', writerPid: 4242})
    expect(running.map((f) => [f.code, f.repair])).toEqual([['pending-journal', undefined]])
    expect(running[0]!.message).toContain('pid 4242')
    expect(running[0]!.message).toContain('3 committed message(s)')
  })

  it('firstError skips warnings', () => {
    const findings = inspectFolder({...clean, interrupted: [paths.imapCompact], mboxSize: 29}, {repair: undefined})
    expect(firstError(findings)?.code).toBe('mbox-shorter')
    expect(firstError(inspectFolder({...clean, interrupted: [paths.imapCompact]}, {repair: undefined}))).toBeUndefined()
  })
})

describe('firstOverlap and journalFacts', () => {
  const table = MessageTable.from([
    {uid: 1, offset: 0, length: 10, flags: []},
    {uid: 2, offset: 10, length: 10, flags: []},
    {uid: 3, offset: 15, length: 10, flags: []},
  ])
  it('finds the first entry that starts inside the one before, from a given row on', () => {
    expect(firstOverlap(table)).toEqual({index: 2, uid: 3, offset: 15, previousEnd: 20})
    expect(firstOverlap(table, 2)).toEqual({index: 2, uid: 3, offset: 15, previousEnd: 20})
    expect(firstOverlap(MessageTable.from([{uid: 1, offset: 0, length: 10, flags: []}]))).toBeUndefined()
  })
  it('a journal explains the mbox only when it began on this .imap (I4)', () => {
    const meta = {journalId: 'j1', uidValidity: 7, count: 2, end: 20}
    expect(journalFacts(undefined, meta, 0)).toEqual({state: 'pending', appended: undefined})
    expect(journalFacts({id: 'j1', uid_validity: 1, base_count: 0, base_end: 0}, meta, 5)).toEqual({state: 'pending', appended: undefined})
    expect(journalFacts({id: 'j2', uid_validity: 7, base_count: 2, base_end: 20}, meta, 5)).toEqual({state: 'pending', appended: 5})
    expect(journalFacts({id: 'j2', uid_validity: 7, base_count: 1, base_end: 20}, meta, 5)).toEqual({state: 'mismatch', baseCount: 1, baseEnd: 20})
    expect(journalFacts({id: 'j2', uid_validity: 8, base_count: 2, base_end: 20}, meta, 5).state).toBe('mismatch')
  })
})

// The three readers of a folder agree, because they apply the same rules: the no-op skip finds a
// folder clean only when opening it succeeds and `local check` has no error; opening fails exactly
// when the check lists an error.
describe('opening, local check and the no-op skip agree on damage', () => {
  let root: string
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'mailkeep-inspect-'))
  })
  afterEach(async () => {
    await rm(root, {recursive: true, force: true})
  })

  async function backedUp(): Promise<FolderStore> {
    const folder = await FolderStore.open(root, 'INBOX', {mode: 'write', logger: silentLogger})
    await folder.initialize(42)
    const tx = await folder.begin()
    for (const uid of [1, 2, 3]) await tx.append({uid, flags: [], internalDate: new Date(1_700_000_000_000)}, Buffer.from(`Subject: ${uid}\r\n\r\nbody\r\n`))
    tx.setServerState({uidNext: 4, delimiter: '/', prefix: ''})
    await tx.commit()
    await folder.close()
    return folder
  }

  const imapText = async (f: FolderStore): Promise<string> => readFile(f.paths.imap, 'utf8')
  it.each([
    ['nothing changed', async () => undefined],
    ['a torn tail', async (f: FolderStore) => truncate(f.paths.mbox, (await stat(f.paths.mbox)).size - 3)],
    ['bytes after the last message', async (f: FolderStore) => appendFile(f.paths.mbox, 'From x\n\nextra\n')],
    ['a last entry moved by one byte', async (f: FolderStore) => {
      const text = await imapText(f)
      const at = text.lastIndexOf('"offset":') + '"offset":'.length
      const offset = Number(/^\d+/.exec(text.slice(at))![0])
      await writeFile(f.paths.imap, text.slice(0, at) + String(offset + 1) + text.slice(at + String(offset).length).replace(/"length":(\d+)/, (_m, n: string) => `"length":${Number(n) - 1}`))
    }],
    ['a message list emptied', async (f: FolderStore) => writeFile(f.paths.imap, (await imapText(f)).replace(/"messages":\[.*\]\}$/, '"messages":[]}'))],
    ['entries out of order', async (f: FolderStore) => {
      const text = await imapText(f)
      const list = /"messages":\[(.*)\]\}$/.exec(text)![1]!
      const entries = list.split(/,(?=\{"uid")/)
      await writeFile(f.paths.imap, text.replace(list, [entries[1], entries[0], entries[2]].join(',')))
    }],
  ])('%s', async (_what, damage) => {
    const folder = await backedUp()
    await damage(folder)
    const skip = (await peekFolderState(root, 'INBOX')) !== undefined
    const opened = await FolderStore.open(root, 'INBOX', {mode: 'read', logger: silentLogger}).then(
      async (f) => {
        await f.close()
        return true
      },
      () => false,
    )
    const errors = (await checkFolder(root, 'INBOX')).filter((f) => f.severity === 'error')
    expect(opened, errors.map((e) => e.message).join('\n')).toBe(errors.length === 0)
    if (skip) expect(opened).toBe(true)
    // Undamaged, all three say so.
    if (_what === 'nothing changed') expect([skip, opened]).toEqual([true, true])
    else expect(skip).toBe(false)
  })
})
