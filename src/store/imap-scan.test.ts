import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import fc from 'fast-check'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {silentLogger} from '../shared/logger.js'
import {FolderStore} from './folder-store.js'
import {scanMetadata} from './imap-scan.js'
import {emptyMetadata, parseMetadata, serializeMetadata, serializeMetadataChunks, type FolderMetadata} from './metadata.js'
import {firstOverlap} from './inspection.js'
import {MessageTable} from './message-table.js'

let root: string
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mailkeep-imap-scan-'))
})
afterAll(async () => {
  await rm(root, {recursive: true, force: true})
})

/** The entries of a table, row by row, for comparing two tables. */
function contents(meta: FolderMetadata): unknown[] {
  const rows: unknown[] = []
  for (let row = 0; row < meta.messages.length; row++) rows.push(meta.messages.entryAt(row))
  return rows
}

/** Everything but the table. */
const head = (meta: FolderMetadata): Omit<FolderMetadata, 'messages'> => ({...meta, messages: undefined}) as Omit<FolderMetadata, 'messages'>

/** Metadata as mailkeep writes it: ascending offsets, flags with escapes. */
const metadata = fc
  .record({
    uidValidity: fc.integer({min: 1, max: 2 ** 32}),
    uidNext: fc.option(fc.integer({min: 1, max: 2 ** 32}), {nil: undefined}),
    entries: fc.array(
      fc.record({
        uid: fc.integer({min: 1, max: 10 ** 9}),
        length: fc.integer({min: 1, max: 10 ** 7}),
        gap: fc.constantFrom(0, 0, 0, 7),
        flags: fc.array(fc.constantFrom('Seen', 'Answered', '$Label1', 'Ünïcode', 'quote"back\\slash', 'tab\tnew\nline', '\u2028'), {maxLength: 3}),
      }),
      {maxLength: 40},
    ),
  })
  .map(({uidValidity, uidNext, entries}) => {
    const meta = emptyMetadata(uidValidity)
    if (uidNext !== undefined) meta.uidNext = uidNext
    meta.messages = new MessageTable()
    let offset = 0
    let uid = 0
    for (const e of entries) {
      uid += 1 + (e.uid % 1000)
      offset += e.gap
      meta.messages.pushRow(uid, offset, e.length, e.flags)
      offset += e.length
    }
    return meta
  })

describe('reading a .imap in mailkeep\'s layout byte by byte', () => {
  it('gives what the JSON parse gives, for every file mailkeep writes', () => {
    fc.assert(
      fc.property(metadata, (meta) => {
        const bytes = Buffer.from(serializeMetadata(meta))
        const scanned = scanMetadata(bytes, 'x')
        const parsed = parseMetadata(bytes.toString('utf8'), 'x') as FolderMetadata
        expect(scanned).toBeDefined()
        expect(head(scanned!.meta)).toEqual(head(parsed))
        expect(contents(scanned!.meta)).toEqual(contents(parsed))
      }),
      {numRuns: 300},
    )
  })

  it('accepts nothing the JSON parse would read otherwise: a changed byte gives the same metadata, or none', async () => {
    const folder = await FolderStore.open(root, 'Odd', {mode: 'write', logger: silentLogger})
    await folder.initialize(7)
    const tx = await folder.begin()
    const flags = [[], ['\\Seen', '$Label1'], ['Ünïcode', 'quote"back\\slash', 'tab\tnew\nline'], ['\\Flagged']]
    for (const [i, f] of flags.entries()) await tx.append({uid: 10 + i, flags: f, internalDate: i === 0 ? null : new Date(1_700_000_000_000 + i)}, Buffer.from(`Subject: ${i}\r\n\r\nbody\n`))
    tx.setServerState({uidNext: 20})
    await tx.commit()
    await folder.close()
    const original = await readFile(folder.paths.imap)
    expect(scanMetadata(original, 'x')).toBeDefined()
    let accepted = 0
    for (let at = 0; at < original.length; at++) {
      for (const value of [0x30, 0x39, 0x22, 0x2c, 0x5b, 0x5d, 0x7d, 0x20, 0x00, 0xc3, 0x6e]) {
        if (original[at] === value) continue
        const bytes = Buffer.from(original)
        bytes[at] = value
        let fast
        try {
          fast = scanMetadata(bytes, 'x')
        } catch {
          continue // the head was refused: as the full parse refuses it
        }
        if (fast === undefined) continue
        accepted++
        // Accepted: the full parse must accept it too and read the same, in order.
        const slow = parseMetadata(bytes.toString('utf8'), 'x') as FolderMetadata
        expect(firstOverlap(slow.messages)).toBeUndefined()
        expect(contents(fast.meta)).toEqual(contents(slow))
        expect(head(fast.meta)).toEqual(head(slow))
      }
    }
    // Some garbling is harmless (a digit of a flag name, of an INTERNALDATE): not all is refused.
    expect(accepted).toBeGreaterThan(0)
  })

  it('writes the unchanged entries back as they were: the file is the one formatting every entry gives', () => {
    fc.assert(
      fc.property(metadata, fc.array(fc.tuple(fc.integer({min: 1, max: 10 ** 6}), fc.nat()), {maxLength: 5}), fc.option(fc.nat(), {nil: undefined}), (meta, added, flagged) => {
        const scanned = scanMetadata(Buffer.from(serializeMetadata(meta)), 'x')!
        const table = scanned.meta.messages
        let uid = table.length === 0 ? 0 : table.uidAt(table.length - 1)
        for (const [length] of added) table.pushRow(++uid, table.end, length, ['Seen'])
        // A flag replaced in an entry read from the file: that entry must be formatted again.
        if (flagged !== undefined && table.length > 0) table.setFlags(table.uidAt(flagged % table.length), ['Flagged'])
        scanned.meta.uidNext = uid + 1
        const spliced = Buffer.concat([...serializeMetadataChunks(scanned.meta, scanned.pristine)].map((c) => (Buffer.isBuffer(c) ? c : Buffer.from(c))))
        expect(spliced.toString('utf8')).toBe(serializeMetadata(scanned.meta))
      }),
      {numRuns: 300},
    )
  })
})
