import {readdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {silentLogger} from '../shared/logger.js'
import {loadCorpus, toCrlf} from '../../test/fixtures/corpus.js'
import {makeTempDir, removeTempDir} from '../../test/support/temp-dir.js'
import {FolderStore} from './folder-store.js'
import {readExactness} from './exactness-state.js'
import {checkFolder} from './integrity.js'
import {encodeMessage} from './mboxrd/index.js'
import {parseMetadata, type FolderMetadata} from './metadata.js'
import {MessageTable} from './message-table.js'
import {
  emptySalvage,
  exactnessCandidates,
  normaliseMessageId,
  parseHeaderFields,
  repairedMetadata,
  repairTimestamp,
  salvageExactFile,
  salvageMetadata,
  scanMbox,
  sizeRange,
  verifyExactness,
  writeRepair,
} from './rebuild.js'

let root: string

beforeEach(async () => {
  root = await makeTempDir('mailkeep-rebuild-')
})
afterEach(async () => {
  await removeTempDir(root)
})

/** The corpus as a server that sends CRLF (Dovecot) would return it. */
const corpus = loadCorpus().map((m) => toCrlf(m.raw))

async function mailkeepFolder(messages: Buffer[]): Promise<FolderMetadata> {
  const folder = await FolderStore.open(root, 'INBOX', {mode: 'write', logger: silentLogger})
  await folder.initialize(42)
  const tx = await folder.begin()
  for (const [i, raw] of messages.entries()) await tx.append({uid: i + 1, flags: [], internalDate: null}, raw)
  await tx.commit()
  await folder.close()
  const meta = parseMetadata(await readFile(join(root, 'INBOX.imap'), 'utf8'), 'x') as FolderMetadata
  await readExactness(join(root, 'INBOX.mailkeep'), meta)
  return meta
}

describe('scanMbox', () => {
  it('splits a mailkeep mbox exactly where its metadata says, and sees the strict rule', async () => {
    const meta = await mailkeepFolder(corpus)
    const entries = await scanMbox(join(root, 'INBOX.mbox'))
    expect(entries.map((e) => [e.offset, e.length])).toEqual([...meta.messages].map((m) => [m.offset, m.length]))
    expect(entries.every((e) => e.isEntry && e.complete)).toBe(true)
    expect(entries.some((e) => e.style === 'mailkeep')).toBe(true)
    expect(entries.some((e) => e.style === 'imap-backup')).toBe(false)
  })

  it("derives each record from the server's size alone, and the record decodes the entry", async () => {
    const meta = await mailkeepFolder(corpus)
    const entries = await scanMbox(join(root, 'INBOX.mbox'))
    for (const [i, e] of entries.entries()) {
      const tuple = meta.messages.exactness(i + 1)!
      const size = corpus[i]!.length
      expect(size).toBe(tuple[1])
      const range = sizeRange(e, 'strict')!
      expect(size).toBeGreaterThanOrEqual(range.min)
      expect(size).toBeLessThanOrEqual(range.max)
      const candidates = exactnessCandidates(e, size, 'compat')
      expect(candidates, `message ${i}`).toContainEqual({size, appended: tuple[3], eol: tuple[4]})
      expect(await verifyExactness(join(root, 'INBOX.mbox'), e, candidates.find((c) => c.appended === tuple[3])!, 'compat')).toBe(true)
    }
  })

  it("keeps imap-backup's unquoted first line inside its entry and sees the legacy rule", async () => {
    const entries = [
      'From a@example.org\nFrom a@example.org Tue Mar  5 08:07:09 2024\n>From: a@example.org\nSubject: env\n\nbody\n\n',
      'From b@example.org\n>From: b@example.org\nSubject: two\n\n>From here\n\n',
    ]
    await writeFile(join(root, 'x.mbox'), entries.join(''))
    const scanned = await scanMbox(join(root, 'x.mbox'))
    expect(scanned.map((e) => [e.offset, e.length, e.style])).toEqual([
      [0, Buffer.byteLength(entries[0]!), 'imap-backup'],
      [Buffer.byteLength(entries[0]!), Buffer.byteLength(entries[1]!), 'imap-backup'],
    ])
    expect(scanned[1]).toMatchObject({subject: 'two', legacyQuotes: 2, strictQuotes: 1})
  })

  it('marks a torn last entry incomplete and reads headers only up to the blank line', async () => {
    const whole = encodeMessage(toCrlf(Buffer.from('Message-ID: <a@b>\nDate: Tue, 5 Mar 2024 08:07:09 +0100\nSubject: =?utf-8?q?caf=C3=A9?=\n\nMessage-ID: <not@this>\n'))).entry
    await writeFile(join(root, 't.mbox'), Buffer.concat([whole, whole.subarray(0, 30)]))
    const scanned = await scanMbox(join(root, 't.mbox'))
    expect(scanned.map((e) => e.complete)).toEqual([true, false])
    expect(scanned[0]).toMatchObject({messageId: '<a@b>', date: 'Tue, 5 Mar 2024 08:07:09 +0100', subject: '=?utf-8?q?caf=C3=A9?='})
  })

  it('reports bytes before the first separator as a non-entry', async () => {
    await writeFile(join(root, 'g.mbox'), 'garbage\n\nFrom a\n\nb\n\n')
    const scanned = await scanMbox(join(root, 'g.mbox'))
    expect(scanned.map((e) => [e.offset, e.isEntry])).toEqual([
      [0, false],
      [9, true],
    ])
  })

  it('scans from an offset (the tail after the committed end)', async () => {
    await writeFile(join(root, 'o.mbox'), 'From a\n\none\n\nFrom b\n\ntwo\n\n')
    expect((await scanMbox(join(root, 'o.mbox'), {from: 13})).map((e) => [e.offset, e.length])).toEqual([[13, 13]])
  })
})

describe('header fields', () => {
  it('unfolds, keeps the first occurrence, skips an envelope line', () => {
    const fields = parseHeaderFields(Buffer.from('>From x\nSubject: a\n b\nMessage-ID:\n <id@x> (c)\nSubject: second\n\nDate: not a header\n'))
    expect(fields.get('subject')).toBe('a b')
    expect(normaliseMessageId(fields.get('message-id'))).toBe('<id@x>')
    expect(fields.has('date')).toBe(false)
  })
})

describe('salvageMetadata', () => {
  const full = {
    version: 3,
    uid_validity: 77,
    mailkeep: {format: 1, quoting: 'mboxrd'},
    messages: [
      {uid: 3, offset: 0, length: 100, flags: ['Seen']},
      {uid: 5, offset: 100, length: 50, flags: []},
    ],
    mailkeep_messages: [
      [3, 98, 1700000000, 1, 0],
      [5, 48, null, 2, [0, 3, 2]],
    ],
  }

  it('reads everything from valid JSON', () => {
    const s = salvageMetadata(JSON.stringify(full))
    expect(s).toMatchObject({uidValidity: 77, writtenByMailkeep: true})
    expect([...s.entries.values()].map((e) => e.uid)).toEqual([3, 5])
    expect([...s.exact.keys()]).toEqual([3, 5])
  })

  it('recovers the complete pieces of a truncated file', () => {
    const text = JSON.stringify(full)
    const s = salvageMetadata(text.slice(0, text.indexOf('{"uid":5') + 20))
    expect(s.uidValidity).toBe(77)
    expect([...s.entries.values()]).toEqual([{uid: 3, offset: 0, length: 100, flags: ['Seen'], flagsKnown: true}])
    expect(s.exact.size).toBe(0)
  })

  it('takes an entry the exactness file alone names without flags, and says they are unknown', () => {
    const s = salvageExactFile('{"mailkeep_exact":1,"uid_validity":77,"journal":"j","messages":[[9,0,100,98,null,1,0,1]]}', emptySalvage())
    expect([...s.entries.values()]).toEqual([{uid: 9, offset: 0, length: 100, flags: [], flagsKnown: false}])
  })

  it('skips garbled pieces', () => {
    const text = JSON.stringify(full).replace('"length":50', '"length":5\u00000')
    const s = salvageMetadata(text)
    expect([...s.entries.values()].map((e) => e.uid)).toEqual([3])
    expect([...s.exact.keys()]).toEqual([3, 5])
  })
})

describe('writeRepair', () => {
  it('copies the torn tail aside, sets the old .imap aside, cuts the mbox, writes the new .imap', async () => {
    const meta = await mailkeepFolder(corpus.slice(0, 3))
    const mboxPath = join(root, 'INBOX.mbox')
    const good = await readFile(mboxPath)
    const torn = Buffer.from('From x\nSubject: cut of')
    await writeFile(mboxPath, Buffer.concat([good, torn]))
    const oldImap = await readFile(join(root, 'INBOX.imap'))
    const oldExact = await readFile(join(root, 'INBOX.mailkeep'))
    await writeFile(join(root, 'INBOX.imap'), oldImap.subarray(0, 40))
    const at = new Date(Date.UTC(2026, 10, 22, 10, 11, 12))
    const written = await writeRepair({root, relativePath: 'INBOX', metadata: repairedMetadata(42, meta.messages), truncateAt: good.length, at})
    expect(repairTimestamp(at)).toBe('20261122T101112Z')
    expect(written).toEqual({
      tornSavedAs: join(root, 'INBOX.mbox.torn-20261122T101112Z'),
      tornBytes: torn.length,
      imapSavedAs: join(root, 'INBOX.imap.damaged-20261122T101112Z'),
    })
    // The new exactness file holds every record of the old one: no copy is needed.
    expect((await readFile(join(root, 'INBOX.mailkeep'), 'utf8')).replace(/,"journal":"[^"]*"/, '')).toBe(oldExact.toString('utf8').replace(/,"journal":"[^"]*"/, ''))
    expect(await readFile(written.tornSavedAs!)).toEqual(torn)
    expect(await readFile(written.imapSavedAs!)).toEqual(oldImap.subarray(0, 40))
    expect(await readFile(mboxPath)).toEqual(good)
    expect(await checkFolder(root, 'INBOX')).toEqual([])
    // A second repair at the same second never overwrites what the first set aside.
    const again = await writeRepair({root, relativePath: 'INBOX', metadata: repairedMetadata(42, meta.messages), at})
    expect(again.imapSavedAs).toBe(join(root, 'INBOX.imap.damaged-20261122T101112Z-1'))
    // A repair that keeps fewer records keeps a copy of the exactness file it replaces.
    const fewer = repairedMetadata(42, MessageTable.from([...meta.messages]))
    const beforeFewer = await readFile(join(root, 'INBOX.mailkeep'))
    const third = await writeRepair({root, relativePath: 'INBOX', metadata: fewer, at})
    expect(third.exactSavedAs).toBe(join(root, 'INBOX.mailkeep.replaced-20261122T101112Z'))
    expect(await readFile(third.exactSavedAs!)).toEqual(beforeFewer)
    expect((await readdir(root)).sort()).toEqual([
      'INBOX.imap',
      'INBOX.imap.damaged-20261122T101112Z',
      'INBOX.imap.damaged-20261122T101112Z-1',
      'INBOX.imap.damaged-20261122T101112Z-2',
      'INBOX.mailkeep',
      'INBOX.mailkeep.replaced-20261122T101112Z',
      'INBOX.mbox',
      'INBOX.mbox.torn-20261122T101112Z',
    ])
  })
})
