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
    await writeFile(join(root, 'INBOX.imap'), '{"version":3,"uid_validity":42,"mailkeep":{"format":2,"exact":0,"uidnext":9,"prefix":"a,\\"messages\\":[x"},"messages":[]}')
    expect(await peekFolderState(root, 'INBOX')).toEqual({uidValidity: 42, uidNext: 9, prefix: 'a,"messages":[x'})
  })

  it("gives nothing for mailkeep 0.1.0's format: opening the folder moves its exactness records out", async () => {
    await writeFile(join(root, 'INBOX.mbox'), '')
    await writeFile(join(root, 'INBOX.imap'), '{"version":3,"uid_validity":42,"mailkeep":{"format":1,"quoting":"mboxrd","uidnext":9},"messages":[],"mailkeep_messages":[]}')
    expect(await peekFolderState(root, 'INBOX')).toBeUndefined()
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
    ['with a header that is not valid', '{"version":3,"uid_validity":"x","mailkeep":{"format":2,"exact":0},"messages":[]}'],
    ['not JSON', 'garbage'],
  ])('gives nothing for metadata %s: the full open decides', async (_what, text) => {
    await writeFile(join(root, 'INBOX.mbox'), '')
    await writeFile(join(root, 'INBOX.imap'), text)
    expect(await peekFolderState(root, 'INBOX')).toBeUndefined()
  })

  describe('the exactness file, read in step with the message list', () => {
    it.each([
      ['it is missing', async (f: FolderStore) => unlink(f.paths.exact)],
      ['it names another journal (a crash between its write and the .imap one, or another copy)', async (f: FolderStore) =>
        writeFile(f.paths.exact, (await readFile(f.paths.exact, 'utf8')).replace(/"journal":"[^"]*"/, '"journal":"other"'))],
      ['it has another UIDVALIDITY', async (f: FolderStore) => writeFile(f.paths.exact, (await readFile(f.paths.exact, 'utf8')).replace('"uid_validity":42', '"uid_validity":43'))],
      ['a row is missing', async (f: FolderStore) => {
        const file = JSON.parse(await readFile(f.paths.exact, 'utf8'))
        file.messages.splice(1, 1)
        await writeFile(f.paths.exact, JSON.stringify(file))
      }],
      ["a row's offset is not its entry's (another tool rewrote the folder)", async (f: FolderStore) => {
        const file = JSON.parse(await readFile(f.paths.exact, 'utf8'))
        file.messages[2][1] += 1
        await writeFile(f.paths.exact, JSON.stringify(file))
      }],
      ['it is not JSON', async (f: FolderStore) => writeFile(f.paths.exact, '{"mailkeep_exact":1,')],
      ['a rewrite left its new exactness file', async (f: FolderStore) => writeFile(f.paths.exactCompact, '{}')],
    ])('gives nothing when %s: the full open reports it', async (_what, change) => {
      const folder = await backedUp()
      await change(folder)
      expect(await peekFolderState(root, 'Work/Lists')).toBeUndefined()
    })

    it('whatever it accepts binds every row to its entry, as opening the folder does', async () => {
      const folder = await backedUp()
      const original = await readFile(folder.paths.exact)
      let accepted = 0
      for (let at = 0; at < original.length; at++) {
        for (const value of [0x30, 0x39, 0x2c, 0x5d, 0x2d]) {
          if (original[at] === value) continue
          const bytes = Buffer.from(original)
          bytes[at] = value
          await writeFile(folder.paths.exact, bytes)
          if ((await peekFolderState(root, 'Work/Lists')) === undefined) continue
          accepted++
          const opened = await FolderStore.open(root, 'Work/Lists', {mode: 'read', logger: silentLogger})
          expect(opened.exactnessFile.binding, `byte ${at} = ${value}`).toMatchObject({rows: 3, bound: 3, unmatchedUids: []})
          await opened.close()
        }
      }
      // A digit of a size or an INTERNALDATE changes no binding: not everything is refused.
      expect(accepted).toBeGreaterThan(0)
    })
  })
})
