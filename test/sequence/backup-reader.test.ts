// The sequence test's own backup reader against the format description: the worked examples of
// docs/mbox-format.md, both quoting rules, both places exactness records live, and the damage
// it must report instead of reading past.
import {mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {makeTempDir, removeTempDir} from '../support/temp-dir.js'
import {decodeExact, decodeLegacy, decodePath, normalise, readBackup, storedForm, unquote} from './backup-reader.js'

const b = (s: string): Buffer => Buffer.from(s, 'latin1')

describe('decoding one entry (docs/mbox-format.md, worked examples)', () => {
  it('1: LF line endings, no Date', () => {
    const entry = b('From address@example.org\nFrom: address@example.org\nSubject: Test 1\n\nbody 1\nHi\n\n')
    expect(decodeExact(entry, {size: 53, appended: 1, eol: 1, strict: true})).toEqual(b('From: address@example.org\nSubject: Test 1\n\nbody 1\nHi\n'))
  })

  it('2: CRLF, a quoted first body line and a quoted >From line, no final line break', () => {
    const message = b('From: "Doe, Jane" <jane@example.org>\r\nDate: Tue, 5 Mar 2024 08:07:09 +0100 (CET)\r\nSubject: hi\r\n\r\nFrom the start\r\n>From quoted\r\nbye')
    const entry = b('From jane@example.org Tue Mar  5 08:07:09 2024\nFrom: "Doe, Jane" <jane@example.org>\nDate: Tue, 5 Mar 2024 08:07:09 +0100 (CET)\nSubject: hi\n\n>From the start\n>>From quoted\nbye\n\n')
    expect(decodeExact(entry, {size: 130, appended: 2, eol: 0, strict: true})).toEqual(message)
  })

  it('3: mixed line endings', () => {
    const entry = b('From \nSubject: mixed\n\none\ntwo\nthree\nfour\n\n')
    expect(decodeExact(entry, {size: 39, appended: 1, eol: [0, 3, 2], strict: true})).toEqual(b('Subject: mixed\r\n\r\none\ntwo\r\nthree\nfour\r\n'))
  })

  it('4: the empty message', () => {
    expect(decodeExact(b('From \n\n\n'), {size: 0, appended: 2, eol: 0, strict: true})).toEqual(Buffer.alloc(0))
  })

  it('5: the asymmetry: the strict rule leaves `>From:` alone, the other removes one `>`', () => {
    const entry = b('From \nSubject: fwd\n\n>From: someone\n\n')
    expect(decodeExact(entry, {size: 32, appended: 1, eol: 0, strict: true})).toEqual(b('Subject: fwd\r\n\r\n>From: someone\r\n'))
    expect(decodeLegacy(entry)).toEqual(b('Subject: fwd\n\nFrom: someone\n\n'))
  })

  it('a record that does not fit its entry is reported, not used', () => {
    expect(decodeExact(b('From \nabc\n'), {size: 99, appended: 1, eol: 0, strict: true})).toMatch(/record says 99/)
    expect(decodeExact(b('From \nabc'), {size: 3, appended: 1, eol: 0, strict: true})).toMatch(/padding/)
    expect(decodeExact(b('From \nabc\n\n'), {size: 5, appended: 1, eol: [0, 5], strict: true})).toMatch(/LF #4/)
  })

  it('unquote: strict needs the space, the other rule does not; the first line counts', () => {
    expect(unquote(b('>From a\n>>From: b\n> From c\n>Fromage'), true)).toEqual(b('From a\n>>From: b\n> From c\n>Fromage'))
    expect(unquote(b('>From a\n>>From: b\n> From c\n>Fromage'), false)).toEqual(b('From a\n>From: b\n> From c\nFromage'))
  })

  it('normalise: CRLF becomes LF, trailing LFs go, a bare CR stays', () => {
    expect(normalise(b('a\r\nb\rc\r\n\r\n'))).toEqual(b('a\nb\rc'))
  })
})

describe('names and flags', () => {
  it('decodes `%<hex>;` escapes in every component', () => {
    expect(decodePath('Lists/a%3a;b/%2e;%2e;')).toBe('Lists/a:b/..')
    expect(decodePath('x%25;y')).toBe('x%y')
  })

  it("gives a server's flags in the stored form", () => {
    expect(storedForm(['\\Seen', '$Label1', '\\Recent', '\\Flagged', 'Work'])).toEqual(['$Label1', 'Flagged', 'Seen', 'Work'])
  })
})

describe('readBackup', () => {
  let root = ''
  afterEach(async () => {
    if (root !== '') await removeTempDir(root)
  })

  const e1 = 'From a@x\nX-Seq-Id: one\n\nhello\n\n'
  const e2 = 'From \nX-Seq-Id: two\n\n>From here\n\n'

  async function folder(path: string, imap: unknown, mbox: string, sidecar?: unknown): Promise<void> {
    const base = join(root, ...path.split('/'))
    await mkdir(join(base, '..'), {recursive: true})
    await writeFile(`${base}.imap`, JSON.stringify(imap))
    await writeFile(`${base}.mbox`, mbox, 'latin1')
    if (sidecar !== undefined) await writeFile(`${base}.mailkeep`, JSON.stringify(sidecar))
  }

  it('reads entries with records from .imap (strict quoting) and from the sidecar (its own rule per row)', async () => {
    root = await makeTempDir('mailkeep-seq-reader-')
    const messages = [
      {uid: 4, offset: 0, length: e1.length, flags: ['Seen']},
      {uid: 9, offset: e1.length, length: e2.length, flags: []},
    ]
    await folder('INBOX', {version: 3, uid_validity: 77, messages, mailkeep_messages: [[4, 24, null, 1, 0]]}, e1 + e2)
    await folder('Lists/a%3a;b', {version: 3, uid_validity: 78, messages}, e1 + e2, {mailkeep_exact: 1, uid_validity: 78, messages: [[9, e1.length, e2.length, 25, null, 1, 1, 1]]})
    const reading = await readBackup(root)
    expect(reading.problems).toEqual([])
    expect([...reading.folders.keys()].sort()).toEqual(['INBOX', 'Lists/a:b'])
    const inbox = reading.folders.get('INBOX')!
    expect(inbox.uidValidity).toBe(77)
    expect(inbox.entries.map((e) => [e.uid, e.flags, e.exact?.toString('latin1')])).toEqual([
      [4, ['Seen'], 'X-Seq-Id: one\r\n\r\nhello\r\n'],
      [9, [], undefined],
    ])
    // No record: imap-backup's rule, compared modulo line endings.
    expect(inbox.entries[1]!.normalised.toString('latin1')).toBe('X-Seq-Id: two\n\nFrom here')
    const lists = reading.folders.get('Lists/a:b')!
    expect(lists.entries[0]!.exact).toBeUndefined()
    expect(lists.entries[1]!.exact?.toString('latin1')).toBe('X-Seq-Id: two\n\nFrom here\n')
  })

  it('reports entries that do not start with `From `, a mbox longer than its entries, side files and temporary files', async () => {
    root = await makeTempDir('mailkeep-seq-reader-')
    await folder('INBOX', {version: 3, uid_validity: 1, messages: [{uid: 1, offset: 1, length: e1.length - 1, flags: []}]}, `${e1}junk`)
    await writeFile(join(root, 'INBOX.imap.journal'), '{}')
    await writeFile(join(root, '.INBOX.imap.4f2a.tmp'), 'x')
    const reading = await readBackup(root)
    expect(reading.problems.join('\n')).toMatch(/UID 1 does not point at an entry starting with 'From '/)
    expect(reading.problems.join('\n')).toMatch(/the mbox is 35 bytes, its last entry ends at 31/)
    expect(reading.folders.get('INBOX')!.pending).toEqual(['INBOX.imap.journal'])
    expect(reading.leftovers).toEqual(['.INBOX.imap.4f2a.tmp'])
  })
})
