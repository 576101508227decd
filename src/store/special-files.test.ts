// A named pipe (or socket, or device) where one of a folder's files or the account's lock file
// belongs (issue 11, item 12). Before: reading a FIFO `.imap`, journal or rename intent waited for
// a writer forever (backup hung, ignoring SIGINT, holding the lock), a FIFO lock file hung
// `local check` and failed `backup` with an internal error (exit 70), and a FIFO `.imap.compact`
// was renamed over `.imap`. Now each is refused with an error naming the file, at once, and
// nothing is changed.
import {execFileSync} from 'node:child_process'
import {lstat, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {createServer, type Server} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {DamagedError} from '../shared/errors.js'
import {silentLogger} from '../shared/logger.js'
import {AccountStore} from './account-store.js'
import {readIfPresent} from './file-ops.js'
import {FolderStore} from './folder-store.js'
import {checkAccount} from './integrity.js'
import {acquireAccountLock} from './lock.js'

let root: string

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mailkeep-special-'))
})

afterEach(async () => {
  await rm(root, {recursive: true, force: true})
})

function mkfifo(path: string): void {
  execFileSync('mkfifo', ['-m', '600', path])
}

/** A backed-up INBOX with two messages. */
async function backedUp(): Promise<void> {
  const folder = await FolderStore.open(root, 'INBOX', {mode: 'write', logger: silentLogger})
  await folder.initialize(7)
  const tx = await folder.begin()
  for (const uid of [1, 2]) await tx.append({uid, flags: [], internalDate: null}, Buffer.from(`Subject: ${uid}\r\n\r\nbody ${uid}\r\n`))
  await tx.commit()
  await folder.close()
}

async function files(): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const name of ['INBOX.imap', 'INBOX.mbox']) out[name] = await readFile(join(root, name), 'utf8')
  return out
}

describe('a FIFO where a folder file belongs', () => {
  it.each([
    ['the journal', 'INBOX.imap.journal'],
    ['the rename intent', 'INBOX.rename'],
    ['the rewrite metadata (.imap.compact)', 'INBOX.imap.compact'],
    ['the rewrite mbox (.mbox.compact)', 'INBOX.mbox.compact'],
  ])('%s: opening the folder is refused at once, naming the pipe, and changes nothing', async (_what, name) => {
    await backedUp()
    const before = await files()
    const fifo = join(root, name)
    mkfifo(fifo)
    for (const mode of ['write', 'read'] as const) {
      const error = await FolderStore.open(root, 'INBOX', {mode, logger: silentLogger}).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error, mode).toBeInstanceOf(DamagedError)
      expect((error as Error).message).toContain(`'${fifo}' is a named pipe (FIFO), not a regular file`)
    }
    expect(await files()).toEqual(before)
    expect((await lstat(fifo)).isFIFO()).toBe(true)
  })

  it('the .imap: refused at once, naming the pipe', async () => {
    await backedUp()
    const imap = join(root, 'INBOX.imap')
    await rm(imap)
    mkfifo(imap)
    await expect(FolderStore.open(root, 'INBOX', {mode: 'write', logger: silentLogger})).rejects.toThrow(`'${imap}' is a named pipe (FIFO)`)
    await expect(readIfPresent(imap)).rejects.toBeInstanceOf(DamagedError)
  })

  it('a UNIX socket is refused too', async () => {
    await backedUp()
    const path = join(root, 'INBOX.imap.journal')
    const server: Server = createServer()
    await new Promise<void>((resolve) => server.listen(path, resolve))
    try {
      await expect(FolderStore.open(root, 'INBOX', {mode: 'write', logger: silentLogger})).rejects.toThrow(/is a (socket|named pipe, socket or device), not a regular file/)
    } finally {
      server.close()
    }
  })

  it('local check reports each one as a file that is not regular, without hanging', async () => {
    await backedUp()
    mkfifo(join(root, 'INBOX.imap.journal'))
    mkfifo(join(root, 'INBOX.rename'))
    const [inbox] = await checkAccount(root)
    const codes = inbox!.findings.map((f) => [f.code, f.file])
    expect(codes).toEqual(
      expect.arrayContaining([
        ['not-a-file', join(root, 'INBOX.imap.journal')],
        ['not-a-file', join(root, 'INBOX.rename')],
      ]),
    )
  })
})

describe('a FIFO where the lock file belongs', () => {
  it.each(['exclusive', 'shared'] as const)('%s: refused at once with an error naming it (not a hang, not an internal error)', async (mode) => {
    const lock = join(root, '.mailkeep.lock')
    mkfifo(lock)
    const error = await acquireAccountLock(root, mode).then(
      async (held) => {
        await held.release()
        return undefined
      },
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(DamagedError)
    expect((error as Error).message).toContain(`'${lock}' is a named pipe (FIFO), not a regular file`)
    await expect(AccountStore.open(root, {mode: mode === 'exclusive' ? 'write' : 'read', logger: silentLogger})).rejects.toBeInstanceOf(DamagedError)
  })

  it('a regular lock file still works', async () => {
    await writeFile(join(root, '.mailkeep.lock'), '', {mode: 0o600})
    const held = await acquireAccountLock(root, 'exclusive')
    await held.release()
  })
})
