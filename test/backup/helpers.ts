/**
 * Helpers of the backup engine's tests (test/backup/*.test.ts): a real config file (mode 0600)
 * loaded with loadConfig, runBackup with a silent or recording context, and checks of a local
 * folder against what the server returns for BODY.PEEK[].
 */
import {stat, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {expect} from 'vitest'
import {loadConfig, type AccountFile, type Config, type ConfigFile} from '../../src/config/index.js'
import {runBackup} from '../../src/engine/backup/backup.js'
import type {BackupOptions, BackupReport, FolderReport} from '../../src/engine/backup/types.js'
import {AccountStore} from '../../src/store/account-store.js'
import {toStoredFlags} from '../../src/store/flags.js'
import {silentContext, type RunContext} from '../../src/shared/context.js'
import {memoryLogger, silentLogger, type MemoryLogger} from '../../src/shared/logger.js'
import type {TestUser} from '../support/dovecot.js'
export {accountFile} from '../support/account.js'
import {fetchMessages, type ImapServer} from '../support/mail-seed.js'
import type {TcpProxy} from '../support/tcp-proxy.js'

/** Fast retries for tests: the policy's shape, not its production delays. */
export const FAST_RETRY = {attempts: 4, baseDelayMs: 20, maxDelayMs: 100}

/** Writes `<dir>/config.json` (mode 0600) and loads it as the CLI would. */
export async function makeConfig(dir: string, accounts: AccountFile[], top: Partial<ConfigFile> = {}): Promise<Config> {
  const path = join(dir, 'config.json')
  const file: ConfigFile = {version: '2.2', accounts, ...top}
  await writeFile(path, JSON.stringify(file, null, 2), {mode: 0o600})
  return loadConfig(path)
}

export async function backup(config: Config, options: Partial<BackupOptions> = {}, ctx: RunContext = silentContext()): Promise<BackupReport> {
  return runBackup({config, refresh: false, retry: FAST_RETRY, ...options}, ctx)
}

/** runBackup with a memory logger, for tests that look at what was logged. */
export async function backupLogged(config: Config, options: Partial<BackupOptions> = {}): Promise<{report: BackupReport; log: MemoryLogger}> {
  const log = memoryLogger()
  const report = await backup(config, options, silentContext({logger: log}))
  return {report, log}
}

export function folderReport(report: BackupReport, folder: string, account?: string): FolderReport {
  const accounts = account === undefined ? report.accounts : report.accounts.filter((a) => a.account === account)
  const found = accounts.flatMap((a) => a.folders).find((f) => f.folder === folder)
  if (found === undefined) throw new Error(`no report for folder '${folder}': ${JSON.stringify(report, null, 1)}`)
  return found
}

export interface LocalMessage {
  uid: number
  offset: number
  length: number
  flags: string[]
  bytes: Buffer
  exact: boolean
}

export interface LocalFolderSnapshot {
  exists: boolean
  uidValidity: number | undefined
  uidNext: number | undefined
  highestModseq: string | undefined
  messages: LocalMessage[]
  mboxSize: number
}

/** What a folder of the backup holds, read through the store (shared lock). */
export async function readLocalFolder(root: string, folder: string): Promise<LocalFolderSnapshot> {
  const store = await AccountStore.open(root, {mode: 'read', logger: silentLogger})
  try {
    const f = await store.folder(folder)
    if (!f.exists) return {exists: false, uidValidity: undefined, uidNext: undefined, highestModseq: undefined, messages: [], mboxSize: 0}
    const messages: LocalMessage[] = []
    for (const m of f.messages) {
      const {bytes, exact} = await f.readMessage(m.uid)
      messages.push({uid: m.uid, offset: m.offset, length: m.length, flags: [...m.flags], bytes, exact})
    }
    const mboxSize = (await stat(f.paths.mbox)).size
    return {exists: true, uidValidity: f.uidValidity, uidNext: f.serverState.uidNext, highestModseq: f.serverState.highestModseq, messages, mboxSize}
  } finally {
    await store.close()
  }
}

/** Offsets follow each other from 0, the mbox ends with the last entry, UIDs are unique. */
export function expectConsistent(snapshot: LocalFolderSnapshot): void {
  let offset = 0
  for (const m of snapshot.messages) {
    expect(m.offset, `offset of UID ${m.uid}`).toBe(offset)
    offset += m.length
  }
  expect(snapshot.mboxSize).toBe(offset)
  const uids = snapshot.messages.map((m) => m.uid)
  expect(new Set(uids).size, 'duplicate UIDs').toBe(uids.length)
}

const sorted = (flags: readonly string[]): string[] => [...flags].sort()

/**
 * The local folder holds exactly the server's messages: the same UIDs once each, ascending, byte
 * for byte what BODY.PEEK[] returns, and (unless `flags: false`) the same flags.
 */
export async function expectBackupEqualsServer(
  server: ImapServer,
  user: TestUser,
  root: string,
  folder: string,
  options: {flags?: boolean} = {},
): Promise<LocalFolderSnapshot> {
  const remote = await fetchMessages(server, user, folder)
  const local = await readLocalFolder(root, folder)
  expect(local.exists, `local folder '${folder}' exists`).toBe(true)
  expectConsistent(local)
  expect(local.messages.map((m) => m.uid)).toEqual(remote.map((m) => m.uid))
  for (const [i, r] of remote.entries()) {
    const l = local.messages[i]!
    expect(l.exact, `UID ${r.uid} stored with an exactness record`).toBe(true)
    if (!l.bytes.equals(r.raw)) expect.fail(`UID ${r.uid} in '${folder}' differs from the server (${l.bytes.length} vs ${r.raw.length} bytes)`)
    if (options.flags !== false) expect(sorted(l.flags), `flags of UID ${r.uid}`).toEqual(sorted(toStoredFlags(r.flags)))
  }
  return local
}

/** Client commands seen by the proxy since its last resetStats(), by name. */
export function commandCount(proxy: TcpProxy, name: string, pattern?: RegExp): number {
  return proxy.commands.filter((c) => c.name === name && (pattern === undefined || pattern.test(c.line))).length
}

/** The UID FETCH commands that ask for bodies (not FLAGS-only or size-only ones). */
export function bodyFetches(proxy: TcpProxy): string[] {
  return proxy.commands.filter((c) => c.name === 'UID FETCH' && /BODY(\.PEEK)?\[/i.test(c.line)).map((c) => c.line)
}

/** A short human summary of the commands (for assertion messages). */
export function commandSummary(proxy: TcpProxy): string {
  return proxy.commands.map((c) => c.line.slice(c.tag.length + 1, 90)).join('\n')
}
