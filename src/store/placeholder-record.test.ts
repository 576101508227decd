import {mkdtemp, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {DamagedError} from '../shared/errors.js'
import {PLACEHOLDER_RECORD_FILE, readPlaceholderRecord, sameRecord, writePlaceholderRecord} from './placeholder-record.js'

let root: string
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mailkeep-placeholder-record-'))
})
afterEach(async () => {
  await rm(root, {recursive: true, force: true})
})

describe('the record of backups older than ignore-history placeholders', () => {
  it('is empty until written, read back as written (mode 0600), and an empty one removes the file', async () => {
    expect(await readPlaceholderRecord(root)).toEqual(new Map())
    const record = new Map([['Old', new Set(['New', 'INBOX'])], ['Gone', new Set<string>()]])
    await writePlaceholderRecord(root, record)
    const path = join(root, PLACEHOLDER_RECORD_FILE)
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({format: 1, older: {Old: ['INBOX', 'New']}})
    const read = await readPlaceholderRecord(root)
    expect(read).toEqual(new Map([['Old', new Set(['INBOX', 'New'])]]))
    expect(sameRecord(read, record)).toBe(true)
    expect(sameRecord(read, new Map([['Old', new Set(['INBOX'])]]))).toBe(false)
    await writePlaceholderRecord(root, new Map())
    await expect(stat(path)).rejects.toMatchObject({code: 'ENOENT'})
  })

  it('is damaged when it is not what mailkeep writes, or a newer format (nothing may be concluded from it)', async () => {
    const path = join(root, PLACEHOLDER_RECORD_FILE)
    for (const text of ['{"format":1,"older":{"a":[1]}}', '[]', '{"older":{}}', '{"format":1,', '{"format":2,"older":{}}', '{"format":1,"older":{"a":"b"}}']) {
      await writeFile(path, text)
      await expect(readPlaceholderRecord(root), text).rejects.toBeInstanceOf(DamagedError)
    }
  })
})
