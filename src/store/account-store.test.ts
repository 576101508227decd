import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {mkdtemp, readdir, rm, stat, writeFile, mkdir, chmod} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {LockedError, UsageError} from '../shared/errors.js'
import {silentLogger} from '../shared/logger.js'
import {AccountStore} from './account-store.js'

let base: string
beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'mailkeep-account-'))
})
afterEach(async () => {
  await rm(base, {recursive: true, force: true})
})

describe('AccountStore', () => {
  it('creates the root with mode 0700 and tightens an existing loose one', async () => {
    const root = join(base, 'me')
    await mkdir(root)
    await chmod(root, 0o755)
    const store = await AccountStore.open(root, {mode: 'write', logger: silentLogger})
    expect((await stat(root)).mode & 0o777).toBe(0o700)
    await store.close()
  })

  it('lists folders by their server names, from *.imap files in subdirectories', async () => {
    const root = join(base, 'me')
    const store = await AccountStore.open(root, {mode: 'write', logger: silentLogger})
    for (const name of ['INBOX', '[Gmail]/All Mail', 'a:b', 'Work/Projects/2024']) {
      const folder = await store.folder(name)
      await folder.initialize(1)
    }
    await writeFile(join(root, 'notes.txt'), 'not a folder')
    expect((await store.listFolders()).map((f) => f.name)).toEqual(['INBOX', 'Work/Projects/2024', '[Gmail]/All Mail', 'a:b'])
    await store.close()
  })

  it('removes a folder (mirror mode), keeping its .mirror file', async () => {
    const root = join(base, 'me')
    const store = await AccountStore.open(root, {mode: 'write', logger: silentLogger})
    const folder = await store.folder('Old')
    await folder.initialize(1)
    await writeFile(join(root, 'Old.mirror'), '{}')
    await store.removeFolder('Old')
    expect(await readdir(root)).toEqual(expect.arrayContaining(['Old.mirror']))
    expect((await readdir(root)).filter((n) => n.startsWith('Old.'))).toEqual(['Old.mirror'])
    await store.close()
  })

  it('refuses a reader or writer while another writer holds the lock (same process, separate opens)', async () => {
    const root = join(base, 'me')
    const writer = await AccountStore.open(root, {mode: 'write', logger: silentLogger})
    await expect(AccountStore.open(root, {mode: 'write', logger: silentLogger})).rejects.toBeInstanceOf(LockedError)
    await expect(AccountStore.open(root, {mode: 'read', logger: silentLogger})).rejects.toBeInstanceOf(LockedError)
    await writer.close()
    const reader = await AccountStore.open(root, {mode: 'read', logger: silentLogger})
    const reader2 = await AccountStore.open(root, {mode: 'read', logger: silentLogger})
    await reader.close()
    await reader2.close()
  })

  it('says there is no backup yet when reading a missing root', async () => {
    await expect(AccountStore.open(join(base, 'none'), {mode: 'read', logger: silentLogger})).rejects.toBeInstanceOf(UsageError)
  })
})

describe('open folders', () => {
  it('are forgotten by the account once closed, and rolled back if the account closes first', async () => {
    const root = join(base, 'me')
    const store = await AccountStore.open(root, {mode: 'write', logger: silentLogger})
    const a = await store.folder('A')
    await a.initialize(1)
    await a.close()
    expect((store as unknown as {open: Set<unknown>}).open.size).toBe(0)
    const b = await store.folder('B')
    await b.initialize(1)
    const tx = await b.begin()
    await tx.append({uid: 1, flags: [], internalDate: null}, Buffer.from('Subject: x\r\n\r\nbody\r\n'))
    await store.close()
    expect(tx.isOpen).toBe(false)
    expect(await readdir(root)).not.toContain('B.imap.journal')
  })
})
