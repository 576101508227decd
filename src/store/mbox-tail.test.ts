import {open, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {testTempDir} from '../../test/support/temp-dir.js'
import {MboxTail} from './mbox-tail.js'

/** A tail on a file that already holds `committed` (its last savepoint's end). */
async function tailOn(committed: string, cap = 1024) {
  const path = join(await testTempDir('mailkeep-tail-'), 'f.mbox')
  await writeFile(path, committed)
  const handle = await open(path, 'a+')
  const tail = new MboxTail(handle, committed.length, cap)
  const hold = (text: string) => {
    tail.out.bytes(Buffer.from(text))
    tail.end += text.length
  }
  return {path, tail, hold, done: () => handle.close()}
}

describe('MboxTail', () => {
  it('writes what it holds at the end of the file, and says when it holds enough', async () => {
    const {path, tail, hold, done} = await tailOn('AAA', 4)
    hold('bbb')
    expect(tail.full).toBe(false)
    hold('c')
    expect(tail.full).toBe(true)
    await tail.flush()
    expect(tail.full).toBe(false)
    await done()
    expect(await readFile(path, 'utf8')).toBe('AAAbbbc')
  })

  it('cuts a message off in memory while none of it was written, off the file once some was', async () => {
    const {path, tail, hold, done} = await tailOn('AAA')
    hold('bbb')
    tail.out.bytes(Buffer.from('half')) // a message not completed: `end` does not count it
    expect(tail.cutBuffered(6)).toBe(true)
    await tail.flush()
    expect(await readFile(path, 'utf8')).toBe('AAAbbb')

    tail.out.bytes(Buffer.from('half'))
    await tail.flush()
    expect(tail.cutBuffered(6)).toBe(false)
    await tail.truncateFile(6)
    expect(tail.end).toBe(6)
    await done()
    expect(await readFile(path, 'utf8')).toBe('AAAbbb')
  })

  it('rolls the file back to the last savepoint, or to what a half-written journal may claim', async () => {
    const {path, tail, hold, done} = await tailOn('AAA')
    hold('bbb')
    await tail.flush()
    hold('ccc') // never written
    tail.journalMayClaim = 6
    tail.dropBuffered()
    expect(await tail.cutToSavepoint()).toBe(3) // `end` 9, cut to 6
    expect(await readFile(path, 'utf8')).toBe('AAAbbb')
    tail.journalMayClaim = 0
    expect(await tail.cutToSavepoint()).toBe(6)
    await done()
    expect(await readFile(path, 'utf8')).toBe('AAA')
  })
})
