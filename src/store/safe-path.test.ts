import {constants, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {DamagedError, isPathProblem, LocalIoError, UnusablePathError} from '../shared/errors.js'
import {encodeFolderPath} from './folder-path.js'
import {checkNoSymlinks, ensureFolderDirectory, openNoFollow, resolveInside} from './safe-path.js'

let base: string
let root: string
let outside: string

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'mailkeep-safe-path-'))
  root = join(base, 'account')
  outside = join(base, 'outside')
  await mkdir(root, {mode: 0o700})
  await mkdir(outside)
})

afterEach(async () => {
  await rm(base, {recursive: true, force: true})
})

describe('resolveInside', () => {
  it('resolves paths inside the root', () => {
    expect(resolveInside(root, 'INBOX.mbox')).toBe(join(root, 'INBOX.mbox'))
    expect(resolveInside(root, '[Gmail]/All Mail.mbox')).toBe(join(root, '[Gmail]', 'All Mail.mbox'))
    expect(resolveInside(`${root}/`, 'a/../b.mbox')).toBe(join(root, 'b.mbox'))
  })

  it.each(['', '.', '..', '../x', 'a/../../x', '/etc/passwd', 'a/../..'])('refuses %j, naming it', (relative) => {
    expect(() => resolveInside(root, relative)).toThrow(DamagedError)
    expect(() => resolveInside(root, relative)).toThrow(`'${relative}'`)
  })

  it('keeps every encoded folder name inside the root', () => {
    for (const name of ['../../etc/passwd', '/etc/passwd', '..', '.', 'a//b', 'a/', '/', '%2e;%2e;']) {
      expect(resolveInside(root, `${encodeFolderPath(name)}.mbox`).startsWith(`${root}/`)).toBe(true)
    }
  })
})

describe('ensureFolderDirectory', () => {
  it('creates the missing directories with mode 0700 and returns the file path', async () => {
    const file = await ensureFolderDirectory(root, 'a/b/c/INBOX.mbox')
    expect(file).toBe(join(root, 'a', 'b', 'c', 'INBOX.mbox'))
    for (const dir of ['a', 'a/b', 'a/b/c']) {
      const info = await stat(join(root, dir))
      expect(info.isDirectory()).toBe(true)
      expect(info.mode & 0o777).toBe(0o700)
    }
    await expect(stat(file)).rejects.toMatchObject({code: 'ENOENT'}) // the file is the caller's job
    await ensureFolderDirectory(root, 'a/b/c/INBOX.imap') // idempotent
  })

  it('does not chmod a directory that already exists', async () => {
    await mkdir(join(root, 'mine'), {mode: 0o750})
    await ensureFolderDirectory(root, 'mine/x/INBOX.mbox')
    expect((await stat(join(root, 'mine'))).mode & 0o777).toBe(0o750)
  })

  it('refuses a symlinked directory that points outside, creating nothing there', async () => {
    await symlink(outside, join(root, 'evil'))
    const attempt = ensureFolderDirectory(root, 'evil/sub/INBOX.mbox')
    await expect(attempt).rejects.toThrow(DamagedError)
    await expect(ensureFolderDirectory(root, 'evil/sub/INBOX.mbox')).rejects.toThrow(
      `'${join(root, 'evil')}' is a symlink; mailkeep does not follow links inside the backup directory`,
    )
    expect(await readdir(outside)).toEqual([])
  })

  it('refuses a symlink deeper down, and a dangling one', async () => {
    await mkdir(join(root, 'a'))
    await symlink(join(outside, 'missing'), join(root, 'a', 'b'))
    await expect(ensureFolderDirectory(root, 'a/b/c/INBOX.mbox')).rejects.toThrow(`'${join(root, 'a', 'b')}' is a symlink`)
    expect(await readdir(outside)).toEqual([])
  })

  // Issue 11 item 7 and "A.mbox/x next to A": a path problem of one folder, not damage (exit 6
  // sent the user to a `local check` that found nothing), and not the whole disk (exit 8 stopped
  // the run): UnusablePathError (exit 4), which names the file and whose folder it is.
  it('refuses a file where a directory should be, as a problem of that path alone', async () => {
    await writeFile(join(root, 'a.mbox'), 'From x\n')
    await expect(ensureFolderDirectory(root, 'a.mbox/b.mbox')).rejects.toThrow(UnusablePathError)
    await expect(ensureFolderDirectory(root, 'a.mbox/b.mbox')).rejects.toThrow(
      `'${join(root, 'a.mbox')}' is a file, not a directory, and the folders whose names start with 'a.mbox/' need a directory there (it is a file of the folder stored as 'a')`,
    )
  })

  it('a component longer than the file system allows is a problem of that path alone', async () => {
    const error = await ensureFolderDirectory(root, `${'x'.repeat(300)}/INBOX.mbox`).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(UnusablePathError)
    expect((error as Error).message).toMatch(/file name too long/)
    expect(isPathProblem(error)).toBe(true)
  })

  it('accepts a root that is itself a symlink', async () => {
    const link = join(base, 'link-to-account')
    await symlink(root, link)
    expect(await ensureFolderDirectory(link, 'x/INBOX.mbox')).toBe(join(link, 'x', 'INBOX.mbox'))
    expect((await stat(join(root, 'x'))).isDirectory()).toBe(true)
  })

  it('refuses a missing root rather than creating it', async () => {
    await expect(ensureFolderDirectory(join(base, 'nope'), 'x/INBOX.mbox')).rejects.toThrow(LocalIoError)
    await expect(stat(join(base, 'nope'))).rejects.toMatchObject({code: 'ENOENT'})
  })

  it('refuses a path that leaves the root before touching the disk', async () => {
    await expect(ensureFolderDirectory(root, '../outside/x/INBOX.mbox')).rejects.toThrow(DamagedError)
    expect(await readdir(outside)).toEqual([])
  })
})

describe('checkNoSymlinks', () => {
  it('checks without creating', async () => {
    expect(await checkNoSymlinks(root, 'a/b/INBOX.mbox')).toBe(join(root, 'a', 'b', 'INBOX.mbox'))
    expect(await readdir(root)).toEqual([])
    await symlink(outside, join(root, 'a'))
    await expect(checkNoSymlinks(root, 'a/b/INBOX.mbox')).rejects.toThrow(DamagedError)
    await writeFile(join(root, 'f'), '')
    await expect(checkNoSymlinks(root, 'f/INBOX.mbox')).rejects.toThrow(UnusablePathError)
  })
})

describe('openNoFollow', () => {
  it('opens and creates regular files with mode 0600', async () => {
    const path = join(root, 'INBOX.mbox')
    const handle = await openNoFollow(path, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND)
    await handle.write('From x\n')
    await handle.close()
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    const reader = await openNoFollow(path, constants.O_RDONLY)
    expect((await reader.readFile()).toString()).toBe('From x\n')
    await reader.close()
  })

  it('refuses a symlinked mbox, and writes nothing through it', async () => {
    const target = join(outside, 'victim')
    await writeFile(target, 'precious\n')
    const path = join(root, 'INBOX.mbox')
    await symlink(target, path)
    for (const flags of [constants.O_RDONLY, constants.O_WRONLY | constants.O_APPEND, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC]) {
      await expect(openNoFollow(path, flags)).rejects.toThrow(`'${path}' is a symlink; mailkeep does not follow links`)
    }
    expect(await readFile(target, 'utf8')).toBe('precious\n')
  })

  it('refuses a dangling symlink when creating', async () => {
    const path = join(root, 'INBOX.imap.journal')
    await symlink(join(outside, 'new'), path)
    await expect(openNoFollow(path, constants.O_WRONLY | constants.O_CREAT)).rejects.toThrow(DamagedError)
    // O_EXCL never follows a link either; the kernel reports the name as taken.
    await expect(openNoFollow(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL)).rejects.toMatchObject({code: 'EEXIST'})
    expect(await readdir(outside)).toEqual([])
  })

  it('refuses a directory or a FIFO instead of hanging or reading garbage', async () => {
    await mkdir(join(root, 'dir.mbox'))
    await expect(openNoFollow(join(root, 'dir.mbox'), constants.O_RDONLY)).rejects.toThrow(UnusablePathError)
    await expect(openNoFollow(join(root, 'dir.mbox'), constants.O_RDONLY)).rejects.toThrow(`'${join(root, 'dir.mbox')}' is a directory`)
    const {execFileSync} = await import('node:child_process')
    execFileSync('mkfifo', [join(root, 'fifo.mbox')])
    await expect(openNoFollow(join(root, 'fifo.mbox'), constants.O_RDONLY)).rejects.toThrow('is a named pipe (FIFO), not a regular file')
    // For writing, with no reader: ENXIO from open(2), refused the same way.
    await expect(openNoFollow(join(root, 'fifo.mbox'), constants.O_WRONLY)).rejects.toThrow(DamagedError)
  })

  it('passes ENOENT through for callers to test, and maps I/O errors', async () => {
    await expect(openNoFollow(join(root, 'missing.imap'), constants.O_RDONLY)).rejects.toMatchObject({code: 'ENOENT'})
    await mkdir(join(root, 'dir.mbox'))
    await expect(openNoFollow(join(root, 'dir.mbox'), constants.O_WRONLY)).rejects.toThrow(UnusablePathError)
    await expect(openNoFollow(join(root, 'dir.mbox'), constants.O_WRONLY)).rejects.toThrow(`'${join(root, 'dir.mbox')}' is a directory`)
    await writeFile(join(root, 'file'), '')
    await expect(openNoFollow(join(root, 'file', 'x.mbox'), constants.O_RDONLY)).rejects.toThrow(UnusablePathError)
  })
})
