/**
 * mailkeep's quoting against imap-backup's rules, written again from its format description in
 * test/support/imap-backup-format.ts (no code of imap-backup), over the fixture corpus and random
 * bodies full of `From`, `>` and line breaks:
 *
 *  1. mailkeep's writer + imap-backup's reader = the message (as imap-backup stores text: LF line
 *     ends, padded to an empty line); only a message that itself starts with a blank line loses
 *     it, which imap-backup's reader does to its own files too;
 *  2. imap-backup's writer + mailkeep's reader = the message, except where imap-backup's own round
 *     trip fails (a first line `>…From`, which it never quotes; a leading blank line); and
 *     mailkeep's reader equals imap-backup's on every entry of either tool: one reading rule;
 *  3. mailkeep's writer + a strict mboxrd reader = the message, except body lines that start with
 *     `>…From` and no space, which gain one `>` (docs/mbox-format.md, "Other readers").
 *
 * And the folder level: a folder imap-backup wrote, read through the store, gives every message
 * in imap-backup's form, not byte-exact.
 */
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import fc from 'fast-check'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {silentLogger} from '../../src/shared/logger.js'
import {FolderStore} from '../../src/store/folder-store.js'
import {decodeEntry, encodeMessage} from '../../src/store/mboxrd/index.js'
import {loadCorpus, toCrlf} from '../fixtures/corpus.js'
import {imapBackupRead, imapBackupText, imapBackupWrite, strictMboxrdRead} from '../support/imap-backup-format.js'

const b = (s: string): Buffer => Buffer.from(s, 'latin1')
const s = (buf: Buffer): string => buf.toString('latin1')

/** The corpus as stored (LF for some) and as a CRLF server sends it. */
const corpus = loadCorpus().flatMap((m) => [
  {name: m.name, raw: m.raw},
  {name: `${m.name} (CRLF)`, raw: toCrlf(m.raw)},
])

/** Lines made to hit every case of both rules, joined by LF or CRLF, with or without a last line break. */
const LINE_PARTS = ['From ', 'From', 'From:', 'From x', '>From ', '>From', '>From:', '>>From y', '>>>From', '> From', 'Fromage', '>Fro', 'Fro', 'x', '', '\r', ' ', 'a\rFrom b', '\xff']
const line = fc.array(fc.constantFrom(...LINE_PARTS), {maxLength: 3}).map((parts) => parts.join(''))
const body = fc
  .tuple(fc.array(line, {maxLength: 12}), fc.constantFrom('\n', '\r\n'), fc.boolean())
  .map(([lines, eol, last]) => b(lines.join(eol) + (last && lines.length > 0 ? eol : '')))

/** The stored text starts with CR or LF (an empty message too: it is all padding). */
const startsWithBlankLine = (m: Buffer): boolean => /^[\r\n]/.test(s(imapBackupText(m)))
const firstLine = (m: Buffer): string => s(m).split('\n')[0]!

/** What the strict reader gives for mailkeep's entry: the message, with `>` added to its `^>+From` lines that lack the space. */
function strictExpected(m: Buffer): Buffer {
  return b(
    s(imapBackupText(m))
      .split('\n')
      .map((l) => (/^>+From(?! )/.test(l) ? `>${l}` : l))
      .join('\n'),
  )
}

function checkMailkeepToImapBackup(m: Buffer): void {
  const {entry} = encodeMessage(m)
  const read = imapBackupRead(entry)
  if (startsWithBlankLine(m)) expect(s(read)).toBe(s(imapBackupText(m)).replace(/^[\r\n]+/, ''))
  else expect(s(read)).toBe(s(imapBackupText(m)))
  // One reading rule: mailkeep without the exactness record reads its own entry as imap-backup does.
  expect(s(decodeEntry(entry, undefined))).toBe(s(read))
}

function checkImapBackupToMailkeep(m: Buffer): void {
  const entry = imapBackupWrite(m)
  const read = decodeEntry(entry, undefined)
  expect(s(read)).toBe(s(imapBackupRead(entry)))
  if (!startsWithBlankLine(m) && !/^>+From/.test(firstLine(m))) expect(s(read)).toBe(s(imapBackupText(m)))
}

function checkStrictReader(m: Buffer): void {
  expect(s(strictMboxrdRead(encodeMessage(m).entry))).toBe(s(strictExpected(m)))
}

describe('over the fixture corpus', () => {
  it('has the corpus', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(40)
  })

  it.each(corpus.map((c) => [c.name, c.raw] as const))('%s', (_name, raw) => {
    checkMailkeepToImapBackup(raw)
    checkImapBackupToMailkeep(raw)
    checkStrictReader(raw)
  })
})

describe('over random bodies', () => {
  it("mailkeep's writer + imap-backup's reader = the message", () => {
    fc.assert(fc.property(body, (m) => checkMailkeepToImapBackup(m)), {numRuns: 3000})
  })

  it("imap-backup's writer + mailkeep's reader = the message, and = imap-backup's reader", () => {
    fc.assert(fc.property(body, (m) => checkImapBackupToMailkeep(m)), {numRuns: 3000})
  })

  it("mailkeep's writer + a strict mboxrd reader = the message but for >From lines without the space", () => {
    fc.assert(fc.property(body, (m) => checkStrictReader(m)), {numRuns: 3000})
  })

  it('the generator reaches the cases that matter', () => {
    const samples = fc.sample(body, 2000).map((m) => s(imapBackupText(m)))
    expect(samples.filter((t) => /(^|\n)>+From(?! )/.test(t)).length).toBeGreaterThan(100) // the documented lines
    expect(samples.filter((t) => /\n>*From /.test(t)).length).toBeGreaterThan(100)
    expect(samples.filter((t) => /\nFrom:/.test(t)).length).toBeGreaterThan(100)
  })
})

describe('the documented cases, by hand', () => {
  it('a From: header and a >From: line in the body: imap-backup reads both right; a strict reader adds one > to >From:', () => {
    const m = b('Subject: fwd\r\nFrom: a@example.test\r\n\r\n>From: someone\r\nFrom here\r\n')
    const {entry} = encodeMessage(m)
    expect(s(entry)).toBe('From a@example.test\nSubject: fwd\nFrom: a@example.test\n\n>>From: someone\n>From here\n\n')
    expect(s(imapBackupRead(entry))).toBe('Subject: fwd\nFrom: a@example.test\n\n>From: someone\nFrom here\n\n')
    expect(s(strictMboxrdRead(entry))).toBe('Subject: fwd\nFrom: a@example.test\n\n>>From: someone\nFrom here\n\n')
  })

  it("imap-backup's own first-line quirk: a first line >From is not quoted by its writer but unquoted by its reader", () => {
    const m = b('>From the top\n\nbody\n')
    expect(s(imapBackupRead(imapBackupWrite(m)))).toBe('From the top\n\nbody\n\n')
    // mailkeep quotes the first line too: imap-backup reads mailkeep's entry right.
    expect(s(imapBackupRead(encodeMessage(m).entry))).toBe('>From the top\n\nbody\n\n')
  })
})

describe('a folder imap-backup wrote, read through the store', () => {
  let root: string
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'mailkeep-ib-rules-'))
  })
  afterAll(async () => {
    await rm(root, {recursive: true, force: true})
  })

  it("gives every message as imap-backup's text, not byte-exact", async () => {
    const entries = corpus.map((c) => imapBackupWrite(c.raw))
    const messages: Array<{uid: number; offset: number; length: number; flags: string[]}> = []
    let offset = 0
    for (const [i, e] of entries.entries()) {
      messages.push({uid: i + 1, offset, length: e.length, flags: []})
      offset += e.length
    }
    await writeFile(join(root, 'INBOX.mbox'), Buffer.concat(entries))
    await writeFile(join(root, 'INBOX.imap'), JSON.stringify({version: 3, uid_validity: 7, messages}))
    const folder = await FolderStore.open(root, 'INBOX', {mode: 'read', logger: silentLogger})
    try {
      for (const [i, c] of corpus.entries()) {
        const stored = await folder.readMessage(i + 1)
        expect(stored.exact).toBe(false)
        expect(s(stored.bytes), c.name).toBe(s(imapBackupText(c.raw)))
      }
    } finally {
      await folder.close()
    }
  })
})
