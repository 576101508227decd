/**
 * One server set and the sandbox of one sequence: a real server (Dovecot, Cyrus or Courier,
 * started once per test file and reused by every sequence), two of its users (A, the account
 * that is backed up; B, the other account restore --to, copy, mirror and migrate upload to), a
 * private HOME with the config file, and the two accounts' `local_path`s.
 *
 * mailkeep runs two ways (docs/testing.md, "The sequence test"):
 *  - in process (`engine`): the engine function the command calls, on the config file loaded as
 *    the CLI loads it. Most runs go this way: no Node start-up per run (about a second on the
 *    test VM), which is what makes thousands of sequences affordable;
 *  - as the real CLI (`cli`, `kill`, `int`): where a real process matters: `kill -9` and SIGINT
 *    at a random moment, exit statuses as a user sees them.
 * After a run that did not end by itself, the backup is opened for writing once, as the next
 * command would open it (recovery on open, docs/design.md), so that every check reads a backup
 * at rest.
 */
import {lstat, mkdir, readdir, rm} from 'node:fs/promises'
import {join, relative, sep} from 'node:path'
import {loadConfig} from '../../src/config/index.js'
import {runBackup} from '../../src/engine/backup/backup.js'
import {ignoreHistory} from '../../src/engine/backup/ignore-history.js'
import {checkAccounts} from '../../src/engine/inspect/local-check.js'
import {repairAccount} from '../../src/engine/repair/repair.js'
import {runRestore} from '../../src/engine/upload/restore.js'
import {runTransfer} from '../../src/engine/upload/copy.js'
import {silentContext} from '../../src/shared/context.js'
import {silentLogger} from '../../src/shared/logger.js'
import {AccountStore} from '../../src/store/account-store.js'
import {accountEntry} from '../support/account.js'
import {runCli, spawnCli, type CliResult} from '../support/cli.js'
import type {TestUser} from '../support/dovecot.js'
import {openSession} from '../support/mail-seed.js'
import {formatInternalDate, mailboxArg, type RawImapClient} from '../support/raw-imap.js'
import type {SeedMessage} from '../support/mail-seed.js'
import type {TestServer} from '../support/servers.js'
import {makeTempDir, removeTempDir} from '../support/temp-dir.js'
import {writeConfig} from '../reliability/lib/env.js'
import {readBackup, type BackupReading} from './backup-reader.js'
import {viewAccount, type AccountView} from './server-view.js'

/** Errors after which a cached session is replaced and the work done again once. */
const SESSION_GONE = /connection closed|no answer within|ECONNRESET|EPIPE/i

export type Selection = {mode: 'all'} | {mode: 'list' | 'blacklist'; names: string[]}

export type Via = 'engine' | 'cli' | 'kill' | 'int'

export type Command = 'backup' | 'restore' | 'copy' | 'mirror' | 'migrate' | 'repair' | 'ignore-history'

export interface Invocation {
  command: Command
  refresh?: boolean
  /** restore: 'own' server, or 'B' (--to). */
  to?: 'own' | 'B'
  /** repair: one folder (default: every folder local check finds something wrong with). */
  folder?: string
  /** backup: the accounts (default A). */
  accounts?: string[]
}

export interface RunResult {
  via: Via
  /** The command ran to its end by itself: its exit status (and report, when JSON) are known. */
  completed: boolean
  exitCode: number | null
  signal: string | null
  report: unknown
  /** For a kill or a signal: whether it landed while the command worked (after its first log line). */
  landed: boolean
  seconds: number
  /** Paths (relative to the sandbox) the run created, changed or removed. */
  written: string[]
  /** What a CLI run printed (for a violation's message). */
  output: string
}

export interface Snapshot {
  A: AccountView
  B: AccountView
  backup: BackupReading
}

/** A file's identity and contents as far as "was it written?" needs: size, mtime, inode, mode. */
type Tree = Map<string, string>

/** One finding of `local check` over A (`localCheck`), as S9 reads it. */
export interface CheckFinding {
  folder: string
  severity: string
  code: string
  message: string
}

export class World {
  /** The pair of users of the current sequence (`begin`): A is backed up, B receives uploads. */
  A: TestUser
  B: TestUser
  dir = ''
  home = ''
  rootA = ''
  rootB = ''
  configPath = ''
  mirror = false
  selection: Selection = {mode: 'all'}
  strategy = 'delay_metadata'
  /** Overrides of account A's entry (a password command, a wrong port) while a step needs them. */
  overrideA: Record<string, unknown> = {}
  /** Account B's local_path, when a step moves it (nested paths). */
  rootBOverride: string | undefined

  /**
   * One raw session per user, kept across steps and sequences: a login costs about 0.1 s on
   * Courier (a process per connection), and a step would otherwise make several. Nothing stays
   * selected between uses (`deselect`), so a session never holds a folder a step deletes.
   */
  private readonly sessions = new Map<string, RawImapClient>()

  /**
   * The emptying of each pair of users, started when a sequence on it ends and awaited before
   * the next sequence on it begins: it runs while a sequence on the other pair does (Courier
   * spends 2 s on every DELETE).
   */
  private readonly resets = new Map<number, Promise<void>>()
  private pair = 0

  constructor(readonly server: TestServer) {
    this.A = server.users[0]!
    this.B = server.users[1]!
  }

  /** How many pairs of users the server offers (each sequence uses one, `begin`). */
  get pairs(): number {
    return Math.max(1, Math.floor(this.server.users.length / 2))
  }

  /** A fresh sandbox, and users `2 × pair` (A) and `2 × pair + 1` (B) with empty accounts. */
  async begin(strategy: string, pair = 0): Promise<void> {
    this.pair = pair % this.pairs
    this.A = this.server.users[2 * this.pair]!
    this.B = this.server.users[2 * this.pair + 1]!
    await (this.resets.get(this.pair) ?? Promise.all([this.emptyAccount(this.A), this.emptyAccount(this.B)]))
    this.resets.delete(this.pair)
    this.dir = await makeTempDir('mailkeep-seq-')
    this.home = join(this.dir, 'home')
    this.rootA = join(this.dir, 'home', 'backup-a')
    this.rootB = join(this.dir, 'home', 'backup-b')
    await mkdir(join(this.dir, 'tmp'), {recursive: true, mode: 0o700})
    await mkdir(join(this.dir, 'own'), {recursive: true, mode: 0o700})
    this.mirror = false
    this.selection = {mode: 'all'}
    this.strategy = strategy
    this.overrideA = {}
    this.rootBOverride = undefined
    await this.writeConfig()
  }

  /** Ends the sequence: its sandbox removed (unless `keep`), its users emptied in the background. */
  async end(keep: boolean): Promise<void> {
    const [A, B] = [this.A, this.B]
    if (!this.resets.has(this.pair)) {
      const reset = Promise.all([this.emptyAccount(A), this.emptyAccount(B)]).then(() => undefined)
      reset.catch(() => undefined)
      this.resets.set(this.pair, reset)
    }
    if (keep) return
    await removeTempDir(this.dir).catch(() => undefined)
  }

  async writeConfig(): Promise<void> {
    const selection: Record<string, unknown> =
      this.selection.mode === 'all' ? {} : {folders: this.selection.names, ...(this.selection.mode === 'blacklist' ? {folder_blacklist: true} : {})}
    this.configPath = await writeConfig(this.home, {
      accounts: [
        accountEntry(this.server, this.A, this.rootA, {...(this.mirror ? {mirror_mode: true} : {}), ...selection, ...this.overrideA}),
        accountEntry(this.server, this.B, this.rootBOverride ?? this.rootB),
      ],
      download_strategy: this.strategy,
    })
  }

  /** Runs `fn` on the user's cached session; a session the server dropped is replaced and `fn` run again. */
  async imap<T>(user: TestUser, fn: (c: RawImapClient) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let c = this.sessions.get(user.user)
      if (c === undefined) {
        c = await openSession(this.server, user)
        this.sessions.set(user.user, c)
      }
      try {
        const result = await fn(c)
        await deselect(c)
        return result
      } catch (error) {
        if (attempt > 0 || !SESSION_GONE.test(String(error))) {
          await deselect(c).catch(() => undefined)
          throw error
        }
        c.close()
        this.sessions.delete(user.user)
      }
    }
  }

  async closeSessions(): Promise<void> {
    await Promise.all(this.resets.values()).catch(() => undefined)
    for (const c of this.sessions.values()) await c.logout()
    this.sessions.clear()
  }

  /** APPEND of each message (flags, INTERNALDATE), one command each: every server takes that. */
  async append(user: TestUser, folder: string, messages: readonly SeedMessage[]): Promise<void> {
    await this.imap(user, async (c) => {
      for (const m of messages) {
        const head = `APPEND ${mailboxArg(folder)} (${(m.flags ?? []).join(' ')})${m.internalDate === undefined ? '' : ` ${formatInternalDate(m.internalDate)}`} `
        await c.command([head, m.raw])
      }
    })
  }

  /**
   * Deletes every folder but INBOX and empties INBOX. The DELETEs go out on sessions of their own
   * side by side, in rounds until none is left (a server may refuse a parent before its
   * children): Courier takes 2 s for each, whatever the folder holds.
   */
  async emptyAccount(user: TestUser): Promise<void> {
    for (let round = 0; round < 4; round++) {
      const names = await this.imap(user, async (c) => {
        const listed = await c.command('LIST "" "*"')
        return listed.untagged
          .filter((r) => r.kind === 'LIST')
          .map((r) => (Buffer.isBuffer(r.values[2]) ? r.values[2].toString('utf8') : String(r.values[2])))
          .filter((n) => n.toUpperCase() !== 'INBOX')
      })
      if (names.length === 0) break
      await Promise.all(
        names.map(async (name) => {
          const c = await openSession(this.server, user)
          try {
            await c.command(`DELETE "${name.replace(/[\\"]/g, (ch) => `\\${ch}`)}"`).catch(() => undefined)
          } finally {
            await c.logout()
          }
        }),
      )
    }
    await this.imap(user, async (c) => {
      const inbox = await c.command('SELECT INBOX')
      if ((inbox.untagged.find((r) => r.kind === 'EXISTS')?.number ?? 0) > 0) {
        await c.command('STORE 1:* +FLAGS.SILENT (\\Deleted)')
        await c.command('EXPUNGE')
      }
    })
  }

  /**
   * Both accounts and the backup as they are now. With `reuse`, an account the step cannot have
   * changed (`fresh` says which to read again) is taken from the previous snapshot: after a
   * server operation on A, B is not read; after a config change, neither. Every run of mailkeep
   * reads both, so that a write to the wrong account is seen.
   */
  async snapshot(reuse?: Snapshot, fresh: {A: boolean; B: boolean} = {A: true, B: true}): Promise<Snapshot> {
    const [A, B, backup] = await Promise.all([
      reuse === undefined || fresh.A ? this.imap(this.A, viewAccount) : reuse.A,
      reuse === undefined || fresh.B ? this.imap(this.B, viewAccount) : reuse.B,
      readBackup(this.rootA),
    ])
    return {A, B, backup}
  }

  /** `mailkeep local check`'s engine over account A: every finding. */
  async localCheck(): Promise<CheckFinding[]> {
    const config = await loadConfig(this.configPath)
    const result = await checkAccounts({config, accounts: [this.A.user]}, silentContext())
    return result.flatMap((a) => a.folders.flatMap((f) => f.findings.map((x) => ({folder: f.name, severity: x.severity, code: x.code, message: x.message}))))
  }

  /** Opens every folder of A's backup for writing once: what the next command's open would recover. */
  async recover(): Promise<string[]> {
    const problems: string[] = []
    try {
      await lstat(this.rootA)
    } catch {
      return problems
    }
    const store = await AccountStore.open(this.rootA, {mode: 'write', logger: silentLogger})
    try {
      for (const f of await store.listFolders()) {
        try {
          const folder = await store.folder(f.name)
          await folder.close()
        } catch (error) {
          problems.push(`local folder '${f.name}' cannot be opened after the interrupted run: ${String(error)}`)
        }
      }
    } finally {
      await store.close()
    }
    return problems
  }

  // --- running mailkeep --------------------------------------------------------------------------

  async run(invocation: Invocation, via: Via, killDelayMs: number, deadlineMs = 120_000): Promise<RunResult> {
    const before = await this.tree()
    const started = Date.now()
    const result = via === 'engine' ? await this.runEngine(invocation, deadlineMs) : await this.runCli(invocation, via, killDelayMs, deadlineMs)
    result.seconds = (Date.now() - started) / 1000
    result.written = diffTrees(before, await this.tree())
    return result
  }

  private async runEngine(inv: Invocation, deadlineMs: number): Promise<RunResult> {
    // At the deadline the run is asked to stop, as the CLI asks it on SIGTERM; a run that does
    // not stop then leaves this process in a state no later step can trust: the test fails.
    const abort = new AbortController()
    const ctx = silentContext({signal: abort.signal})
    const base = {via: 'engine' as const, completed: true, signal: null, landed: false, seconds: 0, written: [], output: ''}
    let report: {exitCode: number}
    let late = false
    const timer = setTimeout(() => {
      late = true
      abort.abort(new Error(`the run passed its deadline of ${deadlineMs / 1000} s`))
    }, deadlineMs)
    try {
      // Loaded as the CLI loads it: a config it refuses (exit 3) is that run's outcome.
      const config = await loadConfig(this.configPath)
      const running = this.engineCall(inv, config, ctx)
      report = await Promise.race([
        running,
        new Promise<never>((_, reject) =>
          abort.signal.addEventListener('abort', () => setTimeout(() => reject(new Error(`an in-process ${inv.command} did not stop within 15 s of being aborted at its deadline`)), 15_000)),
        ),
      ])
      if (late) return {...base, completed: false, signal: 'deadline', exitCode: report.exitCode, report}
    } catch (error) {
      if (late) return {...base, completed: false, signal: 'deadline', exitCode: null, report: undefined, output: String(error)}
      // An expected error (a config mistake, a lock) is what the CLI prints with its exit code.
      const code = (error as {exitCode?: number}).exitCode
      if (typeof code !== 'number') throw error
      return {...base, exitCode: code, report: undefined, output: String(error)}
    } finally {
      clearTimeout(timer)
    }
    return {...base, exitCode: report.exitCode, report}
  }

  private async engineCall(inv: Invocation, config: Awaited<ReturnType<typeof loadConfig>>, ctx: ReturnType<typeof silentContext>): Promise<{exitCode: number}> {
    switch (inv.command) {
      case 'backup':
        return runBackup({config, refresh: inv.refresh === true, accounts: inv.accounts ?? [this.A.user]}, ctx)
      case 'restore':
        return runRestore({config, account: this.A.user, ...(inv.to === 'B' ? {to: this.B.user} : {})}, ctx)
      case 'copy':
      case 'mirror':
      case 'migrate':
        return runTransfer({command: inv.command, config, source: this.A.user, destination: this.B.user}, ctx)
      case 'repair':
        return repairAccount({config, account: this.A.user, dryRun: false, ...(inv.folder === undefined ? {} : {folder: inv.folder})}, ctx)
      case 'ignore-history':
        // Its report carries the exit code: 4 when a folder failed on its own.
        return ignoreHistory({config, email: this.A.user}, ctx)
    }
  }

  cliArgs(inv: Invocation): string[] {
    switch (inv.command) {
      case 'backup':
        return ['backup', '--accounts', (inv.accounts ?? [this.A.user]).join(','), ...(inv.refresh === true ? ['--refresh'] : []), '--json']
      case 'restore':
        return ['restore', this.A.user, ...(inv.to === 'B' ? ['--to', this.B.user] : []), '--json']
      case 'copy':
      case 'mirror':
      case 'migrate':
        return [inv.command, this.A.user, this.B.user, '--json']
      case 'repair':
        return ['local', 'repair', this.A.user, ...(inv.folder === undefined ? [] : [inv.folder]), '--json']
      case 'ignore-history':
        return ['utils', 'ignore-history', this.A.user, '--json']
    }
  }

  private async runCli(inv: Invocation, via: Via, killDelayMs: number, deadlineMs: number): Promise<RunResult> {
    const args = this.cliArgs(inv)
    const cli = spawnCli(args, {env: {HOME: this.home, MAILKEEP_CONFIG: undefined, TMPDIR: join(this.dir, 'tmp')}})
    let landed = false
    let timedOut = false
    const deadline = setTimeout(() => {
      timedOut = true
      cli.kill('SIGKILL')
    }, deadlineMs)
    if (via === 'kill' || via === 'int') {
      // A moment after the command has begun its work (its first log line), so that most kills
      // land in the middle of something rather than while Node starts.
      void cli
        .waitForLine('stderr', /\S/, deadlineMs)
        .then(
          () => new Promise((resolve) => setTimeout(resolve, killDelayMs)),
          () => undefined,
        )
        .then(() => {
          if (cli.child.exitCode === null && cli.child.signalCode === null) {
            landed = true
            cli.kill(via === 'kill' ? 'SIGKILL' : 'SIGINT')
          }
        })
    }
    let result: CliResult
    try {
      result = await cli.exited
    } finally {
      clearTimeout(deadline)
    }
    const output = `${result.stdout.slice(-3000)}\n--- stderr ---\n${result.stderr.slice(-3000)}`
    if (timedOut) return {via, completed: false, exitCode: null, signal: 'deadline', report: undefined, landed, seconds: 0, written: [], output}
    let report: unknown
    try {
      report = JSON.parse(result.stdout)
    } catch {
      report = undefined
    }
    // A SIGINT the command answered in time ends it with 130 and a report of what was done: not
    // a completed run. A command that finished before the signal landed is one.
    const completed = result.signal === null && !(landed && result.code === 130)
    return {via, completed, exitCode: result.code, signal: result.signal, report, landed, seconds: 0, written: [], output}
  }

  /** `mailkeep local check` as a real process: its exit status, or 'deadline' when it had to be killed. */
  async runCheckCli(deadlineMs: number): Promise<number | 'deadline'> {
    try {
      const result = await runCli(['local', 'check', '--accounts', this.A.user], {env: {HOME: this.home, MAILKEEP_CONFIG: undefined, TMPDIR: join(this.dir, 'tmp')}, timeoutMs: deadlineMs})
      return result.code ?? -1
    } catch (error) {
      // runCli rejects only when it had to kill the command at the deadline (or could not start it).
      if (/timed out/.test(String(error))) return 'deadline'
      throw error
    }
  }

  // --- the sandbox tree -----------------------------------------------------------------------

  /** Every path under the sandbox with size, mtime, inode and mode; the config file is the test's own. */
  async tree(): Promise<Tree> {
    const out: Tree = new Map()
    const walk = async (dir: string): Promise<void> => {
      let names: string[]
      try {
        names = await readdir(dir)
      } catch {
        return
      }
      for (const name of names) {
        const path = join(dir, name)
        const info = await lstat(path).catch(() => undefined)
        if (info === undefined) continue
        const rel = relative(this.dir, path).split(sep).join('/')
        // The config file and `own/` are the test's: it writes them itself (the password
        // command's pid file, a file set aside while a FIFO takes its place).
        if (rel === 'home/.mailkeep/config.json' || rel === 'own' || rel.startsWith('own/')) continue
        out.set(rel, info.isDirectory() ? 'dir' : `${info.size}:${info.mtimeMs}:${info.ino}:${info.mode}`)
        if (info.isDirectory()) await walk(path)
      }
    }
    await walk(this.dir)
    return out
  }

  rel(path: string): string {
    return relative(this.dir, path).split(sep).join('/')
  }

  async removeTree(path: string): Promise<void> {
    await rm(path, {recursive: true, force: true})
  }
}

export function diffTrees(before: Tree, after: Tree): string[] {
  const out: string[] = []
  for (const [path, sig] of after) if (before.get(path) !== sig) out.push(path)
  for (const path of before.keys()) if (!after.has(path)) out.push(path)
  return out.sort()
}

/**
 * Leaves the session with no folder selected: UNSELECT (RFC 3691), or on a server without it
 * (Courier) EXAMINE then CLOSE, which on a read-only selection removes nothing (RFC 3501
 * §6.4.2). A CLOSE of a read-write selection would expunge; an EXAMINEd INBOX left selected makes
 * Courier refuse APPEND to it ("Current box is selected READ-ONLY").
 */
async function deselect(c: RawImapClient): Promise<void> {
  if (c.capabilities.has('UNSELECT')) {
    // Refused by some servers when nothing is selected: that is the state wanted.
    await c.command('UNSELECT').catch(() => undefined)
    return
  }
  await c.command('EXAMINE INBOX')
  await c.command('CLOSE')
}
