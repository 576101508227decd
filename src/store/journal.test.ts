import {execFile} from 'node:child_process'
import {existsSync} from 'node:fs'
import {mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {describe, expect, it} from 'vitest'
import {testTempDir} from '../../test/support/temp-dir.js'
import {DamagedError, UnsupportedFormatError} from '../shared/errors.js'
import {JournalWriter, parseJournal} from './journal.js'

const run = promisify(execFile)

const header = '{"j":1,"id":"x","uid_validity":5,"base_count":0,"base_end":0}'
const a1 = '{"t":"a","m":{"uid":1,"offset":0,"length":10,"flags":[]}}'
const a2 = '{"t":"a","m":{"uid":2,"offset":10,"length":10,"flags":[]}}'
const c1 = '{"t":"c","end":10,"count":1}'
const c2 = '{"t":"c","end":20,"count":2}'

describe('parseJournal', () => {
  it('keeps only records followed by a savepoint', () => {
    const j = parseJournal([header, a1, c1, a2, ''].join('\n'), 'J')!
    expect(j.header.id).toBe('x')
    expect(j.committed.map((r) => r.t)).toEqual(['a', 'c'])
    expect(j.ignoredBytes).toBe(a2.length + 1)
  })

  it('ignores a torn last line, even a torn savepoint', () => {
    const j = parseJournal([header, a1, c1, a2, c2.slice(0, 12)].join('\n'), 'J')!
    expect(j.committed).toHaveLength(2)
  })

  it('stops at a garbled line: nothing after it is trusted', () => {
    const j = parseJournal([header, a1, 'garbage', c1, ''].join('\n'), 'J')!
    expect(j.committed).toEqual([])
  })

  it('stops at a record the .imap file could not hold: flags that are not text, a record of another UID', () => {
    const x1 = '{"t":"a","m":{"uid":1,"offset":0,"length":10,"flags":["Seen"]},"x":[1,8,null,1,0]}'
    expect(parseJournal([header, x1, c1, ''].join('\n'), 'J')!.committed).toHaveLength(2)
    for (const bad of [x1.replace('"Seen"', '7'), x1.replace('[1,8', '[2,8'), x1.replace(',1,0]', ',3,0]'), '{"t":"f","uid":1,"flags":[null]}']) {
      expect(parseJournal([header, bad, c1, ''].join('\n'), 'J')!.committed, bad).toEqual([])
    }
  })

  it('treats a journal whose header is torn as empty', () => {
    expect(parseJournal(header.slice(0, 20), 'J')).toBeUndefined()
    expect(parseJournal('', 'J')).toBeUndefined()
  })

  it('refuses a complete but invalid header as damaged', () => {
    for (const bad of ['{"j":1}', '{"j":0,"id":"x","uid_validity":5,"base_count":0,"base_end":0}', '{"j":"2"}', '[2]', 'garbage']) {
      expect(() => parseJournal(`${bad}\n`, 'J'), bad).toThrow(DamagedError)
      expect(() => parseJournal(`${bad}\n`, 'J'), bad).toThrow("journal 'J' has an invalid header")
    }
  })

  it('refuses the header of a newer format as unsupported, whatever else it holds', () => {
    for (const newer of ['{"j":3}', `{"j":3,"id":"x","uid_validity":5,"base_count":0,"base_end":0}`, '{"j":17,"something":"else"}']) {
      const parse = (): unknown => parseJournal(`${newer}\n${a1}\n${c1}\n`, 'J')
      expect(parse, newer).toThrow(UnsupportedFormatError)
      expect(parse, newer).toThrow(/^journal 'J' was written by a newer mailkeep \(journal format \d+\); it was left untouched$/)
    }
    // A torn newer header is still only a torn header.
    expect(parseJournal('{"j":3,"id"', 'J')).toBeUndefined()
  })

  it("says which quoting rule the entries were written with: 0.1.0's journals (j 1) strict, ours (j 2) compat", () => {
    expect(parseJournal([header, a1, c1, ''].join('\n'), 'J')!.quoting).toBe('strict')
    expect(parseJournal([header.replace('"j":1', '"j":2'), a1, c1, ''].join('\n'), 'J')!.quoting).toBe('compat')
  })
})

describe('JournalWriter.create', () => {
  // Found by test/reliability (disk full): begin() on a full disk failed writing the header and
  // left an empty journal behind, so the folder was not at its savepoint (I3).
  it('leaves no journal behind when its header cannot be written (disk full)', async ({skip}) => {
    const dir = await testTempDir('mailkeep-journal-')
    const small = join(dir, 'small')
    await mkdir(small)
    try {
      await run('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', small])
    } catch {
      skip() // needs root (or CAP_SYS_ADMIN) to mount a small file system
    }
    try {
      // Fill the file system, then begin a journal on it.
      await writeFile(join(small, 'ballast'), Buffer.alloc(64 * 1024)).catch(() => undefined)
      const path = join(small, 'INBOX.imap.journal')
      await expect(JournalWriter.create(path, {j: 1, id: 'x', uid_validity: 5, base_count: 0, base_end: 0})).rejects.toThrow(/no space left on device/)
      expect(existsSync(path)).toBe(false)
    } finally {
      await run('umount', [small])
    }
  })
})
