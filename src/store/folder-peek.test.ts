import {appendFile, mkdtemp, readFile, rm, stat, truncate, unlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {silentLogger} from '../shared/logger.js'
import {peekFolderState} from './folder-peek.js'
import {FolderStore} from './folder-store.js'

let root: string

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mailkeep-peek-'))
})

afterEach(async () => {
  await rm(root, {recursive: true, force: true})
})

const STATE = {uidNext: 4, highestModseq: '77', delimiter: '/', prefix: ''}

/** A folder written by mailkeep, with three messages and the server state recorded. */
async function backedUp(name = 'Work/Lists'): Promise<FolderStore> {
  const folder = await FolderStore.open(root, name, {mode: 'write', logger: silentLogger})
  await folder.initialize(42)
  const tx = await folder.begin()
  for (const uid of [1, 2, 3]) await tx.append({uid, flags: ['\\Seen'], internalDate: new Date(1_700_000_000_000)}, Buffer.from(`Subject: ${uid}\r\n\r\nbody\r\n`))
  tx.setServerState(STATE)
  await tx.commit()
  await folder.close()
  return folder
}

describe('peekFolderState', () => {
  it("reads a folder's recorded server state from the head of its metadata", async () => {
    await backedUp()
    expect(await peekFolderState(root, 'Work/Lists')).toEqual({uidValidity: 42, ...STATE})
  })

  // Found by the hostile-local reliability suite: a no-op backup reported these folders unchanged.
  it.each([
    ['a truncated message list', async (f: FolderStore) => writeFile(f.paths.imap, (await readFile(f.paths.imap, 'utf8')).slice(0, -30))],
    ['a garbled byte in the message list', async (f: FolderStore) => {
      const bytes = await readFile(f.paths.imap)
      bytes[bytes.indexOf('"offset"') + 3] = 0x7e
      await writeFile(f.paths.imap, bytes)
    }],
    ['an mbox with a torn tail', async (f: FolderStore) => truncate(f.paths.mbox, (await stat(f.paths.mbox)).size - 5)],
    ['bytes after the last message', async (f: FolderStore) => appendFile(f.paths.mbox, 'From junk@example.test Mon Jan  1 00:00:00 2024\n\nx\n')],
    ['a last message that does not start with a From line', async (f: FolderStore) => {
      const bytes = await readFile(f.paths.mbox)
      bytes[bytes.lastIndexOf('From ')] = 0x66
      await writeFile(f.paths.mbox, bytes)
    }],
  ])('gives nothing for %s: the full open reports it', async (_what, damage) => {
    const folder = await backedUp()
    expect(await peekFolderState(root, 'Work/Lists')).toEqual({uidValidity: 42, ...STATE})
    await damage(folder)
    expect(await peekFolderState(root, 'Work/Lists')).toBeUndefined()
    await expect(FolderStore.open(root, 'Work/Lists', {mode: 'read', logger: silentLogger})).rejects.toThrow(/metadata file|\.imap file|\.mbox file|not found at expected offset/)
  })

  it('is not misled by the key name inside a string of the header', async () => {
    await writeFile(join(root, 'INBOX.mbox'), '')
    await writeFile(join(root, 'INBOX.imap'), '{"version":3,"uid_validity":42,"mailkeep":{"format":1,"uidnext":9,"prefix":"a,\\"messages\\":[x"},"messages":[],"mailkeep_messages":[]}')
    expect(await peekFolderState(root, 'INBOX')).toEqual({uidValidity: 42, uidNext: 9, prefix: 'a,"messages":[x'})
  })

  it('gives nothing for a folder with no backup yet', async () => {
    expect(await peekFolderState(root, 'INBOX')).toBeUndefined()
  })

  it('gives nothing where opening the folder must run recovery or report damage', async () => {
    const folder = await backedUp()
    await writeFile(folder.paths.journal, '{"j":1}\n')
    expect(await peekFolderState(root, 'Work/Lists')).toBeUndefined()
    await unlink(folder.paths.journal)
    await writeFile(folder.paths.renameIntent, '{}')
    expect(await peekFolderState(root, 'Work/Lists')).toBeUndefined()
    await unlink(folder.paths.renameIntent)
    for (const path of [folder.paths.imapCompact, folder.paths.mboxCompact]) {
      await writeFile(path, '')
      expect(await peekFolderState(root, 'Work/Lists')).toBeUndefined()
      await unlink(path)
    }
    expect(await peekFolderState(root, 'Work/Lists')).toEqual({uidValidity: 42, ...STATE})
    await unlink(folder.paths.mbox)
    expect(await peekFolderState(root, 'Work/Lists')).toBeUndefined()
  })

  it.each([
    ['written by imap-backup (its key order, no extension keys)', '{"version":3,"uid_validity":42,"messages":[]}'],
    ['a version 2 file', '{"version":2,"uid_validity":42,"uids":[]}'],
    ['from a newer mailkeep', '{"version":3,"uid_validity":42,"mailkeep":{"format":99},"messages":[]}'],
    ['with a header that is not valid', '{"version":3,"uid_validity":"x","mailkeep":{"format":1},"messages":[]}'],
    ['not JSON', 'garbage'],
  ])('gives nothing for metadata %s: the full open decides', async (_what, text) => {
    await writeFile(join(root, 'INBOX.mbox'), '')
    await writeFile(join(root, 'INBOX.imap'), text)
    expect(await peekFolderState(root, 'INBOX')).toBeUndefined()
  })
})
