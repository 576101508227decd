import {spawn, type ChildProcess} from 'node:child_process'
import {mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {ExitCode} from '../shared/exit-codes.js'
import {DamagedError, LocalIoError, LockedError} from '../shared/errors.js'
import {acquireAccountLock, type AccountLock, LOCK_FILE_NAME, type LockMode} from './lock.js'

const FIXTURE = fileURLToPath(new URL('./lock-child.fixture.mjs', import.meta.url))

let root: string
let lockPath: string
const children: ChildProcess[] = []
const locks: AccountLock[] = []

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mailkeep-lock-'))
  lockPath = join(root, LOCK_FILE_NAME)
})

afterEach(async () => {
  for (const lock of locks.splice(0)) await lock.release()
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited(child)
    }
  }
  await rm(root, {recursive: true, force: true})
})

/** acquireAccountLock, remembering the lock so that afterEach releases it. */
async function acquire(mode: LockMode): Promise<AccountLock> {
  const lock = await acquireAccountLock(root, mode)
  locks.push(lock)
  return lock
}

async function refusedWith(mode: LockMode): Promise<LockedError> {
  const error: unknown = await acquireAccountLock(root, mode).then(
    (lock) => lock.release().then(() => new Error(`the ${mode} lock was granted`)),
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(LockedError)
  return error as LockedError
}

interface Holder {
  child: ChildProcess
  pid: number
  outcome: string
  nextLine(): Promise<string>
}

/** Starts a separate node process that tries to take the lock; resolves with its first line. */
async function lockInChild(mode: LockMode): Promise<Holder> {
  const child = spawn(process.execPath, [FIXTURE, lockPath, mode], {stdio: ['pipe', 'pipe', 'inherit']})
  children.push(child)
  const lines: string[] = []
  const waiting: ((line: string) => void)[] = []
  let buffered = ''
  child.stdout!.setEncoding('utf8')
  child.stdout!.on('data', (text: string) => {
    buffered += text
    let newline: number
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline)
      buffered = buffered.slice(newline + 1)
      const waiter = waiting.shift()
      if (waiter === undefined) lines.push(line)
      else waiter(line)
    }
  })
  const nextLine = (): Promise<string> => {
    const line = lines.shift()
    if (line !== undefined) return Promise.resolve(line)
    return new Promise((resolve, reject) => {
      waiting.push(resolve)
      child.once('exit', (code) => reject(new Error(`lock child exited (${code}) without a line`)))
    })
  }
  const outcome = await nextLine()
  return {child, pid: child.pid!, outcome, nextLine}
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

describe('acquireAccountLock between processes', () => {
  it('refuses a second writer, naming the first one\'s pid', async () => {
    const holder = await lockInChild('exclusive')
    expect(holder.outcome).toBe('locked')
    const error = await refusedWith('exclusive')
    expect(error.holderPid).toBe(holder.pid)
    expect(error.lockPath).toBe(lockPath)
    expect(error.exitCode).toBe(ExitCode.LOCKED)
    expect(error.message).toBe(`another mailkeep is already running on this account (pid ${holder.pid}; lock ${lockPath})`)
    expect(error.hint).toBeUndefined()
  })

  it('refuses a reader while a writer runs, naming the writer', async () => {
    const holder = await lockInChild('exclusive')
    expect(holder.outcome).toBe('locked')
    expect((await refusedWith('shared')).holderPid).toBe(holder.pid)
  })

  it('writes our pid for the processes it refuses', async () => {
    const lock = await acquire('exclusive')
    expect(await readFile(lockPath, 'utf8')).toBe(`${process.pid}\n`)
    expect((await lockInChild('exclusive')).outcome).toBe('refused EAGAIN')
    expect((await lockInChild('shared')).outcome).toBe('refused EAGAIN')
    await lock.release()
    expect((await lockInChild('exclusive')).outcome).toBe('locked')
  })

  it('lets readers share the lock', async () => {
    expect((await lockInChild('shared')).outcome).toBe('locked')
    await acquire('shared')
    expect((await lockInChild('shared')).outcome).toBe('locked')
  })

  it('refuses a writer while readers hold the lock, saying so', async () => {
    expect((await lockInChild('shared')).outcome).toBe('locked')
    const error = await refusedWith('exclusive')
    expect(error.holderPid).toBeUndefined()
    expect(error.hint).toMatch(/being read by another mailkeep process/)
  })

  it('refuses another writer while we read', async () => {
    await writeFile(lockPath, '', {mode: 0o600}) // a writer has locked this account before
    await acquire('shared')
    expect((await lockInChild('exclusive')).outcome).toBe('refused EAGAIN')
  })

  it('creates nothing for a reader: without a lock file (no writer ever ran) it holds nothing', async () => {
    const lock = await acquire('shared')
    expect(lock.mode).toBe('shared')
    expect(await readdir(root)).toEqual([])
    await lock.release()
    expect(await readdir(root)).toEqual([])
    // Nothing is held, so a writer that starts now is not refused (it creates the file).
    expect((await lockInChild('exclusive')).outcome).toBe('locked')
  })

  it('is free again as soon as the holder is killed', async () => {
    const holder = await lockInChild('exclusive')
    expect(holder.outcome).toBe('locked')
    holder.child.kill('SIGKILL')
    await exited(holder.child)
    const lock = await acquire('exclusive')
    expect(lock.mode).toBe('exclusive')
    expect(await readFile(lockPath, 'utf8')).toBe(`${process.pid}\n`)
  })

  it('is free again when the holder releases it', async () => {
    const holder = await lockInChild('exclusive')
    holder.child.stdin!.write('release\n')
    expect(await holder.nextLine()).toBe('released')
    await acquire('exclusive')
  })
})

describe('acquireAccountLock within one process', () => {
  it('makes two locks of the same process conflict (flock is per open file)', async () => {
    const first = await acquire('exclusive')
    expect((await refusedWith('exclusive')).holderPid).toBe(process.pid)
    expect((await refusedWith('shared')).holderPid).toBe(process.pid)
    await first.release()
    await acquire('shared')
    await acquire('shared')
    await refusedWith('exclusive')
  })

  it('can be released twice, and taken again', async () => {
    const lock = await acquire('exclusive')
    await Promise.all([lock.release(), lock.release()])
    await lock.release()
    const again = await acquire('exclusive')
    await again.release()
    await acquire('shared')
  })

  it('creates the lock file with mode 0600 and never deletes it', async () => {
    const lock = await acquire('exclusive')
    expect((await stat(lockPath)).mode & 0o777).toBe(0o600)
    await lock.release()
    expect((await stat(lockPath)).isFile()).toBe(true)
    expect(await readFile(lockPath, 'utf8')).toBe('') // no stale pid after a clean release
  })

  it('does not write the pid for a reader, and reads a lock file it cannot write', async () => {
    await writeFile(lockPath, '', {mode: 0o400})
    const lock = await acquire('shared')
    await lock.release()
    expect(await readFile(lockPath, 'utf8')).toBe('')
  })

  it('ignores a pid it cannot parse, and still refuses', async () => {
    expect((await lockInChild('exclusive')).outcome).toBe('locked')
    await writeFile(lockPath, 'garbage') // flock is advisory: the holder's pid can be overwritten
    const error = await refusedWith('shared')
    expect(error.holderPid).toBeUndefined()
    expect(error.message).toContain('pid unknown')
  })

  it('refuses a symlinked lock file and a missing account root', async () => {
    await writeFile(join(root, 'elsewhere'), '')
    await symlink(join(root, 'elsewhere'), lockPath)
    await expect(acquireAccountLock(root, 'exclusive')).rejects.toThrow(DamagedError)
    await expect(acquireAccountLock(root, 'shared')).rejects.toThrow(`'${lockPath}' is a symlink`)
    const missing = join(root, 'missing')
    await expect(acquireAccountLock(missing, 'exclusive')).rejects.toThrow(LocalIoError)
    await mkdir(missing)
    await (await acquireAccountLock(missing, 'exclusive')).release()
  })
})
