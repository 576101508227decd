import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {mkdtemp, readFile, rm, stat, symlink, truncate, writeFile, appendFile, readdir, rename} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {DamagedError, InternalError, UnsupportedFormatError} from '../shared/errors.js'
import {memoryLogger, silentLogger} from '../shared/logger.js'
import {FolderStore} from './folder-store.js'
import {readExactness} from './exactness-state.js'
import {parseJournal} from './journal.js'
import {encodeMessage} from './mboxrd/index.js'
import {imapBackupRead} from '../../test/support/imap-backup-format.js'
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

/** The committed metadata as on disk: `.imap`, with the records of the exactness file bound to it. */
async function readMeta(name = 'INBOX'): Promise<FolderMetadata> {
  const meta = parseMetadata(await readFile(join(root, `${name}.imap`), 'utf8'), 'x') as FolderMetadata
  await readExactness(join(root, `${name}.mailkeep`), meta)
  return meta
}

async function appendAll(tx: Transaction, uids: number[]): Promise<void> {
  for (const uid of uids) await tx.append(incoming(uid), message(uid))
}

/** A closed folder (UIDVALIDITY 7) holding these messages, committed. */
async function committedFolder(uids: number[]): Promise<FolderStore> {
  const folder = await openWrite()
  await folder.initialize(7)
  const tx = await folder.begin()
  await appendAll(tx, uids)
  await tx.commit()
  await folder.close()
  return folder
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
    expect(meta.messages.quotingAt(9)).toBe('compat')
    // The records are in the exactness file only (imap-backup drops `.imap` keys it does not know).
    const imapText = await readFile(folder.paths.imap, 'utf8')
    expect(imapText).not.toContain('mailkeep_messages')
    expect(JSON.parse(imapText).mailkeep).toMatchObject({format: 2, exact: 10})
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
    // direct commits each complete message in the background (group commit): what it promises
    // is that they are all committed once those savepoints are done.
    await tx.synced()
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

  it('record the flags and mirror checkpoints through the journal, so a crash keeps them', async () => {
    const folder = await openWrite()
    await folder.initialize(7)
    const tx = await folder.begin()
    tx.setServerState({highestModseq: '41', flagsModseq: '41', mirrorModseq: '40'})
    await tx.savepoint()
    const reader = await FolderStore.open(root, 'INBOX', {mode: 'read', logger: silentLogger})
    expect(reader.serverState).toMatchObject({highestModseq: '41', flagsModseq: '41', mirrorModseq: '40'})
    await reader.close()
    await tx.commit()
    expect(await readMeta()).toMatchObject({highestModseq: '41', flagsModseq: '41', mirrorModseq: '40'})
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
    const text = (await readFile(folder.paths.imap, 'utf8')).replace('"format":2', '"format":9')
    await writeFile(folder.paths.imap, text)
    await expect(openWrite()).rejects.toBeInstanceOf(UnsupportedFormatError)
    expect(await readFile(folder.paths.imap, 'utf8')).toBe(text)
  })

  describe('a journal from a newer mailkeep (header j > 2) is refused and nothing is touched', () => {
    async function newerJournal(journal: string): Promise<string> {
      const text = (await readFile(journal, 'utf8')).replace(/^\{"j":2,/, '{"j":3,')
      expect(text.startsWith('{"j":3,')).toBe(true)
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
      expect((error as UnsupportedFormatError).message).toBe(`journal '${folder.paths.journal}' was written by a newer mailkeep (journal format 3); it was left untouched`)
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
    await tx.synced() // direct's group commit: UID 2 is committed once its savepoint is done
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
    // The exactness file moves with its pair.
    expect(names).toEqual(['INBOX-7-1.imap', 'INBOX-7-1.mailkeep', 'INBOX-7-1.mbox', 'INBOX-7.imap', 'INBOX-7.mailkeep', 'INBOX-7.mbox'])
    const moved = await openWrite('INBOX-7')
    await expectConsistent(moved, [1])
  })

  it('skips reserved names (server folders), and calls beforeRename with the chosen name before anything moves', async () => {
    const folder = await openWrite()
    await folder.initialize(7)
    const tx = await folder.begin()
    await appendAll(tx, [1])
    await tx.commit()
    let seen: {target: string; files: string[]} | undefined
    const target = await folder.renameAway({
      reserved: new Set(['INBOX-7']),
      beforeRename: async (name) => {
        seen = {target: name, files: (await readdir(root)).sort()}
      },
    })
    expect(target).toBe('INBOX-7-1')
    // Nothing had moved yet, and no intent was written: what the callback records comes first.
    expect(seen).toEqual({target: 'INBOX-7-1', files: ['INBOX.imap', 'INBOX.mailkeep', 'INBOX.mbox']})
    expect((await readdir(root)).sort()).toEqual(['INBOX-7-1.imap', 'INBOX-7-1.mailkeep', 'INBOX-7-1.mbox'])
  })

  it('a failing beforeRename leaves the folder where it was', async () => {
    const folder = await openWrite()
    await folder.initialize(7)
    const tx = await folder.begin()
    await appendAll(tx, [1])
    await tx.commit()
    await expect(folder.renameAway({beforeRename: async () => Promise.reject(new Error('disk full'))})).rejects.toThrow('disk full')
    expect((await readdir(root)).sort()).toEqual(['INBOX.imap', 'INBOX.mailkeep', 'INBOX.mbox'])
    await expectConsistent(folder, [1])
  })

  it('a folder begun afresh on the same object reads its own mbox, not the one moved away (mirror-mode removal after the change)', async () => {
    const folder = await openWrite()
    await folder.initialize(7)
    let tx = await folder.begin()
    await appendAll(tx, [1, 2, 3])
    await tx.commit()
    // A read opens the mbox for later reads (the folder-store keeps it).
    expect((await folder.readMessage(2)).bytes.equals(message(2))).toBe(true)
    await folder.renameAway()
    await folder.initialize(8)
    tx = await folder.begin()
    await appendAll(tx, [10, 11, 12])
    await tx.commit()
    expect(await folder.removeMessages([10])).toBe(1)
    await expectConsistent(folder, [11, 12])
    await expectConsistent(await openWrite('INBOX-7'), [1, 2, 3])
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
    expect((await readdir(root)).sort()).toEqual(['INBOX-7.imap', 'INBOX-7.mailkeep', 'INBOX-7.mbox'])
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
    expect((await readdir(root)).sort()).toEqual(['INBOX.imap', 'INBOX.mailkeep', 'INBOX.mbox'])
  })

  it.each([
    ['only the new mbox was written', ['mbox'], [1, 2, 3]],
    ['the new mbox and exactness file were written, not the .imap', ['mbox', 'exact'], [1, 2, 3]],
    ['all three were written, nothing swapped yet', ['mbox', 'exact', 'imap'], [1, 3]],
    ['the mbox was swapped already', ['exact', 'imap', 'swapped'], [1, 3]],
    ['the mbox and the exactness file were swapped already', ['imap', 'swapped', 'exact-swapped'], [1, 3]],
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
    if (stage.includes('exact')) await rename(join(scratch, 'INBOX.mailkeep'), folder.paths.exactCompact)
    if (stage.includes('exact-swapped')) await rename(join(scratch, 'INBOX.mailkeep'), folder.paths.exact)
    if (stage.includes('imap')) await writeFile(folder.paths.imapCompact, imapText)
    await rm(scratch, {recursive: true, force: true})
    const recovered = await openWrite()
    await expectConsistent(recovered, expected)
    expect((await readdir(root)).sort()).toEqual(['INBOX.imap', 'INBOX.mailkeep', 'INBOX.mbox'])
  })
})

describe('the exactness file', () => {

  /** The files of a commit that got as far as `step` before the process died (docs/design.md, "Write order"). */
  async function commitInterrupted(step: 'exactness file written' | '.imap written'): Promise<FolderStore> {
    const folder = await committedFolder([1, 2])
    const reopened = await openWrite()
    const tx = await reopened.begin({savepointMessages: 1})
    await appendAll(tx, [3, 4])
    const imapBefore = await readFile(folder.paths.imap)
    const journal = await readFile(folder.paths.journal)
    await tx.commit()
    await reopened.close()
    // Put back what the commit had not replaced or removed yet when it died.
    await writeFile(folder.paths.journal, journal)
    if (step === 'exactness file written') await writeFile(folder.paths.imap, imapBefore)
    return folder
  }

  it.each(['exactness file written', '.imap written'] as const)('a commit interrupted after the %s: recovery keeps every record', async (step) => {
    await commitInterrupted(step)
    // What a reader sees before recovery writes anything: the rows of 3 and 4 are already there.
    const reader = await FolderStore.open(root, 'INBOX', {mode: 'read', logger: silentLogger})
    expect(reader.exactnessFile.binding).toEqual({rows: 4, bound: step === '.imap written' ? 4 : 2, superseded: step === '.imap written' ? 0 : 2, unmatchedUids: []})
    await expectConsistent(reader, [1, 2, 3, 4])
    await reader.close()
    const recovered = await openWrite()
    await expectConsistent(recovered, [1, 2, 3, 4])
    await recovered.close()
    expect((await readdir(root)).sort()).toEqual(['INBOX.imap', 'INBOX.mailkeep', 'INBOX.mbox'])
    const meta = await readMeta()
    expect(meta.messages.recordCount).toBe(4)
  })

  it('survives imap-backup rewriting .imap: appended entries have no record, ours keep theirs', async () => {
    const folder = await committedFolder([1, 2, 3])
    const data = JSON.parse(await readFile(folder.paths.imap, 'utf8'))
    const extra = 'From x@example.test\nSubject: imap-backup\n>From: x@example.test\n\nbody\n\n'
    const end = (await stat(folder.paths.mbox)).size
    await appendFile(folder.paths.mbox, extra)
    const messages = [...data.messages, {uid: 9, offset: end, length: Buffer.byteLength(extra), flags: []}]
    await writeFile(folder.paths.imap, JSON.stringify({version: 3, uid_validity: 7, messages}))
    const reader = await FolderStore.open(root, 'INBOX', {mode: 'read', logger: silentLogger})
    for (const uid of [1, 2, 3]) expect(await reader.readMessage(uid)).toEqual({bytes: message(uid), exact: true})
    expect(await reader.readMessage(9)).toEqual({bytes: Buffer.from('Subject: imap-backup\nFrom: x@example.test\n\nbody\n\n'), exact: false})
    expect(reader.exactnessFile.binding).toEqual({rows: 3, bound: 3, superseded: 0, unmatchedUids: []})
    await reader.close()
  })

  it('rows that no longer match are never applied, and are kept aside before the file is rewritten', async () => {
    const folder = await committedFolder([1, 2, 3])
    const original = await readFile(folder.paths.exact)
    // Another tool moved UID 2 (a different offset): its row must not be applied to the new bytes.
    const data = JSON.parse(await readFile(folder.paths.imap, 'utf8'))
    data.messages[1].offset += 1
    data.messages[1].length -= 1
    await writeFile(folder.paths.imap, JSON.stringify(data))
    const logger = memoryLogger()
    const reopened = await openWrite('INBOX', logger)
    expect(reopened.exactnessFile.binding).toMatchObject({rows: 3, bound: 2, unmatchedUids: [2]})
    expect(reopened.exactness(2)).toBeUndefined()
    expect(logger.records.some((l) => l.level === 'warn' && /1 exactness record\(s\) in '.*INBOX.mailkeep' no longer match/.test(l.message))).toBe(true)
    const tx = await reopened.begin()
    await tx.commit()
    const aside = (await readdir(root)).filter((n) => n.startsWith('INBOX.mailkeep.unmatched-'))
    expect(aside).toHaveLength(1)
    expect(await readFile(join(root, aside[0]!))).toEqual(original)
    expect(reopened.exactnessFile).toEqual({present: true})
    await reopened.close()
    const again = await openWrite()
    expect(again.exactnessFile.binding).toEqual({rows: 2, bound: 2, superseded: 0, unmatchedUids: []})
    await again.close()
  })

  it('moves with its pair on a UIDVALIDITY change, stale rows and all, and the fresh folder starts its own', async () => {
    const folder = await committedFolder([1, 2])
    const data = JSON.parse(await readFile(folder.paths.imap, 'utf8'))
    // Another tool changed UID 2 (one byte shorter): its row is stale.
    data.messages[1].length -= 1
    await writeFile(folder.paths.imap, JSON.stringify(data))
    await truncate(folder.paths.mbox, data.messages[1].offset + data.messages[1].length)
    const exactBefore = await readFile(folder.paths.exact)
    const reopened = await openWrite()
    expect(reopened.exactnessFile.binding?.unmatchedUids).toEqual([2])
    await reopened.renameAway()
    await reopened.initialize(8)
    const tx = await reopened.begin()
    await appendAll(tx, [5])
    await tx.commit()
    await reopened.close()
    expect(await readFile(join(root, 'INBOX-7.mailkeep'))).toEqual(exactBefore)
    expect((await readdir(root)).filter((n) => n.includes('.mailkeep.'))).toEqual([])
    expect((await readMeta()).messages.exactness(5)).toBeDefined()
  })

  it("a damaged file binds nothing, is reported, and is kept aside at the next write; another UIDVALIDITY's file too", async () => {
    const folder = await committedFolder([1])
    await writeFile(folder.paths.exact, '{"mailkeep_exact":1,"uid_')
    const reopened = await openWrite()
    expect(reopened.exactnessFile.damaged).toMatch(/exactness file '.*INBOX.mailkeep' is not valid JSON/)
    expect((await reopened.readMessage(1)).exact).toBe(false)
    const tx = await reopened.begin()
    await appendAll(tx, [2])
    await tx.commit()
    await reopened.close()
    expect((await readdir(root)).filter((n) => n.startsWith('INBOX.mailkeep.damaged-'))).toHaveLength(1)
    expect((await readMeta()).messages.exactness(2)).toBeDefined()
  })

  it('a file of a newer mailkeep is refused and left untouched', async () => {
    const folder = await committedFolder([1])
    const text = (await readFile(folder.paths.exact, 'utf8')).replace('"mailkeep_exact":1', '"mailkeep_exact":2')
    await writeFile(folder.paths.exact, text)
    await expect(openWrite()).rejects.toBeInstanceOf(UnsupportedFormatError)
    expect(await readFile(folder.paths.exact, 'utf8')).toBe(text)
  })

  describe("a folder of mailkeep 0.1.0 (records in .imap, strict quoting)", () => {
    /** `>From:` lines: where the strict rule and the current one write different bytes. */
    const old = (uid: number): Buffer => Buffer.from(`Subject: old ${uid}\r\n\r\n>From: quoted\r\nFrom here\r\n>>From: twice\r\n`)

    async function version010(uids: number[]): Promise<void> {
      const entries = uids.map((uid) => encodeMessage(old(uid), {quoting: 'strict'}))
      const messages: object[] = []
      const records: unknown[] = []
      let offset = 0
      for (const [i, {entry, record}] of entries.entries()) {
        messages.push({uid: uids[i], offset, length: entry.length, flags: []})
        records.push([uids[i], record.size, 1_700_000_000, record.appended, record.eol])
        offset += entry.length
      }
      await writeFile(join(root, 'INBOX.mbox'), Buffer.concat(entries.map((e) => e.entry)))
      await writeFile(join(root, 'INBOX.imap'), JSON.stringify({version: 3, uid_validity: 7, mailkeep: {format: 1, quoting: 'mboxrd', uidnext: 9}, messages, mailkeep_messages: records}))
    }

    it('is read exactly, and its records move to the exactness file at the first write, marked strict', async () => {
      await version010([1, 2])
      const reader = await FolderStore.open(root, 'INBOX', {mode: 'read', logger: silentLogger})
      expect(await reader.readMessage(2)).toEqual({bytes: old(2), exact: true})
      await reader.close()
      expect(await readdir(root)).not.toContain('INBOX.mailkeep') // a reader writes nothing

      const logger = memoryLogger()
      const folder = await openWrite('INBOX', logger)
      expect(logger.records.some((l) => /moving 2 exactness record\(s\) from '.*INBOX.imap' to '.*INBOX.mailkeep'/.test(l.message))).toBe(true)
      const data = JSON.parse(await readFile(folder.paths.imap, 'utf8'))
      expect(data.mailkeep).toMatchObject({format: 2, exact: 2, uidnext: 9})
      expect(data.mailkeep_messages).toBeUndefined()
      const rows = JSON.parse(await readFile(folder.paths.exact, 'utf8')).messages
      expect(rows.map((r: unknown[]) => r[7])).toEqual([0, 0])
      // New messages get the current rule; old and new are read exactly, each with its own.
      const tx = await folder.begin()
      await appendAll(tx, [3])
      await tx.commit()
      await folder.close()
      const again = await openWrite()
      expect(await again.readMessage(1)).toEqual({bytes: old(1), exact: true})
      expect(await again.readMessage(3)).toEqual({bytes: message(3), exact: true})
      expect([0, 1, 2].map((row) => again.messages.quotingAt(row))).toEqual(['strict', 'strict', 'compat'])
      await again.close()
    })

    it('a commit interrupted between the exactness file and .imap: both hold the records, none is lost', async () => {
      await version010([1, 2])
      const imap010 = await readFile(join(root, 'INBOX.imap'))
      const folder = await openWrite()
      await folder.close()
      await writeFile(folder.paths.imap, imap010) // the migration's .imap write never happened
      const reader = await FolderStore.open(root, 'INBOX', {mode: 'read', logger: silentLogger})
      expect(reader.exactnessFile.binding).toEqual({rows: 2, bound: 0, superseded: 2, unmatchedUids: []})
      await reader.close()
      const reopened = await openWrite()
      expect(await reopened.readMessage(1)).toEqual({bytes: old(1), exact: true})
      await reopened.close()
      expect((await readdir(root)).sort()).toEqual(['INBOX.imap', 'INBOX.mailkeep', 'INBOX.mbox'])
      expect(JSON.parse(await readFile(folder.paths.imap, 'utf8')).mailkeep_messages).toBeUndefined()
    })

    it('requote converts them explicitly: same messages, now read right by imap-backup too; a dry run writes nothing', async () => {
      await version010([1, 2])
      // A third 0.1.0 entry the two rules write alike: only its mark changes.
      const folder = await openWrite()
      const plain = Buffer.from('Subject: plain\r\n\r\nFrom here\r\n')
      const tx = await folder.begin()
      await tx.append(incoming(3), plain)
      await tx.commit()
      folder.meta.messages.setRecordAt(2, ...(folder.exactness(3)!.slice(1) as [number, number | null, number, unknown]), 'strict')
      await folder.fold(undefined)
      await folder.close()

      const snapshot = async (): Promise<string[]> => Promise.all((await readdir(root)).sort().map(async (n) => `${n} ${(await readFile(join(root, n))).toString('base64')}`))
      const before = await snapshot()
      const reader = await FolderStore.open(root, 'INBOX', {mode: 'read', logger: silentLogger})
      const planned = await reader.requote({dryRun: true})
      await reader.close()
      expect(planned).toEqual({strict: 3, rewritten: 2, bytesAdded: 4})
      expect(await snapshot()).toEqual(before)

      const writer = await openWrite()
      expect(await writer.requote({dryRun: false})).toEqual(planned)
      await writer.close()
      const again = await openWrite()
      expect([0, 1, 2].map((row) => again.messages.quotingAt(row))).toEqual(['compat', 'compat', 'compat'])
      for (const [uid, raw] of [[1, old(1)], [2, old(2)], [3, plain]] as const) {
        expect(await again.readMessage(uid)).toEqual({bytes: raw, exact: true})
        const m = again.entry(uid)!
        const entry = (await readFile(again.paths.mbox)).subarray(m.offset, m.offset + m.length)
        // imap-backup's reader gives each message as its text (LF line ends, padding kept).
        expect(imapBackupRead(entry).toString('latin1'), `UID ${uid}`).toBe(`${raw.toString('latin1').replace(/\r\n/g, '\n')}\n`)
      }
      expect(await again.requote({dryRun: false})).toEqual({strict: 0, rewritten: 0, bytesAdded: 0})
      await again.close()
      expect((await readdir(root)).sort()).toEqual(['INBOX.imap', 'INBOX.mailkeep', 'INBOX.mbox'])
    })

    it('if imap-backup rewrote its .imap before any newer mailkeep opened it, the records are gone: read as imap-backup reads them', async () => {
      await version010([1])
      const data = JSON.parse(await readFile(join(root, 'INBOX.imap'), 'utf8'))
      await writeFile(join(root, 'INBOX.imap'), JSON.stringify({version: 3, uid_validity: 7, messages: data.messages}))
      const reader = await FolderStore.open(root, 'INBOX', {mode: 'read', logger: silentLogger})
      // The strict rule left `>From:` as it was; imap-backup's reading removes one `>` from it.
      expect((await reader.readMessage(1)).bytes.toString()).toBe('Subject: old 1\n\nFrom: quoted\nFrom here\n>From: twice\n\n')
      expect((await reader.readMessage(1)).exact).toBe(false)
      await reader.close()
    })
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
    expect((await readdir(root)).sort()).toEqual(['INBOX-7.imap', 'INBOX-7.mailkeep', 'INBOX-7.mbox', 'INBOX-7.restore', 'INBOX-7.restore.journal'])
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
