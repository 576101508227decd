import {existsSync, statSync} from 'node:fs'
import {writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {makeTempDir, removeTempDir, testTempDir, withTempDir} from './temp-dir.js'

describe('temp dirs', () => {
  it('are private and removed with their contents', async () => {
    const dir = await makeTempDir('mk-t-')
    expect(statSync(dir).mode & 0o777).toBe(0o700)
    await writeFile(join(dir, 'f'), 'x')
    await removeTempDir(dir)
    expect(existsSync(dir)).toBe(false)
    const seen = await withTempDir(async (d) => d)
    expect(existsSync(seen)).toBe(false)
  })

  it('refuses to remove anything outside the temp dir', async () => {
    await expect(removeTempDir('/work')).rejects.toThrow(/refusing/)
    await expect(removeTempDir(tmpdir())).rejects.toThrow(/refusing/)
  })

  let fromTest = ''
  it('testTempDir lives as long as the test', async () => {
    fromTest = await testTempDir()
    expect(existsSync(fromTest)).toBe(true)
  })
  it('(and is gone afterwards)', () => {
    expect(fromTest).not.toBe('')
    expect(existsSync(fromTest)).toBe(false)
  })
})
