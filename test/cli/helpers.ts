/**
 * Shared pieces of the CLI end-to-end tests: private HOME directories and config files (0600),
 * a record of every line the CLI printed (for the password scan that ends each file), and checks
 * of a backup on disk against the server.
 *
 * The on-disk checks read the files directly (before anything could run recovery on them), then
 * open the account read-only through src/store, which also proves the lock is free.
 */
import {existsSync} from 'node:fs'
import {chmod, mkdir, readFile, readdir, stat, writeFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import {expect} from 'vitest'
import {AccountStore} from '../../src/store/account-store.js'
import {encodeFolderPath} from '../../src/store/folder-path.js'
import {silentLogger} from '../../src/shared/logger.js'
import {runCli, spawnCli, type CliOptions, type CliResult, type SpawnedCli} from '../support/cli.js'
import {fetchMessages, listUids, type ImapServer} from '../support/mail-seed.js'
import type {TestUser} from '../support/dovecot.js'
import {testTempDir} from '../support/temp-dir.js'
import {accountEntry} from '../support/account.js'

/** Everything the CLI printed in this test file, for the final password scan. */
const transcript: string[] = []

export function recordOutput(result: Pick<CliResult, 'stdout' | 'stderr'>): void {
  transcript.push(result.stdout, result.stderr)
}

export function allOutput(): string {
  return transcript.join('\n')
}

/** Runs the CLI with HOME set to `home` and no MAILKEEP_CONFIG; records what it printed. */
export async function mailkeep(home: string, args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const result = await runCli(args, {timeoutMs: 120_000, ...options, env: {HOME: home, MAILKEEP_CONFIG: undefined, ...options.env}})
  recordOutput(result)
  return result
}

/** spawnCli with the same environment; its output is recorded when it exits. */
export function spawnMailkeep(home: string, args: readonly string[], options: CliOptions = {}): SpawnedCli {
  const cli = spawnCli(args, {timeoutMs: 300_000, ...options, env: {HOME: home, MAILKEEP_CONFIG: undefined, ...options.env}})
  void cli.exited.then(recordOutput, () => undefined)
  return cli
}

/** A fresh HOME for one test (removed when the test ends). */
export async function makeHome(): Promise<string> {
  return testTempDir('mailkeep-cli-home-')
}

/** The default config path under HOME. */
export function defaultConfigPath(home: string): string {
  return join(home, '.mailkeep', 'config.json')
}

/** Writes a config file (mode 0600 unless told otherwise), creating its directory (0700). */
export async function writeConfig(path: string, config: unknown, mode = 0o600): Promise<string> {
  await mkdir(dirname(path), {recursive: true, mode: 0o700})
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`, {mode})
  await chmod(path, mode)
  return path
}

/** One account of the test Dovecot, plain IMAP on its port. */
export {accountEntry} from '../support/account.js'

export interface AccountSetup {
  home: string
  /** The account's local_path: HOME/backup. */
  root: string
  user: TestUser
}

/**
 * A fresh HOME whose default config holds one account: user `userIndex` of `server`, reached on
 * `port` (a proxy's, say), backed up to HOME/backup, with `extra` keys in its entry.
 */
export async function setupAccount(server: Pick<ImapServer, 'host' | 'port' | 'users'>, userIndex: number, extra: Record<string, unknown> = {}, port = server.port): Promise<AccountSetup> {
  const home = await makeHome()
  const user = server.users[userIndex]!
  const root = join(home, 'backup')
  await writeConfig(defaultConfigPath(home), {version: '2.2', accounts: [accountEntry({host: server.host, port}, user, root, extra)]})
  return {home, root, user}
}

export interface FolderFiles {
  mbox: string
  imap: string
  journal: string
}

export function folderFiles(root: string, folder: string): FolderFiles {
  const base = join(root, encodeFolderPath(folder))
  return {mbox: `${base}.mbox`, imap: `${base}.imap`, journal: `${base}.imap.journal`}
}

interface RawMetadata {
  version: number
  uid_validity: number
  messages: Array<{uid: number; offset: number; length: number; flags: string[]}>
}

/**
 * The folder as a reader finds it right after a run ended (no recovery run): no journal, the
 * `.imap` parses, its entries are back to back from offset 0, and the mbox ends exactly where
 * the last entry ends (docs/design.md I3). Returns the stored UIDs.
 */
export async function expectAtSavepoint(root: string, folder: string): Promise<number[]> {
  const files = folderFiles(root, folder)
  expect(existsSync(files.journal), `${files.journal} left behind`).toBe(false)
  const meta = JSON.parse(await readFile(files.imap, 'utf8')) as RawMetadata
  expect(meta.version).toBe(3)
  let end = 0
  for (const m of meta.messages) {
    expect(m.offset, `offset of UID ${m.uid} in ${files.imap}`).toBe(end)
    end += m.length
  }
  expect((await stat(files.mbox)).size, `size of ${files.mbox}`).toBe(end)
  return meta.messages.map((m) => m.uid)
}

/**
 * The backup of `folders` holds exactly what the server has: the same UIDs, and each message
 * byte for byte. Opens the account with a shared lock, so it also fails if a lock is still held.
 */
export async function expectBackupEqualsServer(server: ImapServer, user: TestUser, root: string, folders: readonly string[]): Promise<void> {
  for (const folder of folders) {
    const uids = await expectAtSavepoint(root, folder)
    expect(uids, `UIDs of ${folder}`).toEqual(await listUids(server, user, folder))
  }
  const store = await AccountStore.open(root, {mode: 'read', logger: silentLogger})
  try {
    for (const folder of folders) {
      const local = await store.folder(folder)
      const remote = await fetchMessages(server, user, folder)
      for (const message of remote) {
        const stored = await local.readMessage(message.uid)
        expect(stored.bytes.equals(message.raw), `${folder} UID ${message.uid} differs from the server`).toBe(true)
      }
    }
  } finally {
    await store.close()
  }
}

/** Files under `dir`, relative, sorted (directories end with '/'). */
export async function listTree(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return []
  const out: string[] = []
  const walk = async (at: string, prefix: string): Promise<void> => {
    for (const entry of await readdir(at, {withFileTypes: true})) {
      if (entry.isDirectory()) {
        out.push(`${prefix}${entry.name}/`)
        await walk(join(at, entry.name), `${prefix}${entry.name}/`)
      } else out.push(`${prefix}${entry.name}`)
    }
  }
  await walk(dir, '')
  return out.sort()
}

/** Every file under `dir` with its size and modification time, to prove nothing was touched. */
export async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const path of await listTree(dir)) {
    if (path.endsWith('/')) continue
    const info = await stat(join(dir, path))
    out.push(`${path} ${info.size} ${info.mtimeMs}`)
  }
  return out
}

/** Polls until `check` returns true (or throws after `timeoutMs`). */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Number of savepoints (`c` records) in a folder's journal so far; 0 when there is none. */
export async function journalSavepoints(root: string, folder: string): Promise<number> {
  try {
    const text = await readFile(folderFiles(root, folder).journal, 'utf8')
    return text.split('\n').filter((line) => line.startsWith('{"t":"c"')).length
  } catch {
    return 0
  }
}

/** Lines of the CLI's output for an assertion message. */
export function show(result: Pick<CliResult, 'code' | 'stdout' | 'stderr'>): string {
  return `exit ${result.code}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`
}
