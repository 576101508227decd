import {afterEach, describe, expect, it} from 'vitest'
import {join} from 'node:path'
import {writeFile} from 'node:fs/promises'
import {makeTempDir, removeTempDir} from '../support/temp-dir.js'
import {claim} from './scenario.js'

describe('claim (MAILKEEP_SEQUENCE_CLAIMS: soak workers sharing one suite seed)', () => {
  let dir = ''
  afterEach(async () => {
    if (dir !== '') await removeTempDir(dir)
  })

  it('gives each sequence number of a server to the first claimant only', async () => {
    dir = await makeTempDir('claims')
    expect(claim(dir, 'cyrus', 3)).toBe(true)
    expect(claim(dir, 'cyrus', 3)).toBe(false)
    expect(claim(dir, 'courier', 3)).toBe(true)
    expect(claim(dir, 'cyrus', 4)).toBe(true)
  })

  it('claims everything when no directory is set', () => {
    expect(claim(undefined, 'dovecot', 0)).toBe(true)
    expect(claim('', 'dovecot', 0)).toBe(true)
  })

  it('fails loudly instead of skipping when the claim cannot be made for another reason', async () => {
    dir = await makeTempDir('claims')
    const file = join(dir, 'not-a-dir')
    await writeFile(file, '')
    expect(() => claim(file, 'dovecot', 0)).toThrow(/ENOTDIR/)
  })
})
