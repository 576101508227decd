/**
 * Helpers of the `local` command tests: a real 0600 config, a backup made by the real engine
 * against the test Dovecot, what the store holds, imap-backup-style entries for handmade
 * folders, and file hashes to prove that a read-only command changed nothing.
 */
import {spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {mkdir, readdir, readFile, stat, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {loadConfig, type Config} from '../../src/config/index.js'
import {runBackup} from '../../src/engine/backup/backup.js'
import type {BackupReport} from '../../src/engine/backup/types.js'
import {AccountStore} from '../../src/store/account-store.js'
import {separatorLine} from '../../src/store/mboxrd/index.js'
import {silentContext} from '../../src/shared/context.js'
import {silentLogger} from '../../src/shared/logger.js'
import {CLI_PATH, recordTranscript, REPO_ROOT, runCli, type CliResult} from '../support/cli.js'
import {imapBackupBody} from '../support/imap-backup-format.js'

export const FAST_RETRY = {attempts: 1, baseDelayMs: 10, maxDelayMs: 20}

export {accountEntry} from '../support/account.js'

/** Writes `<home>/.mailkeep/config.json` (0600) and loads it as the CLI does. */
export async function writeConfig(home: string, accounts: Array<Record<string, unknown>>): Promise<Config> {
  const dir = join(home, '.mailkeep')
  await mkdir(dir, {recursive: true, mode: 0o700})
  const path = join(dir, 'config.json')
  await writeFile(path, JSON.stringify({version: '2.2', accounts}, null, 2), {mode: 0o600})
  return loadConfig(path)
}

export async function backup(config: Config): Promise<BackupReport> {
  return runBackup({config, refresh: false, retry: FAST_RETRY}, silentContext())
}

/** The CLI with HOME in the test's temp dir. */
export async function mailkeep(home: string, args: readonly string[]): Promise<CliResult> {
  return runCli(args, {env: {HOME: home, MAILKEEP_CONFIG: undefined}, timeoutMs: 120_000})
}

/** The CLI's stdout as bytes (runCli decodes it as UTF-8), for byte-exact `local show`. */
export async function mailkeepBytes(home: string, args: readonly string[]): Promise<{code: number | null; stdout: Buffer; stderr: string}> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = {...process.env, HOME: home, NO_COLOR: '1'}
    delete env['MAILKEEP_CONFIG']
    const child = spawn(process.execPath, [CLI_PATH, ...args], {cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe']})
    const out: Buffer[] = []
    let err = ''
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()))
    child.once('error', reject)
    child.once('close', (code, signal) => {
      const stdout = Buffer.concat(out)
      recordTranscript(CLI_PATH, args, {code, signal, stdout: stdout.toString('utf8'), stderr: err})
      resolve({code, stdout, stderr: err})
    })
  })
}

export function show(result: {code: number | null; stdout: string | Buffer; stderr: string}): string {
  return `exit ${result.code}\n--- stdout ---\n${result.stdout.toString()}\n--- stderr ---\n${result.stderr}`
}

export interface StoredMessage {
  uid: number
  flags: string[]
  bytes: Buffer
  exact: boolean
}

/** What the store holds for a folder (shared lock; read-only). */
export async function stored(root: string, folder: string): Promise<StoredMessage[]> {
  const store = await AccountStore.open(root, {mode: 'read', logger: silentLogger})
  try {
    const f = await store.folder(folder)
    const out: StoredMessage[] = []
    for (const m of f.messages) {
      const {bytes, exact} = await f.readMessage(m.uid)
      out.push({uid: m.uid, flags: [...m.flags].sort(), bytes, exact})
    }
    return out
  } finally {
    await store.close()
  }
}

/**
 * sha256 of every backup file under `dir` (relative path → hash). The account's lock file is left
 * out: a writer creates it and clears its pid when it ends; it holds no backup data.
 */
export async function hashTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const name of (await readdir(dir, {recursive: true})).sort()) {
    if (name === '.mailkeep.lock') continue
    const path = join(dir, name)
    if ((await stat(path)).isFile()) out[name] = createHash('sha256').update(await readFile(path)).digest('hex')
  }
  return out
}

/**
 * The entry imap-backup writes for a message (test/support/imap-backup-format.ts), with the
 * separator line both tools compute from the header block.
 */
export function imapBackupEntry(raw: Buffer): Buffer {
  const end = /\r?\n\r?\n/.exec(raw.toString('latin1'))
  return Buffer.concat([separatorLine(end === null ? raw : raw.subarray(0, end.index)), imapBackupBody(raw)])
}
