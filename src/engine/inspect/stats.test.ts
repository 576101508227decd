/**
 * accountStats() against a scripted session (no server) and a real backup in a temp dir: the
 * counting rules, folders that vanish, an account with no backup yet, a changed UIDVALIDITY,
 * and the session always ended. The Dovecot tests (test/remote/stats.test.ts) cover the wire.
 */
import {describe, expect, it} from 'vitest'
import {join} from 'node:path'
import {parseConfig, type Config} from '../../config/index.js'
import type {Connect, ImapSession, OpenedFolder, RemoteFolder} from '../../imap/types.js'
import {AccountStore} from '../../store/account-store.js'
import {MissingFolderError} from '../../shared/errors.js'
import {silentContext} from '../../shared/context.js'
import {silentLogger} from '../../shared/logger.js'
import {testTempDir} from '../../../test/support/temp-dir.js'
import {accountStats} from './stats.js'

interface FakeFolder {
  uidValidity: number
  uids: number[]
  /** Listed, but EXAMINE says it does not exist (deleted in between). */
  vanished?: boolean
  noselect?: boolean
}

function fakeServer(folders: Record<string, FakeFolder>): {connect: Connect; calls: string[]} {
  const calls: string[] = []
  let current: FakeFolder | undefined
  const session = {
    capabilities: {all: new Set(['IMAP4REV1']), condstore: false, qresync: false, listStatus: false, uidplus: true, multiappend: false, literalPlus: false, appendLimit: undefined},
    user: 'me@example.test',
    closed: false,
    async listFolders(): Promise<RemoteFolder[]> {
      calls.push('LIST')
      return Object.entries(folders).map(([name, f]) => ({name, delimiter: '/', flags: f.noselect ? ['\\Noselect'] : [], noselect: f.noselect === true}))
    },
    async examine(name: string): Promise<OpenedFolder> {
      calls.push(`EXAMINE ${name}`)
      const f = folders[name]
      if (f === undefined || f.vanished) throw new MissingFolderError(name)
      current = f
      return {name, readOnly: true, uidValidity: f.uidValidity, uidNext: Math.max(0, ...f.uids) + 1, exists: f.uids.length}
    },
    async searchUids(): Promise<number[]> {
      calls.push('UID SEARCH')
      return [...current!.uids]
    },
    async logout(): Promise<void> {
      calls.push('LOGOUT')
    },
    close(): void {
      calls.push('CLOSE')
    },
  }
  return {connect: async () => session as unknown as ImapSession, calls}
}

async function config(dir: string, extra: Record<string, unknown> = {}): Promise<Config> {
  const account = {username: 'me@example.test', password: 'unit-test-pw', local_path: join(dir, 'backup'), server: '127.0.0.1', connection_options: {port: 143, ssl: false}, ...extra}
  return parseConfig({version: '2.2', accounts: [account]}, join(dir, 'config.json'))
}

/** Stores `uids` in `folder` (with this UIDVALIDITY) through the real store. */
async function store(root: string, folder: string, uidValidity: number, uids: number[]): Promise<void> {
  const account = await AccountStore.open(root, {mode: 'write', logger: silentLogger})
  try {
    const f = await account.folder(folder)
    await f.initialize(uidValidity)
    const tx = await f.begin()
    for (const uid of uids) await tx.append({uid, flags: [], internalDate: null}, Buffer.from(`Subject: ${uid}\r\n\r\nbody\r\n`))
    await tx.commit()
  } finally {
    await account.close()
  }
}

describe('accountStats', () => {
  it('with no backup yet, every server UID is remote, and nothing is created', async () => {
    const dir = await testTempDir()
    const {connect, calls} = fakeServer({INBOX: {uidValidity: 7, uids: [1, 2, 3]}, Empty: {uidValidity: 7, uids: []}})
    const {rows} = await accountStats({config: await config(dir), email: 'me@example.test', connect}, silentContext())
    expect(rows).toEqual([
      {folder: 'INBOX', remote: 3, both: 0, local: 0},
      {folder: 'Empty', remote: 0, both: 0, local: 0},
    ])
    // One search per non-empty folder; the session is logged out.
    expect(calls).toEqual(['LIST', 'EXAMINE INBOX', 'UID SEARCH', 'EXAMINE Empty', 'LOGOUT'])
  })

  it('counts remote, both and local against the stored UIDs', async () => {
    const dir = await testTempDir()
    const cfg = await config(dir)
    await store(cfg.accounts[0]!.localPath!, 'INBOX', 7, [1, 2, 3, 4])
    const {connect} = fakeServer({INBOX: {uidValidity: 7, uids: [3, 4, 5, 6, 7]}})
    expect((await accountStats({config: cfg, email: 'me@example.test', connect}, silentContext())).rows).toEqual([{folder: 'INBOX', remote: 3, both: 2, local: 2}])
  })

  it('a changed UIDVALIDITY: nothing is in both', async () => {
    const dir = await testTempDir()
    const cfg = await config(dir)
    await store(cfg.accounts[0]!.localPath!, 'INBOX', 7, [1, 2])
    const {connect} = fakeServer({INBOX: {uidValidity: 8, uids: [1, 2, 3]}})
    expect((await accountStats({config: cfg, email: 'me@example.test', connect}, silentContext())).rows).toEqual([{folder: 'INBOX', remote: 3, both: 0, local: 2}])
  })

  it('skips \\Noselect, unselected and vanished folders, as imap-backup does', async () => {
    const dir = await testTempDir()
    const cfg = await config(dir, {folders: ['Archive'], folder_blacklist: true})
    const {connect} = fakeServer({
      INBOX: {uidValidity: 1, uids: [1]},
      Archive: {uidValidity: 1, uids: [1, 2]},
      Parent: {uidValidity: 1, uids: [], noselect: true},
      Gone: {uidValidity: 1, uids: [5], vanished: true},
    })
    expect((await accountStats({config: cfg, email: 'me@example.test', connect}, silentContext())).rows).toEqual([{folder: 'INBOX', remote: 1, both: 0, local: 0}])
  })

  it('an unknown account is a config error before any connection', async () => {
    const dir = await testTempDir()
    const {connect, calls} = fakeServer({})
    await expect(accountStats({config: await config(dir), email: 'other@example.test', connect}, silentContext())).rejects.toThrow('other@example.test is not a configured account')
    expect(calls).toEqual([])
  })

  it('the session is closed at once when the run is interrupted', async () => {
    const dir = await testTempDir()
    const controller = new AbortController()
    const {connect, calls} = fakeServer({INBOX: {uidValidity: 1, uids: [1]}, Work: {uidValidity: 1, uids: [2]}})
    const reason = new Error('interrupted')
    const ctx = silentContext({signal: controller.signal})
    const wrapped: Connect = async (options) => {
      const session = await connect(options)
      const examine = session.examine.bind(session)
      session.examine = async (name, opts) => {
        const opened = await examine(name, opts)
        controller.abort(reason)
        return opened
      }
      return session
    }
    await expect(accountStats({config: await config(dir), email: 'me@example.test', connect: wrapped}, ctx)).rejects.toBe(reason)
    expect(calls.at(-1)).toBe('CLOSE')
    expect(calls).not.toContain('EXAMINE Work')
  })
})
