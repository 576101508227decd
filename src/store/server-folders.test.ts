import {readFile, stat, symlink, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {DamagedError} from '../shared/errors.js'
import {readServerFolders, SERVER_FOLDERS_FILE, writeServerFolders} from './server-folders.js'

let root: string
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mailkeep-server-folders-'))
})
afterEach(async () => {
  await rm(root, {recursive: true, force: true})
})

describe('the list of server folders', () => {
  it('is absent until written, then read back as written, mode 0600', async () => {
    expect(await readServerFolders(root)).toBeUndefined()
    await writeServerFolders(root, ['INBOX', 'Lists/ä', 'a [&AGE-]'])
    expect(await readServerFolders(root)).toEqual(['INBOX', 'Lists/ä', 'a [&AGE-]'])
    expect((await stat(join(root, SERVER_FOLDERS_FILE))).mode & 0o777).toBe(0o600)
    expect(JSON.parse(await readFile(join(root, SERVER_FOLDERS_FILE), 'utf8'))).toEqual({format: 1, folders: ['INBOX', 'Lists/ä', 'a [&AGE-]']})
  })

  it('is damaged when it is not what mailkeep writes, and nothing when a newer mailkeep wrote it', async () => {
    const path = join(root, SERVER_FOLDERS_FILE)
    for (const text of ['{"format":1,"folders":[1]}', '[]', '{"folders":[]}', '{"format":1,']) {
      await writeFile(path, text)
      await expect(readServerFolders(root)).rejects.toBeInstanceOf(DamagedError)
    }
    await writeFile(path, '{"format":2,"something":"else"}')
    expect(await readServerFolders(root)).toBeUndefined()
  })

  it('is never read through a symlink', async () => {
    await writeFile(join(root, 'elsewhere.json'), '{"format":1,"folders":["x"]}')
    await symlink(join(root, 'elsewhere.json'), join(root, SERVER_FOLDERS_FILE))
    await expect(readServerFolders(root)).rejects.toBeInstanceOf(DamagedError)
  })
})
