import {mkdtemp, readFile, rm, unlink, writeFile} from 'node:fs/promises'
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

  it('does not need the message list: only the header is read', async () => {
    const folder = await backedUp()
    const text = await readFile(folder.paths.imap, 'utf8')
    // A message list that would not parse: the peek never gets there.
    const head = text.slice(0, text.indexOf('"messages":[') + '"messages":['.length)
    await writeFile(folder.paths.imap, `${head}{"uid":`)
    expect(await peekFolderState(root, 'Work/Lists')).toEqual({uidValidity: 42, ...STATE})
  })

  it('is not misled by the key name inside a string of the header', async () => {
    await writeFile(join(root, 'INBOX.mbox'), '')
    await writeFile(join(root, 'INBOX.imap'), '{"version":3,"uid_validity":42,"mailkeep":{"format":1,"uidnext":9,"prefix":"a,\\"messages\\":[x"},"messages":[]}')
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
