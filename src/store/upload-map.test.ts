import {mkdtemp, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {DamagedError, LockedError} from '../shared/errors.js'
import {silentLogger} from '../shared/logger.js'
import {acquireAccountLock} from './lock.js'
import {acquireUploadLock, FOLD_RECORDS, UploadMap, uploadJournalPath, uploadMapPath} from './upload-map.js'

let dir: string
let base: string

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mailkeep-upload-map-'))
  base = join(dir, 'INBOX')
})
afterEach(async () => {
  await rm(dir, {recursive: true, force: true})
})

const exists = async (path: string): Promise<boolean> => stat(path).then(() => true, () => false)

describe('the .mirror file (imap-backup compatible, compat §4.7)', () => {
  it('reads imap-backup\'s file and keeps its keys when rewriting it', async () => {
    await writeFile(uploadMapPath(base, 'mirror'), JSON.stringify({'dest@example.org': {source_uid_validity: 123, destination_uid_validity: 456, map: {'1': 17, '2': 18}}}))
    const map = await UploadMap.open(base, 'mirror', silentLogger)
    const entry = map.entry('dest@example.org', 'INBOX')!
    expect(entry.folder).toBeUndefined() // imap-backup names no folder: any folder matches
    expect(entry.sourceUidValidity).toBe(123)
    expect(entry.destinationUidValidity).toBe(456)
    expect([...entry.map]).toEqual([
      [1, 17],
      [2, 18],
    ])
    map.record('dest@example.org', 'INBOX', [[3, 19]])
    await map.close()
    const written = JSON.parse(await readFile(uploadMapPath(base, 'mirror'), 'utf8'))
    expect(written['dest@example.org']).toMatchObject({source_uid_validity: 123, destination_uid_validity: 456, map: {'1': 17, '2': 18, '3': 19}, mailkeep: {folder: 'INBOX'}})
    expect(await exists(uploadJournalPath(base, 'mirror'))).toBe(false)
  })

  it('keeps one entry per destination user; another folder replaces it', async () => {
    const map = await UploadMap.open(base, 'mirror', silentLogger)
    map.reset('b@x', 'INBOX', 1, 2)
    map.record('b@x', 'INBOX', [[5, 50]])
    expect(map.entry('b@x', 'Other')).toBeUndefined()
    map.reset('b@x', 'Other', 1, 9)
    expect(map.entry('b@x', 'INBOX')).toBeUndefined()
    expect(map.entry('b@x', 'Other')!.map.size).toBe(0)
    await map.close()
  })
})

describe('the .restore file', () => {
  it('keeps entries per destination user and folder, with the pending intent', async () => {
    const map = await UploadMap.open(base, 'restore', silentLogger)
    map.reset('b@x', 'INBOX', 10, 20)
    map.reset('b@x', 'INBOX-10', 10, 30)
    map.record('b@x', 'INBOX', [
      [1, 100],
      [2, 101],
    ])
    await map.intend('b@x', 'INBOX-10', {from: 7, uids: [3, 4]})
    await map.close()
    const text = await readFile(uploadMapPath(base, 'restore'), 'utf8')
    expect(JSON.parse(text)).toEqual({
      version: 1,
      destinations: {
        'b@x': {
          INBOX: {source_uid_validity: 10, destination_uid_validity: 20, map: {'1': 100, '2': 101}},
          'INBOX-10': {source_uid_validity: 10, destination_uid_validity: 30, map: {}, pending: {from: 7, uids: [3, 4]}},
        },
      },
    })
    const again = await UploadMap.open(base, 'restore', silentLogger)
    expect(again.entry('b@x', 'INBOX-10')!.pending).toEqual({from: 7, uids: [3, 4]})
    again.clearPending('b@x', 'INBOX-10')
    again.forget('b@x', 'INBOX', [1])
    await again.close()
    const third = await UploadMap.open(base, 'restore', silentLogger)
    expect(third.entry('b@x', 'INBOX-10')!.pending).toBeUndefined()
    expect([...third.entry('b@x', 'INBOX')!.map]).toEqual([[2, 101]])
    await third.close()
  })

  it("keeps a clash folder's entry marked as such through the journal, the file and a reset", async () => {
    const map = await UploadMap.open(base, 'restore', silentLogger)
    map.reset('b@x', 'Work', 10, 20, true)
    map.record('b@x', 'Work', [[1, 7]])
    map.reset('b@x', 'Work-10', 10, 30)
    await map.sync()
    // A crash now: only the journal holds the mark.
    const journal = await readFile(uploadJournalPath(base, 'restore'), 'utf8')
    expect(journal).toContain('"c":true')
    const fromJournal = await UploadMap.open(base, 'restore', silentLogger)
    expect(fromJournal.entry('b@x', 'Work')).toMatchObject({clash: true, destinationUidValidity: 20})
    expect(fromJournal.entry('b@x', 'Work-10')!.clash).toBe(false)
    await fromJournal.close()
    const written = JSON.parse(await readFile(uploadMapPath(base, 'restore'), 'utf8'))
    expect(written.destinations['b@x'].Work).toEqual({source_uid_validity: 10, destination_uid_validity: 20, map: {'1': 7}, clash: true})
    expect(written.destinations['b@x']['Work-10']).not.toHaveProperty('clash')
    const fromFile = await UploadMap.open(base, 'restore', silentLogger)
    expect(fromFile.entry('b@x', 'Work')!.clash).toBe(true)
    fromFile.reset('b@x', 'Work', 10, 21) // the folder became a destination: the mark goes
    await fromFile.close()
    const third = await UploadMap.open(base, 'restore', silentLogger)
    expect(third.entry('b@x', 'Work')!.clash).toBe(false)
    await third.close()
    await writeFile(uploadMapPath(base, 'restore'), JSON.stringify({version: 1, destinations: {'b@x': {Work: {source_uid_validity: 1, destination_uid_validity: 2, map: {}, clash: 'yes'}}}}))
    await expect(UploadMap.open(base, 'restore', silentLogger)).rejects.toThrow(/invalid "clash"/)
  })
})

describe('the journal', () => {
  it('makes an intent durable before anything else: a crash (no close) keeps it and what was synced', async () => {
    const map = await UploadMap.open(base, 'restore', silentLogger)
    map.reset('b@x', 'F', 1, 2)
    map.record('b@x', 'F', [[1, 10]])
    await map.intend('b@x', 'F', {from: 11, uids: [2, 3]})
    map.record('b@x', 'F', [[2, 11]]) // buffered only: lost in the "crash"
    // No close(): the process dies here. The map file was never written.
    expect(await exists(uploadMapPath(base, 'restore'))).toBe(false)
    const after = await UploadMap.open(base, 'restore', silentLogger)
    const entry = after.entry('b@x', 'F')!
    expect([...entry.map]).toEqual([[1, 10]])
    expect(entry.pending).toEqual({from: 11, uids: [2, 3]})
    // Opening folded the journal into the file.
    expect(await exists(uploadJournalPath(base, 'restore'))).toBe(false)
    expect(await exists(uploadMapPath(base, 'restore'))).toBe(true)
    await after.close()
  })

  it('ignores a torn last line and replays over a file it was already folded into', async () => {
    const map = await UploadMap.open(base, 'mirror', silentLogger)
    map.reset('b@x', 'F', 1, 2)
    map.record('b@x', 'F', [[1, 10]])
    await map.sync()
    const journal = await readFile(uploadJournalPath(base, 'mirror'), 'utf8')
    await map.fold() // the file now holds it all…
    await writeFile(uploadJournalPath(base, 'mirror'), journal + '{"t":"m","u":"b@x","f":"F","p":[[2,') // …and a crash left the journal
    const again = await UploadMap.open(base, 'mirror', silentLogger)
    expect([...again.entry('b@x', 'F')!.map]).toEqual([[1, 10]])
    await again.close()
  })

  it('refuses a garbled line that is not the last one', async () => {
    await writeFile(uploadJournalPath(base, 'restore'), 'garbage\n{"t":"r","u":"b","f":"F","s":1,"d":2}\n')
    await expect(UploadMap.open(base, 'restore', silentLogger)).rejects.toBeInstanceOf(DamagedError)
  })

  it('is folded into the map after FOLD_RECORDS records, not rewritten per batch', async () => {
    const map = await UploadMap.open(base, 'restore', silentLogger)
    map.reset('b@x', 'F', 1, 2)
    let folded = 0
    for (let i = 1; i <= FOLD_RECORDS + 10; i++) {
      map.record('b@x', 'F', [[i, i + 1000]])
      if (i % 500 === 0) {
        await map.sync()
        if (!(await exists(uploadJournalPath(base, 'restore')))) folded++
      }
    }
    expect(folded).toBe(1)
    await map.close()
    const again = await UploadMap.open(base, 'restore', silentLogger)
    expect(again.entry('b@x', 'F')!.map.size).toBe(FOLD_RECORDS + 10)
    await again.close()
  })
})

describe('damage', () => {
  it('refuses a map file that is not JSON or has non-UID values, naming the file', async () => {
    await writeFile(uploadMapPath(base, 'mirror'), '{')
    await expect(UploadMap.open(base, 'mirror', silentLogger)).rejects.toThrow(/INBOX\.mirror' is not valid JSON/)
    await writeFile(uploadMapPath(base, 'mirror'), JSON.stringify({u: {source_uid_validity: 1, destination_uid_validity: 2, map: {x: 3}}}))
    await expect(UploadMap.open(base, 'mirror', silentLogger)).rejects.toBeInstanceOf(DamagedError)
    await writeFile(uploadMapPath(base, 'restore'), JSON.stringify({version: 2, destinations: {}}))
    await expect(UploadMap.open(base, 'restore', silentLogger)).rejects.toThrow(/unsupported version/)
  })
})

describe('acquireUploadLock', () => {
  it('admits one upload at a time, independently of the account lock', async () => {
    const account = await acquireAccountLock(dir, 'shared')
    const first = await acquireUploadLock(dir)
    await expect(acquireUploadLock(dir)).rejects.toBeInstanceOf(LockedError)
    await first.release()
    const second = await acquireUploadLock(dir)
    await second.release()
    await account.release()
  })
})
