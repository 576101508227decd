import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {mkdtemp, readFile, rm, stat, symlink, truncate, writeFile, appendFile, readdir, rename} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {DamagedError, InternalError, UnsupportedFormatError} from '../shared/errors.js'
import {memoryLogger, silentLogger} from '../shared/logger.js'
import {FolderStore} from './folder-store.js'
import {parseJournal} from './journal.js'
import {parseMetadata, type FolderMetadata} from './metadata.js'
import {STRATEGIES, type Strategy} from './tuning.js'
import type {Transaction} from './transaction.js'

let root: string

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mailkeep-folder-'))
})

afterEach(async () => {
  await rm(root, {recursive: true, force: true})
})

/** A message whose bytes depend on its UID, with the shapes the codec must keep exact. */
function message(uid: number, extra = ''): Buffer {
  const body = uid % 3 === 0 ? `From the start\r\n>From quoted\r\nline ${uid}\n` : `Hello ${uid}\r\nFrom: not a header\r\n`
  return Buffer.from(`From: sender${uid}@example.test\r\nDate: Tue, 5 Mar 2024 08:07:09 +0100\r\nSubject: m${uid}\r\n\r\n${body}${extra}${uid % 2 === 0 ? '' : '\r\n'}`)
}

const incoming = (uid: number, flags: string[] = ['\\Seen']) => ({uid, flags, internalDate: new Date(1_700_000_000_000 + uid * 1000)})

async function openWrite(name = 'INBOX', logger = silentLogger): Promise<FolderStore> {
  return FolderStore.open(root, name, {mode: 'write', logger, account: 'me@example.test'})
}

async function readMeta(name = 'INBOX'): Promise<FolderMetadata> {
  return parseMetadata(await readFile(join(root, `${name}.imap`), 'utf8'), 'x') as FolderMetadata
}

async function appendAll(tx: Transaction, uids: number[]): Promise<void> {
  for (const uid of uids) await tx.append(incoming(uid), message(uid))
}

async function expectConsistent(folder: FolderStore, uids: number[]): Promise<void> {
  expect([...folder.messages].map((m) => m.uid)).toEqual(uids)
  const size = (await stat(folder.paths.mbox)).size
  expect(size).toBe(folder.messages.end)
  let offset = 0
  for (const m of folder.messages) {
    expect(m.offset).toBe(offset)
    offset += m.length
    const stored = await folder.readMessage(m.uid)
    expect(stored.exact).toBe(true)
    expect(stored.bytes.equals(message(m.uid))).toBe(true)
  }
}

describe('a new folder', () => {
  it('does not exist until initialized, then has an empty pair (0600 files, 0700 dirs)', async () => {
    const folder = await FolderStore.open(root, 'Archive/2024', {mode: 'write', logger: silentLogger})
    expect(folder.exists).toBe(false)
    await folder.initialize(1234)
    expect(folder.uidValidity).toBe(1234)
    expect((await stat(join(root, 'Archive'))).mode & 0o777).toBe(0o700)
    expect((await stat(join(root, 'Archive/2024.mbox'))).size).toBe(0)
    expect((await stat(join(root, 'Archive/2024.imap'))).mode & 0o777).toBe(0o600)
    expect((await readMeta('Archive/2024')).uidValidity).toBe(1234)
    await folder.close()
  })
})

describe.each(STRATEGIES)('strategy %s', (strategy: Strategy) => {
  it('stores every message byte-exact, with contiguous offsets, and folds the journal at commit', async () => {
    const folder = await openWrite()
    await folder.initialize(7)
    const tx = await folder.begin({strategy, savepointMessages: 4})
    await appendAll(tx, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    const stats = await tx.commit()
    expect(stats.appended).toBe(10)
    await expectConsistent(folder, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    await expect(stat(folder.paths.journal)).rejects.toThrow(/ENOENT/)
    const meta = await readMeta()
    expect(meta.messages).toHaveLength(10)
    expect(meta.messages.recordCount).toBe(10)
    expect(meta.messages.flagsAt(0)).toEqual(['Seen'])
    expect(meta.messages.exactness(1)![2]).toBe(1_700_000_001)
    await folder.close()
    // A second open sees the same and changes nothing.
    const again = await openWrite()
    await expectConsistent(again, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    await again.close()
  })

  it('rolls back to the last savepoint and keeps what was committed', async () => {
    const folder = await openWrite()
    await folder.initialize(7)
    const tx = await folder.begin({strategy, savepointMessages: 3})
    await appendAll(tx, [1, 2, 3, 4, 5])
    await tx.rollback()
    const expected = strategy === 'direct' ? [1, 2, 3, 4, 5] : [1, 2, 3]
    await expectConsistent(folder, expected)
    expect([...(await readMeta()).messages].map((m) => m.uid)).toEqual(expected)
    await expect(stat(folder.paths.journal)).rejects.toThrow(/ENOENT/)
    // The folder can be written again after a rollback.
    const next = await folder.begin({strategy})
    await appendAll(next, [6])
    await next.commit()
    await expectConsistent(folder, [...expected, 6])
    await folder.close()
  })

  it('recovers after a crash: the uncommitted tail is cut, committed messages are kept', async () => {
    const folder = await openWrite()
    await folder.initialize(7)
    const tx = await folder.begin({strategy, savepointMessages: 3, delayAllMaxBytes: 1})
    await appendAll(tx, [1, 2, 3, 4, 5])
    // Simulate kill -9: the process vanishes without rollback; force buffered bytes out first so
    // that there is a real tail in the file.
    await (tx as unknown as {flush(): Promise<void>}).flush()
    const sizeAtCrash = (await stat(folder.paths.mbox)).size
    const log = memoryLogger()
    const recovered = await openWrite('INBOX', log)
    const expected = strategy === 'direct' ? [1, 2, 3, 4, 5] : [1, 2, 3]
    await expectConsistent(recovered, expected)
    if (strategy !== 'direct') {
      expect(sizeAtCrash).toBeGreaterThan((await stat(folder.paths.mbox)).size)
      expect(log.records.some((r) => r.level === 'warn' && /uncommitted data/.test(r.message))).toBe(true)
    }
    await expect(stat(folder.paths.journal)).rejects.toThrow(/ENOENT/)
    await recovered.close()
  })
})

describe('savepoints', () => {
  it('commit every N messages through the journal, without rewriting .imap', async () => {
    const folder = await openWrite()
    await folder.initialize(7)
    const before = await readFile(folder.paths.imap, 'utf8')
    const tx = await folder.begin({strategy: 'delay_metadata', savepointMessages: 3})
    await appendAll(tx, [1, 2, 3, 4, 5, 6, 7])
    const journal = parseJournal(await readFile(folder.paths.journal, 'utf8'), 'j')!
    expect(journal.committed.filter((r) => r.t === 'c')).toHaveLength(2)
    expect(journal.committed.filter((r) => r.t === 'a')).toHaveLength(6)
    expect(await readFile(folder.paths.imap, 'utf8')).toBe(before)
    await tx.commit()
  })

  it('commit every M bytes', async () => {
    const folder = await openWrite()
    await folder.initialize(7)
    const tx = await folder.begin({strategy: 'delay_metadata', savepointMessages: 1000, savepointBytes: message(1).length * 2})
    await appendAll(tx, [1, 2, 3, 4, 5])
    expect(tx.stats.savepoints).toBeGreaterThanOrEqual(2)
    await tx.commit()
  })

  it('record flag updates and server state', async () => {
    const folder = await openWrite()
    await folder.initialize(7)
    const tx = await folder.begin()
    await appendAll(tx, [1, 2])
    await tx.updateFlags(1, ['\\Flagged', '$Label1', '\\Recent'])
    tx.setServerState({uidNext: 3, highestModseq: '9007199254740993'})
    await tx.commit()
    const meta = await readMeta()
    expect(meta.messages.flagsAt(0)).toEqual(['Flagged', '$Label1'])
    expect(meta.uidNext).toBe(3)
    expect(meta.highestModseq).toBe('9007199254740993')
    expect(folder.serverState).toEqual({uidNext: 3, highestModseq: '9007199254740993'})
  })

  it('record the naming of the folder (delimiter, prefix) through the journal, and keep it', async () => {
    const folder = await openWrite()
    await folder.initialize(7)
    const tx = await folder.begin()
    tx.setServerState({delimiter: '.', prefix: 'INBOX.'})
    await tx.savepoint()
    // Only the journal holds it now (as after a crash): a reader replays it.
    const reader = await FolderStore.open(root, 'INBOX', {mode: 'read', logger: silentLogger})
    expect(reader.serverState).toMatchObject({delimiter: '.', prefix: 'INBOX.'})
    await reader.close()
    tx.setServerState({uidNext: 9})
    await tx.commit()
    expect(await readMeta()).toMatchObject({delimiter: '.', prefix: 'INBOX.', uidNext: 9})
  })

  it('refuse a UID that is already stored (I9)', async () => {
    const folder = await openWrite()
    await folder.initialize(7)
    const tx = await folder.begin()
    await appendAll(tx, [1])
    await expect(tx.append(incoming(1), message(1))).rejects.toThrow(InternalError)
    await tx.commit()
    const tx2 = await folder.begin()
    await expect(tx2.append(incoming(1), message(1))).rejects.toThrow(/already stored/)
    await tx2.rollback()
  })
})

describe('streamed appends', () => {
  async function* chunks(bytes: Buffer, size: number, failAfter?: number): AsyncIterable<Buffer> {
    for (let i = 0; i < bytes.length; i += size) {
      if (failAfter !== undefined && i >= failAfter) throw new Error('connection reset')
      yield bytes.subarray(i, i + size)
    }
  }

  it('write a large message in chunks, identical to a whole append', async () => {
    const big = message(2, 'x'.repeat(50_000) + '\r\nFrom middle\r\n' + 'y'.repeat(50_000))
    const folder = await openWrite()
    await folder.initialize(7)
    const tx = await folder.begin()
    await appendAll(tx, [1])
    await tx.appendStream(incoming(2), chunks(big, 4093))
    await tx.commit()
    expect((await folder.readMessage(2)).bytes.equals(big)).toBe(true)
  })

  it('cut a half-written message off again when the stream fails, and go on', async () => {
    const big = message(2, 'z'.repeat(100_000))
    const folder = await openWrite()
    await folder.initialize(7)
    const tx = await folder.begin({strategy: 'delay_metadata'})
    await appendAll(tx, [1])
    await expect(tx.appendStream(incoming(2), chunks(big, 8192, 40_000))).rejects.toThrow('connection reset')
    await tx.append(incoming(3), message(3))
    await tx.commit()
    await expectConsistent(folder, [1, 3])
  })
})

describe('damage is reported, never repaired silently', () => {
  async function committedFolder(uids: number[]): Promise<FolderStore> {
    const folder = await openWrite()
    await folder.initialize(7)
    const tx = await folder.begin()
    await appendAll(tx, uids)
    await tx.commit()
    await folder.close()
    return folder
  }

  async function snapshot(): Promise<Record<string, string>> {
    const out: Record<string, string> = {}
    for (const name of await readdir(root)) out[name] = (await readFile(join(root, name))).toString('base64')
    return out
  }

  it('an mbox longer than its metadata with no journal (imap-backup crashed) is not truncated', async () => {
    const folder = await committedFolder([1, 2])
    await appendFile(folder.paths.mbox, 'From x\nSubject: orphan\n\nbody\n\n')
    const before = await snapshot()
    await expect(openWrite()).rejects.toThrow(/is longer than indicated by .imap file/)
    await expect(openWrite()).rejects.toBeInstanceOf(DamagedError)
    expect(await snapshot()).toEqual(before)
  })

  it('an mbox shorter than its metadata', async () => {
    const folder = await committedFolder([1, 2])
    await truncate(folder.paths.mbox, 10)
    await expect(openWrite()).rejects.toThrow(/is shorter than indicated/)
  })

  it('a corrupt .imap names the file and the repair command, and deletes nothing', async () => {
    const folder = await committedFolder([1])
    await writeFile(folder.paths.imap, '{"version":3,"uid_va')
    const before = await snapshot()
    const error = await openWrite().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DamagedError)
    expect((error as DamagedError).message).toContain(folder.paths.imap)
    expect((error as DamagedError).hint).toContain('mailkeep local repair me@example.test "INBOX"')
    expect(await snapshot()).toEqual(before)
  })

  it('an entry that does not point at a From line', async () => {
    const folder = await committedFolder([1, 2])
    const meta = await readMeta()
    const messages = [...meta.messages]
    messages[1]!.offset += 1
    messages[1]!.length -= 1
    await writeFile(folder.paths.imap, JSON.stringify({version: 3, uid_validity: 7, messages}))
    await expect(openWrite()).rejects.toThrow(/Message 2 not found at expected offset/i)
  })

  it('a journal that does not match its .imap (something else rewrote it)', async () => {
    const folder = await committedFolder([1])
    const tx = await folder.begin({savepointMessages: 1})
    await appendAll(tx, [2, 3])
    await writeFile(folder.paths.imap, JSON.stringify({version: 3, uid_validity: 7, messages: []}))
    await truncate(folder.paths.mbox, 0)
    await expect(openWrite()).rejects.toThrow(/does not match metadata file/)
  })

  it('metadata from a newer mailkeep is refused and left untouched', async () => {
    const folder = await committedFolder([1])
    const text = (await readFile(folder.paths.imap, 'utf8')).replace('"format":1', '"format":9')
    await writeFile(folder.paths.imap, text)
    await expect(openWrite()).rejects.toBeInstanceOf(UnsupportedFormatError)
    expect(await readFile(folder.paths.imap, 'utf8')).toBe(text)
  })

  describe('a journal from a newer mailkeep (header j > 1) is refused and nothing is touched', () => {
    async function newerJournal(journal: string): Promise<string> {
      const text = (await readFile(journal, 'utf8')).replace(/^\{"j":1,/, '{"j":2,')
      expect(text.startsWith('{"j":2,')).toBe(true)
      await writeFile(journal, text)
      return text
    }

    it('with committed records and an uncommitted mbox tail', async () => {
      const folder = await committedFolder([1])
      const tx = await folder.begin({savepointMessages: 1})
      await appendAll(tx, [2, 3])
      await appendFile(folder.paths.mbox, 'From x\n\ntorn') // an uncommitted tail, which recovery would truncate
      await newerJournal(folder.paths.journal)
      const before = await snapshot()
      const error = await openWrite().catch((e: unknown) => e)
      expect(error).toBeInstanceOf(UnsupportedFormatError)
      expect((error as UnsupportedFormatError).message).toBe(`journal '${folder.paths.journal}' was written by a newer mailkeep (journal format 2); it was left untouched`)
      expect((error as UnsupportedFormatError).hint).toBe('upgrade mailkeep')
      await expect(FolderStore.open(root, 'INBOX', {mode: 'read', logger: silentLogger})).rejects.toBeInstanceOf(UnsupportedFormatError)
      expect(await snapshot()).toEqual(before)
    })

    it('next to an empty folder whose mbox is missing: no mbox is created', async () => {
      const folder = await committedFolder([])
      await folder.begin({savepointMessages: 1})
      await rm(folder.paths.mbox)
      await newerJournal(folder.paths.journal)
      const before = await snapshot()
      await expect(openWrite()).rejects.toBeInstanceOf(UnsupportedFormatError)
      expect(await snapshot()).toEqual(before)
    })

    it('without a .imap', async () => {
      const folder = await committedFolder([1])
      await folder.begin({savepointMessages: 1})
      await rm(folder.paths.imap)
      await newerJournal(folder.paths.journal)
      const before = await snapshot()
      await expect(openWrite()).rejects.toBeInstanceOf(UnsupportedFormatError)
      expect(await snapshot()).toEqual(before)
    })
  })

  it('an mbox without metadata', async () => {
    await writeFile(join(root, 'INBOX.mbox'), 'From x\n\nbody\n\n')
    await expect(openWrite()).rejects.toThrow(/has no metadata file/)
  })

  it('a symlinked mbox', async () => {
    const folder = await committedFolder([1])
    await rename(folder.paths.mbox, join(root, 'elsewhere'))
    await symlink(join(root, 'elsewhere'), folder.paths.mbox)
    await expect(openWrite()).rejects.toThrow(/symlink/)
  })

  it('read-only opens never write, even with a crashed transaction pending', async () => {
    const folder = await committedFolder([1])
    const tx = await folder.begin({savepointMessages: 1, strategy: 'direct'})
    await appendAll(tx, [2])
    await appendFile(folder.paths.mbox, 'From partial')
    const before = await snapshot()
    const reader = await FolderStore.open(root, 'INBOX', {mode: 'read', logger: silentLogger})
    expect([...reader.messages].map((m) => m.uid)).toEqual([1, 2])
    expect((await reader.readMessage(2)).bytes.equals(message(2))).toBe(true)
    await reader.close()
    expect(await snapshot()).toEqual(before)
  })
})

describe('imap-backup files', () => {
  const entry = (from: string, body: string) => `From ${from}\n${body}`
  const legacyMbox = entry('a@example.org', 'From: a@example.org\nSubject: One\n\n>From here\n\n') + entry('b@example.org', 'From: b@example.org\n>From: quoted header\n\nx\n\n')

  it('reads a version 3 folder written by imap-backup with its legacy quoting rule', async () => {
    const first = Buffer.byteLength(entry('a@example.org', 'From: a@example.org\nSubject: One\n\n>From here\n\n'))
    await writeFile(join(root, 'INBOX.mbox'), legacyMbox)
    await writeFile(
      join(root, 'INBOX.imap'),
      JSON.stringify({version: 3, uid_validity: 5, messages: [{uid: 10, offset: 0, length: first, flags: ['Seen']}, {uid: 11, offset: first, length: Buffer.byteLength(legacyMbox) - first, flags: []}]}),
    )
    const folder = await openWrite()
    const one = await folder.readMessage(10)
    expect(one.exact).toBe(false)
    expect(one.bytes.toString()).toBe('From: a@example.org\nSubject: One\n\nFrom here\n\n')
    expect((await folder.readMessage(11)).bytes.toString()).toBe('From: b@example.org\nFrom: quoted header\n\nx\n\n')
    // New messages are appended after imap-backup's and the file stays readable by both rules.
    const tx = await folder.begin()
    await appendAll(tx, [12])
    await tx.commit()
    expect((await folder.readMessage(12)).bytes.equals(message(12))).toBe(true)
    expect((await folder.readMessage(10)).exact).toBe(false)
    await folder.close()
  })

  it('migrates a version 2 folder (UIDs only) by scanning the mbox, writing v3 at the next commit', async () => {
    await writeFile(join(root, 'INBOX.mbox'), legacyMbox)
    await writeFile(join(root, 'INBOX.imap'), JSON.stringify({version: 2, uid_validity: 5, uids: [10, 11]}))
    const reader = await FolderStore.open(root, 'INBOX', {mode: 'read', logger: silentLogger})
    expect([...reader.messages].map((m) => m.uid)).toEqual([10, 11])
    await reader.close()
    expect(JSON.parse(await readFile(join(root, 'INBOX.imap'), 'utf8')).version).toBe(2)
    const folder = await openWrite()
    const tx = await folder.begin()
    await tx.commit()
    const meta = await readMeta()
    expect([...meta.messages].map((m) => m.uid)).toEqual([10, 11])
    expect((await folder.readMessage(11)).bytes.toString()).toContain('From: quoted header')
  })

  it('refuses (and keeps) a version 2 folder whose UID count does not match the mbox', async () => {
    await writeFile(join(root, 'INBOX.mbox'), legacyMbox)
    await writeFile(join(root, 'INBOX.imap'), JSON.stringify({version: 2, uid_validity: 5, uids: [10]}))
    await expect(openWrite()).rejects.toThrow(/lists 1 UIDs but .mbox file .* holds 2 messages/)
    expect(JSON.parse(await readFile(join(root, 'INBOX.imap'), 'utf8')).uids).toEqual([10])
  })
})

describe('UIDVALIDITY change', () => {
  it('moves the pair to <name>-<uidvalidity>, then -1, never deleting what is in the way', async () => {
    for (const uidValidity of [7, 7]) {
      const folder = await openWrite()
      await folder.initialize(uidValidity)
      const tx = await folder.begin()
      await appendAll(tx, [1])
      await tx.commit()
      await folder.renameAway()
      expect(folder.exists).toBe(false)
      await folder.close()
    }
    const names = (await readdir(root)).sort()
    expect(names).toEqual(['INBOX-7-1.imap', 'INBOX-7-1.mbox', 'INBOX-7.imap', 'INBOX-7.mbox'])
    const moved = await openWrite('INBOX-7')
    await expectConsistent(moved, [1])
  })

  it('finishes a rename interrupted half-way (intent recorded, one file moved)', async () => {
    const folder = await openWrite()
    await folder.initialize(7)
    const tx = await folder.begin()
    await appendAll(tx, [1])
    await tx.commit()
    await folder.close()
    await writeFile(folder.paths.renameIntent, JSON.stringify({to: 'INBOX-7'}))
    await rename(folder.paths.mbox, join(root, 'INBOX-7.mbox'))
    const reopened = await openWrite()
    expect(reopened.exists).toBe(false)
    await expectConsistent(await openWrite('INBOX-7'), [1])
    expect((await readdir(root)).sort()).toEqual(['INBOX-7.imap', 'INBOX-7.mbox'])
  })
})

describe('UIDVALIDITY change of an empty folder (restartEmpty)', () => {
  it('starts afresh in place: no <name>-<uidvalidity> pair, the server state dropped, the naming kept', async () => {
    const folder = await openWrite()
    await folder.initialize(7)
    const tx = await folder.begin()
    tx.setServerState({uidNext: 5, highestModseq: '12', delimiter: '.', prefix: 'INBOX.'})
    await tx.commit()
    expect(await folder.restartEmpty(8)).toBe(true)
    expect(folder.uidValidity).toBe(8)
    expect(folder.serverState).toEqual({uidNext: undefined, highestModseq: undefined, delimiter: '.', prefix: 'INBOX.'})
    expect((await readdir(root)).sort()).toEqual(['INBOX.imap', 'INBOX.mbox'])
    await folder.close()
    const reopened = await openWrite()
    expect(reopened.uidValidity).toBe(8)
    expect(await readMeta()).toMatchObject({uidValidity: 8, delimiter: '.', prefix: 'INBOX.'})
    expect((await readMeta()).uidNext).toBeUndefined()
    // And it is usable: messages under the new UIDVALIDITY go in as usual.
    const next = await reopened.begin()
    await appendAll(next, [1])
    await next.commit()
    await expectConsistent(reopened, [1])
  })

  it('refuses (changing nothing) when a message is stored or a transaction is open', async () => {
    const folder = await openWrite()
    await folder.initialize(7)
    const tx = await folder.begin()
    expect(await folder.restartEmpty(8)).toBe(false)
    await appendAll(tx, [1])
    await tx.commit()
    const before = await readFile(join(root, 'INBOX.imap'))
    expect(await folder.restartEmpty(8)).toBe(false)
    expect(folder.uidValidity).toBe(7)
    expect((await readFile(join(root, 'INBOX.imap'))).equals(before)).toBe(true)
    await expectConsistent(folder, [1])
  })

  it('refuses when the mbox holds bytes that no entry lists', async () => {
    const folder = await openWrite()
    await folder.initialize(7)
    await folder.close()
    await appendFile(join(root, 'INBOX.mbox'), 'From x\n')
    const reopened = await openWrite().catch(() => undefined)
    // Either the folder is refused as damaged on open, or restartEmpty refuses it: never reset.
    if (reopened !== undefined) expect(await reopened.restartEmpty(8)).toBe(false)
    expect((await readFile(join(root, 'INBOX.mbox'), 'utf8'))).toBe('From x\n')
  })
})

describe('removing messages (mirror mode)', () => {
  it('rewrites the folder once, keeping the other messages byte-exact', async () => {
    const folder = await openWrite()
    await folder.initialize(7)
    const tx = await folder.begin()
    await appendAll(tx, [1, 2, 3, 4, 5])
    await tx.commit()
    expect(await folder.removeMessages([2, 4, 99])).toBe(2)
    await expectConsistent(folder, [1, 3, 5])
    await folder.close()
    await expectConsistent(await openWrite(), [1, 3, 5])
    expect((await readdir(root)).sort()).toEqual(['INBOX.imap', 'INBOX.mbox'])
  })

  it.each([
    ['only the new mbox was written', ['mbox'], [1, 2, 3]],
    ['both were written, nothing swapped yet', ['mbox', 'imap'], [1, 3]],
    ['the mbox was swapped already', ['imap', 'swapped'], [1, 3]],
  ])('recovers when interrupted: %s', async (_what, stage, expected) => {
    const folder = await openWrite()
    await folder.initialize(7)
    const tx = await folder.begin()
    await appendAll(tx, [1, 2, 3])
    await tx.commit()
    await folder.close()
    // Build the final state in a scratch copy, then put its pieces in place as a crash would.
    const scratch = join(root, 'scratch')
    const copy = await FolderStore.open(root, 'scratch/INBOX', {mode: 'write', logger: silentLogger})
    await copy.initialize(7)
    const tx2 = await copy.begin()
    await appendAll(tx2, [1, 3])
    await tx2.commit()
    await copy.close()
    const imapText = (await readFile(join(scratch, 'INBOX.imap'), 'utf8'))
    if (stage.includes('mbox')) await rename(join(scratch, 'INBOX.mbox'), folder.paths.mboxCompact)
    if (stage.includes('swapped')) await rename(join(scratch, 'INBOX.mbox'), folder.paths.mbox)
    if (stage.includes('imap')) await writeFile(folder.paths.imapCompact, imapText)
    await rm(scratch, {recursive: true, force: true})
    const recovered = await openWrite()
    await expectConsistent(recovered, expected)
    expect((await readdir(root)).sort()).toEqual(['INBOX.imap', 'INBOX.mbox'])
  })
})

describe('restored copies (`mailkeep_restored`, docs/upload-maps.md U7)', () => {
  it('are committed with the transaction, survive a crash through the journal, move with a kept-aside folder', async () => {
    const folder = await openWrite()
    await folder.initialize(7)
    const tx = await folder.begin({savepointMessages: 1000})
    await appendAll(tx, [1, 2, 3, 6])
    tx.recordRestoredCopies([[6, 3]])
    await tx.savepoint()
    // kill -9 now: the journal holds the pair, the `.imap` not yet.
    expect((await readMeta()).restoredCopies).toBeUndefined()
    const journal = parseJournal(await readFile(folder.paths.journal, 'utf8'), 'x')!
    expect(journal.committed).toContainEqual({t: 's', restored: [[6, 3]]})
    const recovered = await openWrite()
    expect(recovered.restoredCopies).toEqual([[6, 3]])
    expect((await readMeta()).restoredCopies).toEqual([[6, 3]])
    expect(JSON.parse(await readFile(recovered.paths.imap, 'utf8')).mailkeep_restored).toEqual([[6, 3]])

    // Recorded again (a later backup sees the same map): kept once.
    const tx2 = await recovered.begin()
    tx2.recordRestoredCopies([[6, 3]])
    await tx2.commit()
    expect(recovered.restoredCopies).toEqual([[6, 3]])

    // The upload maps move with it: they say where this backup (this UIDVALIDITY) went.
    await writeFile(join(root, 'INBOX.restore'), '{"version":1,"destinations":{}}')
    await writeFile(join(root, 'INBOX.restore.journal'), '')
    await recovered.renameAway()
    await recovered.close()
    expect((await openWrite('INBOX-7')).restoredCopies).toEqual([[6, 3]])
    expect((await readdir(root)).sort()).toEqual(['INBOX-7.imap', 'INBOX-7.mbox', 'INBOX-7.restore', 'INBOX-7.restore.journal'])
  })

  it('mirror-mode removal keeps a pair while one of its messages stays', async () => {
    const folder = await openWrite()
    await folder.initialize(7)
    const tx = await folder.begin()
    await appendAll(tx, [1, 2, 3, 6, 8])
    tx.recordRestoredCopies([
      [6, 3],
      [8, 2],
    ])
    await tx.commit()
    await folder.removeMessages([3, 2, 8])
    expect(folder.restoredCopies).toEqual([[6, 3]])
    await folder.removeMessages([6])
    expect(folder.restoredCopies).toEqual([])
    expect(JSON.parse(await readFile(folder.paths.imap, 'utf8')).mailkeep_restored).toBeUndefined()
  })

  it('a malformed list is damage, reported, not dropped', async () => {
    const folder = await openWrite()
    await folder.initialize(7)
    await folder.close()
    const meta = JSON.parse(await readFile(folder.paths.imap, 'utf8'))
    await writeFile(folder.paths.imap, JSON.stringify({...meta, mailkeep_restored: [[3, 3]]}))
    await expect(openWrite()).rejects.toThrow(DamagedError)
  })
})
